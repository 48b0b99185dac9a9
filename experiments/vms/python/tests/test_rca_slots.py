"""The rca-patched CPython's counts and slots (cpython-rca.patch), run by each patched variant.

ctest runs it as <build>/cpython/<variant>/build/python test_rca_slots.py. It checks semantics
only: counts as CPython defines them, the slot accounting (also at exit, after finalization),
frozen counts, where object memory comes from, and that every way an object dies (plain, free
list, resize, resurrection, legacy tp_del resurrection, trashcan, cycles) gives its slot back.
The computed variant has no slots (a count lives and dies with its block): the slot accounting
is left out there, the rest runs.
"""
import gc
import os
import re
import subprocess
import sys
import unittest
import weakref

import _rca
import _testcapi

COMPUTED = _rca.handle == "none"
no_slots = unittest.skipIf(COMPUTED, "computed: no slots, the count goes with the block")


def live():
    return _rca.stats()["live_slots"]


def baseline():
    """live() to compare a later live() with. The type attribute cache holds a reference to each
    cached name and drops it when another lookup takes the entry, which depends on the names'
    hashes (PYTHONHASHSEED): a name only the cache still held died inside a test for one seed in
    a dozen. Emptied first, the cache holds only names that live code holds too."""
    sys._clear_type_cache()
    return live()


# The int a test keeps from live() is itself an object with a slot.
BEFORE = 1


class Resurrector:
    saved = []
    deleted = 0

    def __del__(self):
        Resurrector.deleted += 1
        Resurrector.saved.append(self)


class Node:
    def __init__(self, other=None):
        self.other = other


def workload(n):
    """Objects of many kinds that die every way CPython has."""
    keep = 0
    for i in range(n):
        t = (i, str(i), float(i))  # tuple, str and float free lists
        lst = [t, [i]] * 2
        d = {"a": lst, i: t}
        s = "x" * (i % 7) + str(i)  # str resize in place
        b = bytes(i % 5) + b"y"
        sl = slice(i, i + 1)
        g = (x for x in lst)
        next(g)
        e = ValueError(i)
        keep += len(d) + len(s) + len(b) + sl.start - i + isinstance(e, Exception)
        a = Node()
        a.other = Node(a)  # a cycle: freed by the collector
    gc.collect()
    return keep


class Accounting(unittest.TestCase):
    def test_variant(self):
        self.assertIn(_rca.handle, ("index", "pointer", "none"))
        counts = {"index": "idx", "pointer": "ptr", "none": "computed"}[_rca.handle]
        self.assertEqual(_rca.variant.split("-")[0], counts)
        self.assertEqual(_rca.variant.split("-")[1], "freeze" if _rca.freeze_check else "nofreeze")
        if COMPUTED:
            self.assertEqual(_rca.placement, "computed")
            self.assertEqual(_rca.backend, "rca")
        else:
            self.assertIn(_rca.placement, ("shared", "thread", "padded"))
        rcamem = _rca.variant.endswith("-rcamem") or COMPUTED
        self.assertEqual(_rca.object_memory, "rca" if rcamem else "pymalloc")

    def test_object_memory(self):
        # The allocator in use (PYTHONMALLOC is not set by the test) and who holds new objects.
        self.assertEqual(_testcapi.pymem_getallocatorsname(), _rca.object_memory)
        before = _rca.stats()["object_bytes"]
        keep = [[i] for i in range(10000)]
        grown = _rca.stats()["object_bytes"] - before
        if _rca.object_memory == "rca":
            self.assertGreaterEqual(grown, 10000 * (sys.getsizeof([0]) + 8))
        else:
            self.assertEqual(_rca.stats()["object_bytes"], 0)  # pymalloc's, not rca's
        del keep

    @no_slots
    def test_live_slots_are_taken_minus_returned(self):
        s = _rca.stats()
        self.assertEqual(s["live_slots"],
                         s["slots_taken"] - s["slots_returned"] + s["reserved_slots"])

    @no_slots
    def test_no_slot_leak(self):
        workload(2000)  # warm the caches (interned strings, method cache, free lists)
        before = baseline()
        self.assertEqual(workload(20000), workload(20000))
        # Exact: every object the workload made died and gave its slot back.
        self.assertEqual(live(), before + BEFORE)

    def test_new_object_takes_a_slot(self):
        before = _rca.stats()["slots_taken"]
        x = [object() for _ in range(1000)]
        self.assertGreaterEqual(_rca.stats()["slots_taken"] - before, 1001)
        del x


class Counts(unittest.TestCase):
    # Exact slot counts: garbage of earlier tests (cycles) must not be collected in between.
    def setUp(self):
        gc.collect()
        gc.disable()

    def tearDown(self):
        gc.enable()

    def test_getrefcount(self):
        x = object()
        c = sys.getrefcount(x)
        y = x
        self.assertEqual(sys.getrefcount(x), c + 1)
        del y
        self.assertEqual(sys.getrefcount(x), c)

    def test_static_objects(self):
        c = sys.getrefcount(None)
        n = [None] * 1000
        if _rca.freeze_check:
            # None, True, small ints, static types share the reserved frozen slot.
            self.assertGreaterEqual(c, 2 ** 31)
            self.assertEqual(sys.getrefcount(None), c)
            self.assertEqual(sys.getrefcount(True), c)
            self.assertEqual(sys.getrefcount(int), c)
        else:
            # A count shared by every static object, started at 2^30: it moves, never reaches
            # zero. Other static objects' references come and go between the two reads.
            self.assertGreater(c, 2 ** 29)
            self.assertLess(abs(sys.getrefcount(None) - (c + 1000)), 20)
        del n

    def test_resurrection(self):
        Resurrector.saved.clear()
        Resurrector.deleted = 0
        before = baseline()
        r = Resurrector()
        rid = id(r)
        del r
        self.assertEqual(Resurrector.deleted, 1)
        self.assertEqual(id(Resurrector.saved[0]), rid)
        del rid
        self.assertEqual(sys.getrefcount(Resurrector.saved[0]), 2)
        if not COMPUTED:
            self.assertEqual(live(), before + BEFORE + 1)  # still alive: its slot is kept
        Resurrector.saved.clear()  # PEP 442: __del__ is not called again
        self.assertEqual(Resurrector.deleted, 1)
        if not COMPUTED:
            self.assertEqual(live(), before + BEFORE)

    def test_legacy_tp_del_resurrection(self):
        # _testcapi's tp_del (the pre-PEP 442 protocol) resurrects the object in its own code:
        # it keeps its slot, and gives it back when it dies for good.
        @_testcapi.with_tp_del
        class Legacy:
            saved = []
            calls = 0

            def __tp_del__(self):
                Legacy.calls += 1
                if Legacy.calls == 1:
                    Legacy.saved.append(self)

        Legacy.calls = 2
        Legacy()  # warm up (the class's caches)
        Legacy.calls = 0
        before = baseline()
        Legacy()
        self.assertEqual(Legacy.calls, 1)
        self.assertEqual(len(Legacy.saved), 1)
        self.assertEqual(sys.getrefcount(Legacy.saved[0]), 2)
        if not COMPUTED:
            self.assertEqual(live(), before + BEFORE + 1)
        Legacy.saved.clear()
        self.assertEqual(Legacy.calls, 2)
        if not COMPUTED:
            self.assertEqual(live(), before + BEFORE)

    def test_trashcan(self):
        def nest():
            x = []
            for _ in range(100000):
                x = [x, (x,)]  # deep enough for the trashcan to defer deallocations
            return len(x)
        nest()
        before = baseline()
        self.assertEqual(nest(), 2)
        if not COMPUTED:
            self.assertEqual(live(), before + BEFORE)

    def test_weakref_callback(self):
        class C:
            pass
        seen = []
        c = C()
        w = weakref.ref(c, lambda ref: seen.append(ref))
        del c
        self.assertEqual(seen, [w])
        self.assertIsNone(w())


EXIT_CHILD = r"""
import sys
sys.path.insert(0, {here!r})
from test_rca_slots import workload
workload({n})
"""


def exit_stats(n):
    """The patch's one line of slot accounting after Py_FinalizeEx, for a run of workload(n)."""
    here = os.path.dirname(os.path.abspath(__file__))
    r = subprocess.run([sys.executable, "-c", EXIT_CHILD.format(here=here, n=n)],
                       capture_output=True, text=True,
                       env=dict(os.environ, RCA_PYTHON_EXIT_STATS="1"))
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    m = re.search(r"rca-python exit: live_slots (\d+) slots_taken (\d+) slots_returned (\d+) "
                  r"reserved_slots (\d+)", r.stderr)
    if m is None:
        raise AssertionError("no exit line in " + repr(r.stderr))
    return [int(g) for g in m.groups()]


class AtExit(unittest.TestCase):
    @no_slots
    def test_live_slots_at_exit_do_not_grow_with_the_work_done(self):
        # After finalization the live slots are those of the objects CPython leaves alive at
        # exit (the unpatched build leaves the same objects): as many after 20000 rounds of the
        # workload as after 200, and every slot taken and not returned is one of them.
        small = exit_stats(200)
        large = exit_stats(20000)
        for live_slots, taken, returned, reserved in (small, large):
            self.assertEqual(live_slots, taken - returned + reserved)
        self.assertGreater(large[1] - small[1], 20000 * 10)  # the work did take slots
        self.assertEqual(large[0], small[0])


FREEZE_CHILD = r"""
import gc, sys, _rca
objs = [[i] for i in range(1000)]
c = sys.getrefcount(objs[5])
gc.freeze()
n = _rca.freeze()
assert n >= 1000, n
frozen = sys.getrefcount(objs[5])
assert frozen >= 2 ** 31, frozen
more = [objs[5]] * 10
assert sys.getrefcount(objs[5]) == frozen
del more, objs  # frozen objects never die
fresh = [1.5]
assert sys.getrefcount(fresh) == 2  # objects made after the sweep count as usual
print("ok", n)
"""


class Freeze(unittest.TestCase):
    # In a child: every live count of the process is frozen, the test runner's included.
    def test_freeze(self):
        import subprocess
        r = subprocess.run([sys.executable, "-c", FREEZE_CHILD], capture_output=True, text=True)
        if _rca.freeze_check:
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(r.stdout.startswith("ok "), r.stdout)
        else:
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("RuntimeError: this build has no frozen-count check", r.stderr)


if __name__ == "__main__":
    unittest.main()

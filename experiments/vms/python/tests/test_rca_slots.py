"""The rca-patched CPython's counts and slots (cpython-rca.patch), run by each patched variant.

ctest runs it as <build>/cpython/<variant>/build/python test_rca_slots.py. It checks semantics
only: counts as CPython defines them, the slot accounting (also at exit, after finalization),
frozen counts, where object memory comes from, and that every way an object dies (plain, free
list, resize, resurrection, legacy tp_del resurrection, trashcan, cycles) gives its slot back.
The computed variant has no slots (a count lives and dies with its block): the slot accounting
is left out there, the rest runs. The legacy variants (_rca.legacy) also run LegacyWrites: code
compiled against stock 3.11 headers writes the word as ob_refcnt (a 64-bit ++ and --), which
ctypes does here at the object's address.
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
import ctypes

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
        self.assertEqual(_rca.legacy, 1 if _rca.variant.endswith("-legacy") else 0)

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


def word(o):
    """The object's first field as code compiled against stock 3.11 headers sees it (ob_refcnt)."""
    return ctypes.c_int64.from_address(id(o))


def legacy_incref(o, n=1):
    w = word(o)
    for _ in range(n):
        w.value += 1  # stock Py_INCREF: op->ob_refcnt++


def legacy_decref(o, n=1):
    w = word(o)
    for _ in range(n):
        w.value -= 1  # stock Py_DECREF: if (--op->ob_refcnt == 0) _Py_Dealloc(op)
        if w.value == 0:
            raise AssertionError("a legacy Py_DECREF would free the object")


def handle(o):
    return word(o).value >> 32  # arithmetic: the signed index handle


def delta(o):
    """The references legacy code holds: the word's lower half less the bias."""
    return (word(o).value & 0xFFFFFFFF) - _rca.legacy_bias


# Looked up once: the first lookup caches objects (with slots) in ctypes.pythonapi.
_core_incref, _core_decref = ctypes.pythonapi.Py_IncRef, ctypes.pythonapi.Py_DecRef


def core_incref(o):
    """A Py_INCREF compiled against this build's headers (a new reference from the API)."""
    _core_incref(ctypes.py_object(o))


def core_decref(o):
    """A Py_DECREF compiled against this build's headers (a reference the core now owns)."""
    _core_decref(ctypes.py_object(o))


FROZEN_LEGACY_CHILD = r"""
import ctypes, gc, sys, _rca
objs = [[i] for i in range(1000)]
o = objs[5]
gc.freeze()
assert _rca.freeze() >= 1000
w = ctypes.c_int64.from_address(id(o))
before = w.value
c = sys.getrefcount(o)
assert c >= 2 ** 31, c  # frozen
for _ in range(10):
    w.value += 1  # legacy increments: the object's word moves (its page is written)
assert sys.getrefcount(o) == c + 10, (sys.getrefcount(o), c)
assert w.value == before + 10
more = [o] * 10  # the core's references leave the frozen slot alone
assert sys.getrefcount(o) == c + 10
del more
for _ in range(10):
    w.value -= 1
assert sys.getrefcount(o) == c and w.value == before
print("ok")
"""


# A frozen heap in fork children (python/c8/c8_pages.py): walks of every object (the core's
# increments and decrements: frozen, no page written), alternating with walks that first make
# legacy increments on K objects on K distinct pages; "read N" / "write N" per child.
C8_PAGES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "c8", "c8_pages.py")


@unittest.skipUnless(_rca.legacy, "the word holds the handle alone (Py_RCA_LEGACY=0)")
class LegacyWrites(unittest.TestCase):
    """Py_RCA_LEGACY: handle << 32 | (2^31 + legacy code's references)."""

    def setUp(self):
        gc.collect()
        gc.disable()

    def tearDown(self):
        gc.enable()

    def test_layout(self):
        self.assertEqual(_rca.legacy_bias, 2 ** 31)
        x = [1]
        self.assertEqual(delta(x), 0)
        self.assertNotEqual(handle(x), 0)  # not the reserved slot
        self.assertGreater(word(x).value, 0)

    def test_static_objects_have_the_reserved_slot_and_no_delta(self):
        # Every way a statically allocated object gets its word: PyObject_HEAD_INIT (None,
        # NotImplemented, Ellipsis, static types), _PyObject_IMMORTAL_INIT (small ints, the
        # empty tuple, bytes and str singletons), deepfreeze (frozen modules' code objects),
        # zero-filled static types (_PyStructSequence_InitType), the set dummy's positional one.
        static = [None, NotImplemented, Ellipsis, True, False, 0, 1, 256, -5, (), "", b"", "a",
                  int, type, object, dict, type(sys.flags), type(sys.version_info),
                  sys.modules["_frozen_importlib"]._find_and_load.__code__]
        for o in static:
            with self.subTest(o=o):
                self.assertEqual(handle(o), 0)
                self.assertLess(abs(delta(o)), 2 ** 20)
                self.assertGreater(sys.getrefcount(o), 0)

    def test_legacy_references_count(self):
        x = [1]
        h = handle(x)
        c = sys.getrefcount(x)
        legacy_incref(x, 1000)
        self.assertEqual(handle(x), h)  # the handle did not move
        self.assertEqual(delta(x), 1000)
        self.assertEqual(sys.getrefcount(x), c + 1000)
        y = x  # the core's references still go to the slot
        self.assertEqual(sys.getrefcount(x), c + 1001)
        self.assertEqual(delta(x), 1000)
        del y
        legacy_decref(x, 1000)
        self.assertEqual(sys.getrefcount(x), c)
        self.assertEqual(delta(x), 0)

    def test_legacy_writes_to_static_objects(self):
        # Py_RETURN_NONE from stock headers: a legacy increment of None's word.
        d = delta(None)
        c = sys.getrefcount(None)
        legacy_incref(None, 1000)
        self.assertEqual(handle(None), 0)
        self.assertEqual(delta(None), d + 1000)
        if _rca.freeze_check:  # a frozen reserved slot: None's count moves by the delta only
            self.assertEqual(sys.getrefcount(None), c + 1000)
        legacy_decref(None, 1000)
        self.assertEqual(delta(None), d)

    def test_collection_clears_the_drift_of_static_singletons(self):
        # Static objects never die: what legacy code leaves in their words (Py_RETURN_NONE's
        # increments, decrements of small ints the core handed out) is cleared by each
        # collection before it could reach the handle; a heap object's references stay.
        x = [1]
        legacy_incref(None, 1000)
        legacy_decref(5, 1000)
        legacy_incref(chr(7), 7)  # a one-character str singleton
        legacy_incref(x, 3)
        gc.collect()
        self.assertEqual((delta(None), delta(5), delta(chr(7))), (0, 0, 0))
        self.assertEqual(delta(x), 3)
        legacy_decref(x, 3)

    def test_slot_reaching_zero_keeps_an_object_legacy_code_holds(self):
        class C:
            pass
        C()  # the class's caches
        before = baseline()
        x = C()
        wr = weakref.ref(x)
        legacy_incref(x)  # legacy code keeps a reference
        folds = _rca.stats()["legacy_folds"]
        del x  # the core's last reference: the slot reaches 0, the delta moves into it
        self.assertEqual(_rca.stats()["legacy_folds"], folds + 1)
        y = wr()
        self.assertIsNotNone(y)
        self.assertEqual(delta(y), 0)
        self.assertEqual(sys.getrefcount(y), 3)  # legacy code's, y, the argument
        # The core takes the legacy reference over (a stolen reference): then it dies as usual.
        core_decref(y)
        del y
        self.assertIsNone(wr())
        del wr
        self.assertEqual(live(), before + BEFORE)

    def test_legacy_code_dropping_the_last_reference_leaks_the_object(self):
        # A reference the core handed to legacy code (counted in the slot), dropped by legacy
        # code: stock 3.11 frees the object there; here the slot keeps the dropped reference, the
        # count is right (0), and the object leaks, with its slot: its destructor never runs.
        class C:
            pass
        C()
        x = C()
        wr = weakref.ref(x)
        w = word(x)
        before = baseline()
        core_incref(x)  # a new reference, to legacy code
        legacy_decref(x)  # which drops it
        self.assertEqual(delta(x), -1)
        del x
        self.assertIsNone(wr())  # its count is 0: to Python it is gone
        self.assertEqual(w.value & 0xFFFFFFFF, _rca.legacy_bias - 1)  # its word is untouched
        self.assertEqual(live(), before + BEFORE)  # and its slot kept: the destructor never ran

    def test_collector_sees_legacy_references(self):
        # gc_refs starts from Py_REFCNT: a reference only legacy code holds keeps a cycle.
        a = Node()
        a.other = a
        wr = weakref.ref(a)
        legacy_incref(a)
        del a
        gc.collect()
        self.assertIsNotNone(wr())
        b = wr()
        legacy_decref(b)  # legacy code lets go: the cycle is garbage
        del b
        gc.collect()
        self.assertIsNone(wr())

    def test_set_refcnt_moves_the_delta_into_the_slot(self):
        # tuple * n sets the element's count with Py_SET_REFCNT(e, Py_REFCNT(e) + n).
        x = [1]
        c = sys.getrefcount(x)
        legacy_incref(x, 3)
        t = (x,) * 5
        self.assertEqual(delta(x), 0)
        self.assertEqual(sys.getrefcount(x), c + 3 + 5)  # legacy's and t's ((x,) is gone)
        legacy_decref(x, 3)
        del t
        self.assertEqual(sys.getrefcount(x), c)

    def test_finalizer_resurrection_by_legacy_code(self):
        class R:
            finalized = 0
            keep = False

            def __del__(self):
                R.finalized += 1
                if R.keep:
                    legacy_incref(self)  # legacy code keeps the dying object
        R()  # the class's caches
        R.finalized = 0
        R.keep = True
        before = baseline()
        r = R()
        wr = weakref.ref(r)
        del r
        self.assertEqual(R.finalized, 1)
        y = wr()
        self.assertIsNotNone(y)  # resurrected, its slot kept
        self.assertEqual(sys.getrefcount(y), 3)
        self.assertEqual(delta(y), 0)  # the count went to the slot
        core_decref(y)  # the core takes the legacy reference over
        del y
        self.assertIsNone(wr())
        self.assertEqual(R.finalized, 1)  # PEP 442: finalized once
        del wr
        self.assertEqual(live(), before + BEFORE)

    @unittest.skipUnless(_rca.freeze_check, "no frozen-count check")
    def test_frozen_heap_legacy_writes_dirty_only_their_pages(self):
        # The email's point: with frozen counts, code writing the count field "will just dirty
        # the page" (here: exactly the K pages it wrote), and the walk itself dirties none.
        r = subprocess.run([sys.executable, C8_PAGES, "100000", "100"], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        children = [line.split() for line in r.stdout.split("\n")
                    if line.startswith(("read ", "write "))]
        self.assertEqual([c[0] for c in children], ["read", "write", "read", "write"])
        for (_, read), (_, write) in zip(children[0::2], children[1::2]):
            read, write = int(read), int(write)
            self.assertLess(read, 50)  # the interpreter's own pages (stack, new objects), no heap
            self.assertGreaterEqual(write - read, 100)
            self.assertLessEqual(write - read, 110)

    def test_frozen_count_and_legacy_write(self):
        r = subprocess.run([sys.executable, "-c", FROZEN_LEGACY_CHILD], capture_output=True,
                           text=True)
        if _rca.freeze_check:
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.strip(), "ok")
        else:
            self.assertIn("no frozen-count check", r.stderr)


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

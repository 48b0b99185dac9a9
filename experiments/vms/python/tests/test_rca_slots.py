"""The rca-patched CPython's counts and slots (cpython-rca.patch), run by each handle variant.

ctest runs it as <build>/cpython/<variant>/build/python test_rca_slots.py. It checks semantics
only: counts as CPython defines them, the slot accounting, frozen counts, and that every way an
object dies (plain, free list, resize, resurrection, trashcan, cycles) gives its slot back.
"""
import gc
import sys
import unittest
import weakref

import _rca


def live():
    return _rca.stats()["live_slots"]


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
        self.assertIn(_rca.handle, ("index", "pointer"))
        self.assertEqual(_rca.variant.split("-")[0], {"index": "idx", "pointer": "ptr"}[_rca.handle])
        self.assertIn(_rca.placement, ("shared", "thread", "padded"))

    def test_live_slots_are_taken_minus_returned(self):
        s = _rca.stats()
        self.assertEqual(s["live_slots"],
                         s["slots_taken"] - s["slots_returned"] + s["reserved_slots"])

    def test_no_slot_leak(self):
        workload(2000)  # warm the caches (interned strings, method cache, free lists)
        before = live()
        self.assertEqual(workload(20000), workload(20000))
        # Exact: every object the workload made died and gave its slot back.
        self.assertEqual(live(), before + BEFORE)

    def test_new_object_takes_a_slot(self):
        before = _rca.stats()["slots_taken"]
        x = [object() for _ in range(1000)]
        self.assertGreaterEqual(_rca.stats()["slots_taken"] - before, 1001)
        del x


class Counts(unittest.TestCase):
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
        before = live()
        r = Resurrector()
        rid = id(r)
        del r
        self.assertEqual(Resurrector.deleted, 1)
        self.assertEqual(id(Resurrector.saved[0]), rid)
        del rid
        self.assertEqual(sys.getrefcount(Resurrector.saved[0]), 2)
        self.assertEqual(live(), before + BEFORE + 1)  # still alive: its slot is kept
        Resurrector.saved.clear()  # PEP 442: __del__ is not called again
        self.assertEqual(Resurrector.deleted, 1)
        self.assertEqual(live(), before + BEFORE)

    def test_trashcan(self):
        def nest():
            x = []
            for _ in range(100000):
                x = [x, (x,)]  # deep enough for the trashcan to defer deallocations
        nest()
        before = live()
        nest()
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

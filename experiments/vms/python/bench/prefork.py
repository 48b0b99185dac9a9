"""C5 in CPython: K forked workers that only read a data set of more than a million objects.

Usage: python prefork.py LIBRARY WORKERS RECORDS TASKS FREEZE
  LIBRARY  librca_vm_prefork.so (python/prefork_lib.cpp): forks the workers, probes the pages
           each makes private (pagemap), reads every process's smaps_rollup, prints the lines
  FREEZE   1: gc.freeze() and, on an rca build with the freeze check, _rca.freeze() (the
           refcount-page sweep) before the fork; 0: neither
The sweep is timed once per process and never undone: a thaw puts back the counts of freeze
time, but a frozen count drops the increments and decrements made while frozen, so any reference
taken or dropped in between (the call of `_rca.thaw` itself holds one on the function object,
which lives in the frozen module dict) leaves the count wrong after the thaw, and the object is
freed while still referenced. Repeated sweep times come from repeated processes.
The setup builds RECORDS records of 7 objects each (a dict, a list, a tuple, two strings, an int
beyond the small ints, a float), held by one list; the collector is off from then on (its
passes write every tracked object's header whatever the count placement). Each worker walks
every record and object TASKS times, reading only, and checks the sums. Prints
  cpython setup objects=N records=R build_ms=.. gc_freeze_ms=.. rca_freeze_ms=..
                counts_frozen=.. refcount_lo=.. refcount_hi=.. variant=..
then the library's worker and memory lines (prefix "cpython"). On rca builds the refcount
pages are rca's arena (_rca.stats()'s arena_lo..arena_hi); elsewhere there are none.
"""
import ctypes
import gc
import sys
import time

OBJECTS_PER_RECORD = 7


def build(n):
    data = []
    for i in range(n):
        data.append({"key": f"record-{i}", "name": f"n{i * 7}", "items": [i, i + 1],
                     "pos": (i, -i), "big": i + 1_000_000, "score": i * 0.5})
    return data


def walk(data):
    """Reads everything; returns sums that depend on every object."""
    chars = ints = 0
    score = 0.0
    for rec in data:
        for k, v in rec.items():
            chars += len(k)
        chars += len(rec["key"]) + len(rec["name"])
        a, b = rec["items"]
        x, y = rec["pos"]
        ints += a + b + x + y + rec["big"]
        score += rec["score"]
    return chars, ints, score


def expected(n):
    keys = len("key") + len("name") + len("items") + len("pos") + len("big") + len("score")
    chars = n * keys + sum(len(f"record-{i}") + len(f"n{i * 7}") for i in range(n))
    ints = sum(2 * i + 1 + 1_000_000 + i for i in range(n))
    return chars, ints, 0.5 * n * (n - 1) / 2


def arena_range():
    """rca's refcount arena in this process, or (0, 0) on interpreters without rca."""
    try:
        import _rca  # only the patched builds have it
    except ImportError:
        return 0, 0, "none"
    st = _rca.stats()
    if "arena_lo" not in st:
        sys.exit("prefork: this build's _rca.stats() has no arena_lo/arena_hi: no refcount range")
    return st["arena_lo"], st["arena_hi"], _rca.variant


def main():
    if len(sys.argv) != 6 or not all(a.isdigit() for a in sys.argv[2:]):
        sys.exit(__doc__)
    lib_path, workers, n, tasks, freeze = sys.argv[1], *map(int, sys.argv[2:])
    lib = ctypes.CDLL(lib_path)
    task_type = ctypes.CFUNCTYPE(ctypes.c_int)
    lib.rca_vm_prefork.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_size_t,
                                   ctypes.c_size_t, task_type]
    want = expected(n)
    t0 = time.perf_counter_ns()
    data = build(n)
    t1 = time.perf_counter_ns()
    gc.collect()
    gc.disable()
    gc_ms = frozen = sweep_ms = None
    if freeze:
        t2 = time.perf_counter_ns()
        gc.freeze()
        t3 = time.perf_counter_ns()
        gc_ms = (t3 - t2) / 1e6
        try:
            import _rca
            if _rca.freeze_check:
                t4 = time.perf_counter_ns()
                frozen = _rca.freeze()
                sweep_ms = (time.perf_counter_ns() - t4) / 1e6
        except ImportError:
            pass
    lo, hi, variant = arena_range()

    def task():
        try:
            got = walk(data)
        except Exception as e:  # reported as a failed worker
            print(f"prefork: worker task raised {e!r}", file=sys.stderr, flush=True)
            return 0
        if got != want:
            print(f"prefork: worker read {got}, want {want}", file=sys.stderr, flush=True)
            return 0
        return 1

    callback = task_type(task)
    na = "NA"
    print(f"cpython setup objects={n * OBJECTS_PER_RECORD + 1} records={n} "
          f"build_ms={(t1 - t0) / 1e6:.3f} "
          f"gc_freeze_ms={na if gc_ms is None else f'{gc_ms:.3f}'} "
          f"rca_freeze_ms={na if sweep_ms is None else f'{sweep_ms:.3f}'} "
          f"counts_frozen={na if frozen is None else frozen} "
          f"refcount_lo={lo} refcount_hi={hi} variant={variant}", flush=True)
    failed = lib.rca_vm_prefork(b"cpython", workers, tasks, lo, hi, callback)
    if failed != 0:
        sys.exit(f"prefork: {failed} worker(s) failed")
    if walk(data) != want:  # the parent's data survived the workers
        sys.exit("prefork: the parent's data changed")


if __name__ == "__main__":
    main()

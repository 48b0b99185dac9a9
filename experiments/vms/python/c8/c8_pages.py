"""C8 with frozen counts: which pages legacy count writes dirty in a fork child.

Usage: INTERPRETER c8_pages.py [N] [K]   (any CPython build; RCA_PLACEMENT=shared for patched ones)
Builds N one-element lists (default 200000), collects, disables the collector, gc.freeze() and,
where the build has the check, _rca.freeze(); then forks children that each walk every object
(the core's increments and decrements) and, in the "write" children, first make one legacy
increment (a 64-bit ob_refcnt++ at the object's address, what stock 3.11 headers compile
Py_INCREF to) on each of K objects lying on K distinct pages (default 100). Prints the pages
each child made private (Private_Dirty of /proc/self/smaps_rollup, 4 KiB pages), twice each:
  read <pages>    write <pages>
"""
import ctypes
import gc
import os
import sys

try:
    import _rca
except ImportError:  # stock and inline builds
    _rca = None


def private_dirty_pages():
    for line in open("/proc/self/smaps_rollup"):
        if line.startswith("Private_Dirty:"):
            return int(line.split()[1]) // 4
    raise SystemExit("c8_pages: no Private_Dirty in /proc/self/smaps_rollup")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    objs = [[i] for i in range(n)]
    gc.collect()
    gc.disable()
    gc.freeze()
    frozen = _rca is not None and _rca.freeze_check
    if frozen:
        _rca.freeze()
    seen, pick = set(), []
    for o in objs:
        if id(o) >> 12 not in seen and len(pick) < k:
            seen.add(id(o) >> 12)
            pick.append(o)
    words = [ctypes.c_int64.from_address(id(o)) for o in pick]
    print("c8_pages build=%s objects=%d written=%d frozen=%d"
          % (_rca.variant if _rca else "unpatched", n, len(pick), frozen), flush=True)
    for write in (False, True, False, True):
        pid = os.fork()
        if pid == 0:
            before = private_dirty_pages()
            if write:
                for w in words:
                    w.value += 1
            walked = sum(len(o) for o in objs)
            os.write(1, b"%s %d\n" % (b"write" if write else b"read", private_dirty_pages() - before))
            os._exit(0 if walked == n else 1)
        if os.waitpid(pid, 0)[1] != 0:
            raise SystemExit("c8_pages: a child failed")


if __name__ == "__main__":
    main()

"""The frame of rcalab vm's CPython programs: size from argv, the work timed, the result checked.

`python PROGRAM.py SIZE`: runs work(SIZE), checks the result with check(SIZE, result) and prints
  bench program=<name> size=<SIZE> cpu_ms=<process CPU time of work> wall_ms=<its wall time> ok=1
or the problem on stderr and exits 1. SIZE 0 runs nothing but the interpreter's start and the
program's imports: rcalab subtracts that run's instructions from the program's (C7s). Each
program's check recomputes its expected result another way (a closed form, or an invariant), so
an interpreter that miscounts or frees too early fails here rather than in a figure.
"""
import sys
import time


def main(name, work, check):
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit(f"usage: {sys.argv[0]} SIZE (a non-negative integer)")
    size = int(sys.argv[1])
    cpu0, wall0 = time.process_time_ns(), time.perf_counter_ns()
    result = work(size) if size else None
    cpu1, wall1 = time.process_time_ns(), time.perf_counter_ns()
    if size:
        problem = check(size, result)
        if problem:
            print(f"{name}: wrong result at size {size}: {problem}", file=sys.stderr)
            sys.exit(1)
    print(f"bench program={name} size={size} cpu_ms={(cpu1 - cpu0) / 1e6:.3f} "
          f"wall_ms={(wall1 - wall0) / 1e6:.3f} ok=1", flush=True)

# Whole-program Python workloads for the allocator suite (rcalab malloc), run by Debian's
# /usr/bin/python3 with PYTHONMALLOC=malloc, so that every object comes from the process's malloc
# (the allocator under test, by LD_PRELOAD) instead of pymalloc's arenas.
#
#   python_workloads.py objects N        records as dicts, strings, tuples, lists; sort, group,
#                                        format, delete (a small ORM/JSON-like job), N records
#   python_workloads.py cow SCRIPTS N    the CPython host's C5 scripts (cow_setup.py, then
#                                        cow_task.py, from experiments/vms/python/scripts) in one
#                                        process: N small tuples built, then walked
#
# Prints: malloc-bench result workload=<python_...> threads=1 ms=<measured> ops=N check=ok
#         malloc_lib=-   (the driver checks the preload on the compiled workloads)
# A failed check raises SystemExit with a message (exit 1).
import sys
import time


def objects(n):
    t0 = time.perf_counter()
    records = []
    for i in range(n):
        records.append({"id": i, "name": "user%07d" % i, "tags": [i % 7, i % 11, i % 13],
                        "score": (i * 7919) % 1000 / 10.0, "pair": (i, str(i))})
    by_tag = {}
    for r in records:
        by_tag.setdefault(r["tags"][0], []).append(r["id"])
    records.sort(key=lambda r: (r["score"], r["name"]))
    lines = ["%(id)d,%(name)s,%(score).1f" % r for r in records]
    text = "\n".join(lines)
    checksum = sum(len(v) for v in by_tag.values())
    parsed = [line.split(",") for line in text.split("\n")]
    ids = sorted(int(p[0]) for p in parsed)
    del records, by_tag, lines, text, parsed
    ms = (time.perf_counter() - t0) * 1e3
    if checksum != n or ids != list(range(n)):
        raise SystemExit("python_workloads objects: records lost or duplicated")
    return ms


def cow(scripts, n):
    # The scripts read sys.argv[2] as N (their host passes setup.py task.py N).
    sys.argv = [sys.argv[0], "-", str(n)]
    env = {"__name__": "__rca_malloc__"}
    t0 = time.perf_counter()
    for name in ("cow_setup.py", "cow_task.py"):
        path = scripts + "/" + name
        with open(path) as f:
            exec(compile(f.read(), path, "exec"), env)
    ms = (time.perf_counter() - t0) * 1e3
    if len(env["data"]) != n:
        raise SystemExit("python_workloads cow: the list has the wrong length")
    return ms


def main(argv):
    if len(argv) < 3 or argv[1] not in ("objects", "cow") or (argv[1] == "cow" and len(argv) < 4):
        raise SystemExit("usage: python_workloads.py objects N | cow SCRIPTS_DIR N")
    mode = argv[1]
    n = int(argv[-1])
    ms = objects(n) if mode == "objects" else cow(argv[2], n)
    print("malloc-bench result workload=python_%s threads=1 ms=%.3f ops=%d bytes=- check=ok "
          "malloc_lib=-" % (mode, ms, n))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

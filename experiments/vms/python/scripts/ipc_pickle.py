# C6 with Python's own pickle: a parent sends a forked child an object graph over a pipe, pickled
# (pickle.dumps, protocol 5; the child unpickles it) or as raw bytes of the same length; each
# round trip ends with the child's 8-byte reply. The graph has rcalab ipc's shape: records of
# [id, score, name, [a, b, c]] (8 objects each). Repetitions of the two modes are interleaved.
# Prints one line per measured repetition:
#   rca-python ipc mode=raw|pickle rep=i ns=<round trip> bytes=<message> objects=<graph objects>
# and for pickle also dumps_ns= and loads_ns= (the child's unpickling time).
# Usage: ipc_pickle.py RECORDS REPS WARMUP
import os
import pickle
import random
import struct
import sys
import time


def read_exact(fd, n):
    chunks = []
    while n:
        b = os.read(fd, min(n, 1 << 20))
        if not b:
            raise SystemExit("ipc_pickle: peer went away")
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def child(down, up):
    while True:
        length, mode = struct.unpack("<QB", read_exact(down, 9))
        if length == 0:
            os._exit(0)
        data = read_exact(down, length)
        ns = 0
        if mode == 1:
            t0 = time.perf_counter_ns()
            obj = pickle.loads(data)
            ns = time.perf_counter_ns() - t0
            del obj
        write_all(up, struct.pack("<Q", ns))


def main():
    records, reps, warmup = (int(a) for a in sys.argv[1:4])
    rng = random.Random(42)
    graph = [[r, rng.randrange(100000) / 7.0, "object-%d" % rng.randrange(1000000),
              [rng.randrange(1000) for _ in range(3)]] for r in range(records)]
    objects = 1 + 8 * records
    size = len(pickle.dumps(graph, protocol=5))
    raw = b"x" * size
    d_r, d_w = os.pipe()
    u_r, u_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(d_w)
        os.close(u_r)
        child(d_r, u_w)
    os.close(d_r)
    os.close(u_w)

    def round_trip(mode):
        t0 = time.perf_counter_ns()
        if mode == "pickle":
            data = pickle.dumps(graph, protocol=5)
            t1 = time.perf_counter_ns()
            write_all(d_w, struct.pack("<QB", len(data), 1) + data)
        else:
            t1 = t0
            write_all(d_w, struct.pack("<QB", len(raw), 0) + raw)
        (loads_ns,) = struct.unpack("<Q", read_exact(u_r, 8))
        return time.perf_counter_ns() - t0, t1 - t0, loads_ns

    for rep in range(-warmup, reps):
        for mode in ("raw", "pickle"):
            ns, dumps_ns, loads_ns = round_trip(mode)
            if rep >= 0:
                extra = " dumps_ns=%d loads_ns=%d" % (dumps_ns, loads_ns) if mode == "pickle" else ""
                print("rca-python ipc mode=%s rep=%d ns=%d bytes=%d objects=%d%s" % (mode, rep, ns, size, objects, extra))
    write_all(d_w, struct.pack("<QB", 0, 0))
    os.waitpid(pid, 0)


main()

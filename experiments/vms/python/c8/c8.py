"""Claim C8: what code compiled against stock CPython 3.11 headers does to each variant.

Usage: /usr/bin/python3.11 c8.py [--require-ok] OUTDIR NAME=INTERPRETER [NAME=INTERPRETER ...]
Builds c8legacy.c against Debian's stock python3.11 headers (python3.11-config) into OUTDIR,
then runs each scenario in a fresh interpreter of each variant and prints one line per run:
  c8 variant=<name> scenario=<s> outcome=<ok|wrong|crash|error> rc=<exit status or -signal> detail=...
Scenarios: touch (balanced legacy increments and decrements), hold (a legacy reference kept in
C, then released), none (a legacy function returning None: Py_RETURN_NONE increments None),
outlive (legacy code holds the only reference left after the interpreter's last one went: the
object must stay usable). --require-ok: exit 1 unless every run's outcome is ok (ctest).
"""
import os
import subprocess
import sys

SCENARIOS = {
    # Balanced: on the inline build nothing changes; with a handle, the handle moves and returns.
    "touch": """
x = [1]
c0 = sys.getrefcount(x)
c8legacy.touch(x, 1000)
ys = [[i] for i in range(10000)]
del ys
gc.collect()
print("OK" if sys.getrefcount(x) == c0 else "WRONG count %d, was %d" % (sys.getrefcount(x), c0))
""",
    # One reference kept in C: the handle stays moved while it is held.
    "hold": """
x = [1]
c0 = sys.getrefcount(x)
c8legacy.hold(x)
c1 = sys.getrefcount(x)
ys = [[i] for i in range(10000)]
del ys
c8legacy.release()
gc.collect()
ok = c1 == c0 + 1 and sys.getrefcount(x) == c0
print("OK" if ok else "WRONG counts %d %d %d" % (c0, c1, sys.getrefcount(x)))
""",
    # Py_RETURN_NONE from stock headers: a legacy increment of None's first field per call.
    "none": """
for i in range(1000):
    c8legacy.release()
ys = [(i, None) for i in range(10000)]
del ys
gc.collect()
print("OK")
""",
    # The interpreter drops its last reference while legacy code still holds one: the object
    # must outlive it (on stock 3.11 the count simply stays at 1).
    "outlive": """
class C:
    pass
x = C()
x.v = [42]
c8legacy.hold(x)
del x
ys = [C() for i in range(10000)]
o = c8legacy.peek(0)
ok = type(o) is C and o.v == [42] and sys.getrefcount(o) == 3
del o, ys
c8legacy.release()
gc.collect()
print("OK" if ok else "WRONG")
""",
}


def main():
    args = sys.argv[1:]
    require_ok = args[:1] == ["--require-ok"]
    if require_ok:
        args = args[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    out = args[0]
    os.makedirs(out, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    inc = subprocess.check_output(["/usr/bin/python3.11-config", "--includes"], text=True).split()
    so = os.path.join(out, "c8legacy.cpython-311-x86_64-linux-gnu.so")
    subprocess.check_call(["gcc", "-shared", "-fPIC", "-O2", *inc, os.path.join(here, "c8legacy.c"),
                           "-o", so])
    failed = 0
    for arg in args[1:]:
        name, interp = arg.split("=", 1)
        for scen, body in SCENARIOS.items():
            code = "import gc, sys\nsys.path.insert(0, %r)\nimport c8legacy\n%s" % (out, body)
            try:
                r = subprocess.run([interp, "-c", code], capture_output=True, text=True, timeout=120)
                rc, so_, se = r.returncode, r.stdout.strip(), r.stderr.strip()
            except subprocess.TimeoutExpired:
                rc, so_, se = "timeout", "", ""
            last = so_.splitlines()[-1] if so_ else ""
            if rc == 0 and last == "OK":
                outcome = "ok"
            elif rc == 0:
                outcome = "wrong"
            elif isinstance(rc, int) and rc < 0:
                outcome = "crash"
            else:
                outcome = "error"
            detail = (last or (se.splitlines()[-1] if se else "")).replace(" ", "_")[:120]
            print("c8 variant=%s scenario=%s outcome=%s rc=%s detail=%s"
                  % (name, scen, outcome, rc, detail), flush=True)
            failed += outcome != "ok"
    if require_ok and failed:
        sys.exit("c8: %d run(s) not ok" % failed)


if __name__ == "__main__":
    main()

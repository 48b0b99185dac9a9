# Iterates the shared list read-only; CPython's inline counts are written by every visit.
s = 0
for t in data:
    s += t[0]
if s != len(data) * (len(data) - 1) // 2:
    raise SystemExit("cow_task: wrong sum %d" % s)

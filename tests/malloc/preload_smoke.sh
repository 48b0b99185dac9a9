#!/bin/sh
# Other programs under rca malloc: system tools, Debian's Python with threads, and rca's own test
# suites (each must pass as it does on glibc's malloc).
#   preload_smoke.sh LIBRCA_MALLOC_SO TEST_BINARY...
set -eu
lib=$1
shift
export LD_PRELOAD="$lib"
ls -la /usr/lib >/dev/null
seq 1 200000 | sort -R | sort -n | tail -1 | grep -qx 200000
/usr/bin/python3 -c '
import json, threading
d = [json.dumps(list(range(i))) for i in range(3000)]
ts = [threading.Thread(target=lambda: sorted(str(x) for x in range(50000))) for _ in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
print(len(d))' | grep -qx 3000
for t in "$@"; do "$t" --gtest_brief=1 >/dev/null; done
echo "ls, sort, python3 and $# test suites ran under rca malloc"

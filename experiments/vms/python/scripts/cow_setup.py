# The CPython anchor of C5: a list of N small tuples (argv[1], default 1000000) that forked
# workers will only iterate.
import sys

N = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
data = [(i, i * 2) for i in range(N)]

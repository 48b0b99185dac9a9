# Allocates and frees a million objects on rca and checks that rca made them and got them back.
# argv[1]: objects (default 1000000).
import gc
import sys

import _rca

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
assert _rca.active(), "rca is not serving the OBJ and MEM domains"


class Node:
    __slots__ = ("value", "label")

    def __init__(self, value):
        self.value = value
        self.label = "n%d" % value


gc.collect()
live_before = _rca.live_blocks()
allocs_before = _rca.allocs()
batch = 100_000
total = 0
for start in range(0, n, batch):
    nodes = [Node(i) for i in range(start, min(n, start + batch))]
    total += sum(node.value for node in nodes)
    del nodes
gc.collect()
made = _rca.allocs() - allocs_before
left = _rca.live_blocks() - live_before
assert total == n * (n - 1) // 2, total
# Each Node and its label string are separate blocks: at least n allocations went through rca.
assert made >= n, "only %d blocks came from rca for %d objects" % (made, n)
# Everything made here was freed again, up to interpreter caches (a few hundred blocks).
assert abs(left) < 1000, "%d blocks still live after freeing" % left
print("alloc_free objects=%d rca_allocs=%d live_delta=%d" % (n, made, left))

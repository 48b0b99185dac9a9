"""Object-heavy recursion: binary trees built and walked recursively (pyperformance's
binary-trees shape). SIZE: the depth of the long-lived tree."""
import benchlib


class Node:
    __slots__ = ("left", "right")

    def __init__(self, left, right):
        self.left = left
        self.right = right


def make(depth):
    if depth == 0:
        return Node(None, None)
    return Node(make(depth - 1), make(depth - 1))


def count(node):
    if node.left is None:
        return 1
    return 1 + count(node.left) + count(node.right)


def work(depth):
    long_lived = make(depth)
    walked = []
    for d in range(4, depth + 1, 2):
        iterations = 1 << (depth - d + 4)
        total = 0
        for _ in range(iterations):
            total += count(make(d))
        walked.append((d, iterations, total))
    return count(long_lived), walked


def check(depth, result):
    long_lived, walked = result
    if long_lived != (1 << (depth + 1)) - 1:
        return f"long-lived tree has {long_lived} nodes"
    for d, iterations, total in walked:
        if total != iterations * ((1 << (d + 1)) - 1):
            return f"depth {d}: {total} nodes in {iterations} trees"
    if len(walked) != len(range(4, depth + 1, 2)):
        return "depths missing"
    return None


if __name__ == "__main__":
    benchlib.main("trees", work, check)

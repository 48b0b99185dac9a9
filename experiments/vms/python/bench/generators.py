"""Generators and closures: a pipeline of generator functions and expressions (filter, map,
windows, take), `yield from`, generator send(), and closures built by factories and kept in
lists. SIZE: numbers through the pipeline."""
import benchlib


def naturals(n):
    i = 0
    while i < n:
        yield i
        i += 1


def evens(xs):
    for x in xs:
        if x % 2 == 0:
            yield x


def pairs(xs):
    prev = None
    for x in xs:
        if prev is not None:
            yield prev, x
        prev = x


def chained(n):
    yield from naturals(n)
    yield from (-x for x in naturals(n))


def accumulator():
    total = 0
    while True:
        x = yield total
        total += x


def adder(k):
    def add(x):
        return x + k
    return add


def counter():
    count = 0

    def step(by=1):
        nonlocal count
        count += by
        return count
    return step


def work(n):
    pipeline = sum(a * b % 7 for a, b in pairs(evens(naturals(n))))
    squares = sum(x * x for x in naturals(n) if x % 3)
    zero = sum(chained(n))
    acc = accumulator()
    next(acc)
    for x in naturals(n):
        last = acc.send(x)
    adders = [adder(k) for k in range(16)]
    step = counter()
    closures = 0
    for x in naturals(n):
        closures += adders[x % 16](x)
        step(x % 3)
    return pipeline, squares, zero, last, closures, step(0)


def check(n, result):
    ev = list(range(0, n, 2))
    pipeline = sum(ev[i] * ev[i + 1] % 7 for i in range(len(ev) - 1))
    squares = (n - 1) * n * (2 * n - 1) // 6 - sum(x * x for x in range(0, n, 3))
    tri = n * (n - 1) // 2
    closures = tri + sum(x % 16 for x in range(n))
    want = (pipeline, squares, 0, tri, closures, sum(x % 3 for x in range(n)))
    return None if result == want else f"got {result}, want {want}"


if __name__ == "__main__":
    benchlib.main("generators", work, check)

"""OO dispatch: a class hierarchy with overridden methods, properties, super() calls and a
visitor (double dispatch); shapes are scaled into new objects. SIZE: shapes per kind."""
import benchlib


class Shape:
    sides = 0

    def accept(self, visitor):
        raise NotImplementedError

    def describe(self):
        return self.sides


class Rect(Shape):
    sides = 4

    def __init__(self, w, h):
        self.w = w
        self.h = h

    @property
    def area(self):
        return self.w * self.h

    def scaled(self, k):
        return Rect(self.w * k, self.h * k)

    def accept(self, visitor):
        return visitor.rect(self)


class Square(Rect):
    def __init__(self, s):
        super().__init__(s, s)

    def scaled(self, k):
        return Square(self.w * k)

    def accept(self, visitor):
        return visitor.square(self)


class Tri(Shape):  # right triangle with an even leg: integer area
    sides = 3

    def __init__(self, a, b):
        self.a = a
        self.b = b

    @property
    def area(self):
        return self.a * self.b // 2

    def scaled(self, k):
        return Tri(self.a * k, self.b * k)

    def accept(self, visitor):
        return visitor.tri(self)


class Perimeter:
    def rect(self, r):
        return 2 * (r.w + r.h)

    def square(self, s):
        return 4 * s.w

    def tri(self, t):  # the two legs only: integer
        return t.a + t.b


def shapes(n):
    out = []
    for i in range(n):
        out.append(Square(i % 7 + 1))
        out.append(Rect(i % 5 + 1, i % 3 + 1))
        out.append(Tri(2 * (i % 4 + 1), i % 6 + 1))
    return out


def work(n):
    visitor = Perimeter()
    area = perimeter = scaled = sides = 0
    for _ in range(3):
        for s in shapes(n):
            area += s.area
            perimeter += s.accept(visitor)
            scaled += s.scaled(2).area
            sides += s.describe()
    return area, perimeter, scaled, sides


def check(n, result):
    # The same sums from the formulas, without objects.
    area = perimeter = 0
    for i in range(n):
        q, w, h, a, b = i % 7 + 1, i % 5 + 1, i % 3 + 1, 2 * (i % 4 + 1), i % 6 + 1
        area += q * q + w * h + a * b // 2
        perimeter += 4 * q + 2 * (w + h) + a + b
    want = (3 * area, 3 * perimeter, 3 * 4 * area, 3 * n * 11)
    return None if result == want else f"got {result}, want {want}"


if __name__ == "__main__":
    benchlib.main("dispatch", work, check)

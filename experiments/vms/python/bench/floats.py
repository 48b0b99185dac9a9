"""Float arithmetic: the n-body simulation of the Jovian planets (pyperformance's nbody; lists of
floats updated in place) and a float-heavy comprehension. SIZE: simulation steps."""
import math

import benchlib

PI = 3.14159265358979323
SOLAR_MASS = 4 * PI * PI
DAYS_PER_YEAR = 365.24
BODIES = {
    "sun": ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], SOLAR_MASS),
    "jupiter": ([4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01],
                [1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
                 -6.90460016972063023e-05 * DAYS_PER_YEAR], 9.54791938424326609e-04 * SOLAR_MASS),
    "saturn": ([8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01],
               [-2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
                2.30417297573763929e-05 * DAYS_PER_YEAR], 2.85885980666130812e-04 * SOLAR_MASS),
    "uranus": ([1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01],
               [2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
                -2.96589568540237556e-05 * DAYS_PER_YEAR], 4.36624404335156298e-05 * SOLAR_MASS),
    "neptune": ([1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01],
                [2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
                 -9.51592254519715870e-05 * DAYS_PER_YEAR], 5.15138902046611451e-05 * SOLAR_MASS)}


def bodies():
    return [([*p], [*v], m) for p, v, m in BODIES.values()]


def pairs(system):
    return [(system[i], system[j]) for i in range(len(system)) for j in range(i + 1, len(system))]


def offset_momentum(system):
    px = py = pz = 0.0
    for _, (vx, vy, vz), m in system:
        px -= vx * m
        py -= vy * m
        pz -= vz * m
    v, m = system[0][1], system[0][2]
    v[0], v[1], v[2] = px / m, py / m, pz / m


def energy(system):
    e = 0.0
    for (p1, _, m1), (p2, _, m2) in pairs(system):
        dx, dy, dz = p1[0] - p2[0], p1[1] - p2[1], p1[2] - p2[2]
        e -= (m1 * m2) / math.sqrt(dx * dx + dy * dy + dz * dz)
    for _, (vx, vy, vz), m in system:
        e += m * (vx * vx + vy * vy + vz * vz) / 2.0
    return e


def advance(system, steps, dt=0.01):
    ps = pairs(system)
    for _ in range(steps):
        for ([x1, y1, z1], v1, m1), ([x2, y2, z2], v2, m2) in ps:
            dx, dy, dz = x1 - x2, y1 - y2, z1 - z2
            mag = dt * ((dx * dx + dy * dy + dz * dz) ** (-1.5))
            b1m, b2m = m1 * mag, m2 * mag
            v1[0] -= dx * b2m
            v1[1] -= dy * b2m
            v1[2] -= dz * b2m
            v2[0] += dx * b1m
            v2[1] += dy * b1m
            v2[2] += dz * b1m
        for r, (vx, vy, vz), _ in system:
            r[0] += dt * vx
            r[1] += dt * vy
            r[2] += dt * vz


def work(steps):
    system = bodies()
    offset_momentum(system)
    e0 = energy(system)
    advance(system, steps)
    e1 = energy(system)
    waves = sum(math.sin(i * 0.001) ** 2 + math.cos(i * 0.001) ** 2 for i in range(steps * 10))
    return e0, e1, waves


def check(steps, result):
    e0, e1, waves = result
    if f"{e0:.9f}" != "-0.169075164":  # the benchmark's published initial energy
        return f"initial energy {e0:.9f}"
    if abs(e1 - e0) > 1e-4:  # the integrator conserves energy to about 1e-6 over these spans
        return f"energy drifted from {e0!r} to {e1!r}"
    if abs(waves - steps * 10) > 1e-6 * steps * 10:
        return f"sin^2 + cos^2 summed to {waves!r} over {steps * 10} terms"
    return None


if __name__ == "__main__":
    benchlib.main("floats", work, check)

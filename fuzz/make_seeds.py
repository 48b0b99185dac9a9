#!/usr/bin/env python3
"""Writes the seed corpus (fuzz/corpus/): one hand-made input per scenario and configuration.

Input layout (fuzz_heap.cpp): byte 0 picks the placement among the allowed ones, byte 1 holds
handle (1; computed: the granule address function), 64-bit slots (2), checks (4), default
tracking (8), tracking on (16), jemalloc (32), arena limit (bits 6-7: 4 KiB, 12 KiB, 64 KiB,
1 GiB); then operations of 3 bytes each (op % 17, a, b), as listed below.
"""
import os

(ALLOC, ALLOC1, FREE, INC, DEC, FREEZE, THAW, MISUSE, SALLOC, SFREE, SRC, OVF, MANY, FREEMANY,
 RAW, THREAD, DONE) = range(17)


def ops(*seq):
    """Each operation as (op, a, b); a and b default to 0."""
    out = bytearray()
    for s in seq:
        s = list(s) + [0] * (3 - len(s))
        out += bytes(s)
    return bytes(out)


# MANY and FREEMANY: (a & 15) * 8 + 8 objects (b & 1: bare slots instead); DEC: b & 1 releases;
# SRC: b & 1 increfs; RAW: a & 3 = 0 malloc, 1 realloc, 2 free, 3 realloc to 0, b the size / 3;
# THREAD: a objects freed by the other thread, (b & 63) * 2 allocated, by a new thread when
# b & 192 = 192 (always in the thread placement; else by the long-lived helper); DONE: misuse
# done, a % 4 = freed object's generic ops (b % 3), double free, foreign free, bare slot not live
# (b % 4).
basic = ops(
    [ALLOC, 4], [ALLOC, 20], [ALLOC, 40], [INC, 0], [INC, 1], [INC, 0], [DEC, 0], [DEC, 2, 1],
    [MISUSE, 1], [SALLOC], [SALLOC], [SRC, 0, 1], [SRC, 1], [FREEZE], [INC, 1],
    [DEC, 0], [SRC, 0], [THAW], [DEC, 1], [OVF, 0, 2], [FREEZE], [THAW], [DEC, 0],
    [RAW, 0, 9], [RAW, 1, 40], [RAW, 0, 3], [RAW, 2], [SFREE, 0], [FREE, 0], [MISUSE, 0])
threads = ops(
    [MANY, 1], [THREAD, 30, 20], [INC, 5], [FREEMANY, 0, 4], [THREAD, 10, 2 | 192], [ALLOC, 8],
    [MANY, 0, 1], [FREEZE], [THREAD, 63, 1], [THAW], [MISUSE, 7])
exhaust = ops(
    *([[MANY, 15]] * 9), [ALLOC, 1], [SALLOC], [FREE, 3], [ALLOC, 1], [FREEMANY, 4], [MANY, 7],
    [THREAD, 20, 30], [MANY, 1], [MANY, 1, 1], [FREEMANY, 15], *([[MANY, 15]] * 9))
misuse = ops(
    [ALLOC, 8], [ALLOC, 8], [ALLOC, 8], [SALLOC], [SALLOC], [FREE, 0], [SFREE, 0],
    [DONE, 0, 0], [DONE, 0, 1], [DONE, 0, 2], [DONE, 1, 0], [DONE, 2, 0], [DONE, 2, 1],
    [DONE, 3, 0], [DONE, 3, 1], [DONE, 3, 2], [DONE, 3, 3], [FREE, 0], [DONE, 1, 1])


def cfg(handle=0, wide=0, checks=0, track=8, jem=0, limit=3):
    return handle | (2 if wide else 0) | (4 if checks else 0) | track | (32 if jem else 0) | (limit << 6)


here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
os.makedirs(here, exist_ok=True)
for old in os.listdir(here):
    os.remove(os.path.join(here, old))
n = 0
for placement in range(6):  # 5: computed (handle bit: address granule)
    for name, body, limits in (("basic", basic, (3,)), ("threads", threads, (3, 2)),
                               ("exhaust", exhaust, (0, 1)), ("misuse", misuse, (3,))):
        for limit in limits:
            for handle, wide, checks, track in ((0, 0, 1, 8), (1, 1, 0, 0), (1, 0, 0, 16), (0, 1, 1, 8)):
                b1 = cfg(handle, wide, checks, track, jem=(n % 7 == 3), limit=limit)
                fn = f"{name}-p{placement}-{b1:02x}"
                with open(os.path.join(here, fn), "wb") as f:
                    f.write(bytes([placement, b1]) + body)
                n += 1
print(f"{n} seeds in {here}")

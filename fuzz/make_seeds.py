#!/usr/bin/env python3
"""Writes the seed corpus (fuzz/corpus/): one hand-made input per scenario and configuration.

Input layout (fuzz_heap.cpp): byte 0 picks the placement among the allowed ones, byte 1 holds
handle (1), 64-bit slots (2), checks (4), default tracking (8), tracking on (16), jemalloc (32),
arena limit (bits 6-7: 4 KiB, 12 KiB, 64 KiB, 1 GiB); then operations: op byte (op % 16, bit 16
picks a variant), argument byte, and one more byte for raw memory (14) and threads (15).
"""
import os

ALLOC, FREE, INC, DEC, FREEZE, THAW, MISUSE, SALLOC, SFREE, SRC, OVF, MANY, FREEMANY, RAW, THREAD = \
    0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15

def ops(*seq):
    out = bytearray()
    for s in seq:
        out += bytes(s)
    return bytes(out)

basic = ops(
    [ALLOC, 4], [ALLOC, 20], [ALLOC, 40], [INC, 0], [INC, 1], [INC, 0], [DEC, 0], [DEC | 16, 2],
    [MISUSE, 1], [SALLOC, 0], [SALLOC, 0], [SRC | 16, 0], [SRC, 1], [FREEZE, 0], [INC, 1],
    [DEC, 0], [SRC, 0], [THAW, 0], [DEC, 1], [OVF, 0], [FREEZE, 0], [THAW, 0], [DEC, 0],
    [RAW, 0, 9], [RAW, 1, 40], [RAW, 0, 3], [RAW, 2, 0], [SFREE, 0], [FREE, 0], [MISUSE, 0])
threads = ops(
    [MANY, 8], [THREAD, 30, 40], [INC, 5], [FREEMANY, 4], [THREAD, 10, 2], [ALLOC, 8],
    [MANY | 16, 3], [FREEZE, 0], [THREAD, 63, 1], [THAW, 0], [MISUSE, 7])
exhaust = ops(
    [MANY, 255], [ALLOC, 1], [SALLOC, 0], [FREE, 3], [ALLOC, 1], [FREEMANY, 40], [MANY, 60],
    [THREAD, 20, 30], [MANY, 10], [MANY | 16, 10], [FREEMANY, 255], [MANY, 255])

def cfg(handle=0, wide=0, checks=0, track=8, jem=0, limit=3):
    return handle | (2 if wide else 0) | (4 if checks else 0) | track | (32 if jem else 0) | (limit << 6)

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
os.makedirs(here, exist_ok=True)
n = 0
for placement in range(6):  # 5: computed (handle bit: address granule)
    for name, body, limits in (("basic", basic, (3,)), ("threads", threads, (3, 2)),
                               ("exhaust", exhaust, (0, 1))):
        for limit in limits:
            for handle, wide, checks, track in ((0, 0, 1, 8), (1, 1, 0, 0), (1, 0, 0, 16), (0, 1, 1, 8)):
                b1 = cfg(handle, wide, checks, track, jem=(n % 7 == 3), limit=limit)
                fn = f"{name}-p{placement}-{b1:02x}"
                with open(os.path.join(here, fn), "wb") as f:
                    f.write(bytes([placement, b1]) + body)
                n += 1
print(f"{n} seeds in {here}")

"""Seeded random numbers that the TypeScript engine reproduces bit for bit (MODEL_FORMAT.md §3.1).

numpy's generators cannot be reproduced in the browser, so latents come from mulberry32 +
Box-Muller, which both sides implement in a few lines.
"""

from __future__ import annotations

import math

import numpy as np


class Mulberry32:
    """mulberry32 PRNG: uniform floats in [0, 1), identical to the engine's rng.ts."""

    def __init__(self, seed: int) -> None:
        self.state = seed & 0xFFFFFFFF

    def next(self) -> float:
        self.state = (self.state + 0x6D2B79F5) & 0xFFFFFFFF
        t = self.state
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        t &= 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296.0


def _imul(a: int, b: int) -> int:
    return (a * b) & 0xFFFFFFFF


def normals(seed: int, n: int) -> np.ndarray:
    """n standard normals by Box-Muller: each pair (u1, u2) gives cos then sin."""
    rng = Mulberry32(seed)
    out: list[float] = []
    while len(out) < n:
        u1 = 1.0 - rng.next()  # (0, 1]: log is finite
        u2 = rng.next()
        r = math.sqrt(-2.0 * math.log(u1))
        out.append(r * math.cos(2 * math.pi * u2))
        out.append(r * math.sin(2 * math.pi * u2))
    return np.asarray(out[:n], dtype=np.float64)

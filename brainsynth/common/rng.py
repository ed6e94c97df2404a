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


def uniforms_fast(seed: int, n: int) -> np.ndarray:
    """The first n mulberry32 outputs, vectorised: its state advances by a constant, so every
    output can be computed independently (identical to `Mulberry32(seed).next()` n times)."""
    m = np.uint64(0xFFFFFFFF)
    i = np.arange(1, n + 1, dtype=np.uint64)
    a = (np.uint64(seed & 0xFFFFFFFF) + i * np.uint64(0x6D2B79F5)) & m

    def imul(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (x * y) & m  # both < 2^32: the product fits in 64 bits

    t = imul(a ^ (a >> np.uint64(15)), a | np.uint64(1))
    t = ((t + imul(t ^ (t >> np.uint64(7)), t | np.uint64(61))) & m) ^ t
    return ((t ^ (t >> np.uint64(14))) & m).astype(np.float64) / 4294967296.0


def normals_fast(seed: int, n: int, dtype: type = np.float32) -> np.ndarray:
    """Vectorised `normals(seed, n)` (same values), for noise volumes of millions of voxels."""
    pairs = (n + 1) // 2
    u = uniforms_fast(seed, 2 * pairs)
    u1 = 1.0 - u[0::2]
    u2 = u[1::2]
    r = np.sqrt(-2.0 * np.log(u1))
    out = np.empty(2 * pairs, np.float64)
    out[0::2] = r * np.cos(2 * np.pi * u2)
    out[1::2] = r * np.sin(2 * np.pi * u2)
    return out[:n].astype(dtype)


def stream_seed(seed: int, offset: int) -> int:
    """Derived stream seeds as uint32 (MODEL_FORMAT.md §4/§5: s + 1, s + 2, ...)."""
    return (seed + offset) & 0xFFFFFFFF

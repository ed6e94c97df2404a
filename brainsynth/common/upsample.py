"""The half-resolution grid of the texture's smooth part and its interpolation back
(MODEL_FORMAT.md §5 step 1; the engine's render/seedCache.ts does the same float32 steps)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def coarse_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The half-resolution grid of the smooth texture part: node j sits on fine voxel 2j, and
    node floor(i/2) + 1 exists for every fine voxel i."""
    return tuple((n - 1) // 2 + 2 for n in shape)


def upsample2(c: NDArray[np.float32], shape: tuple[int, ...]) -> NDArray[np.float32]:
    """Linear interpolation of a coarse [x, y, z] field onto the fine grid, axis by axis (x, y,
    z): even fine voxels take node i/2, odd ones 0.5·node + 0.5·next node (float32)."""
    half = np.float32(0.5)
    out = np.asarray(c, np.float32)
    for axis, n in enumerate(shape):
        idx = np.arange(n) // 2
        a = np.take(out, idx, axis=axis)
        b = np.take(out, idx + 1, axis=axis)
        odd = (np.arange(n) % 2 == 1).reshape([-1 if k == axis else 1 for k in range(out.ndim)])
        out = np.where(odd, a * half + b * half, a).astype(np.float32)
    return out

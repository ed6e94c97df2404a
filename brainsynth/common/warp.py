"""Interpolation, scaling-and-squaring and label warping exactly as MODEL_FORMAT.md §3.

The engine (src/engine/sampler) implements the same rules; calibration depends on it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from brainsynth.common.grid import FloatArray, Grid

SQUARING_STEPS = 6


def trilinear(field: FloatArray, grid: Grid, pts: FloatArray) -> FloatArray:
    """Sample field [C, nx, ny, nz] at world points [3, ...] with border clamping -> [C, ...]."""
    q = grid.to_voxel(pts)
    for a in range(3):
        np.clip(q[a], 0.0, grid.shape[a] - 1, out=q[a])
    return np.stack(
        [ndimage.map_coordinates(f, q, order=1, mode="nearest", prefilter=False) for f in field]
    ).astype(np.float32)


def exp_velocity(v: FloatArray, grid: Grid, steps: int = SQUARING_STEPS) -> FloatArray:
    """Displacement u = exp(v) by scaling and squaring: u <- u + u(x + u)."""
    x = grid.world_coords()
    u = (v / (2**steps)).astype(np.float32)
    for _ in range(steps):
        u = u + trilinear(u, grid, x + u)
    return u


def nearest_labels(labels: NDArray[np.uint8], grid: Grid, pts: FloatArray) -> NDArray[np.uint8]:
    """Nearest-neighbour lookup of a label volume at world points; outside -> 0."""
    q = np.floor(grid.to_voxel(pts) + 0.5).astype(np.int64)
    inside = np.ones(q.shape[1:], dtype=bool)
    for a in range(3):
        inside &= (q[a] >= 0) & (q[a] < grid.shape[a])
        np.clip(q[a], 0, grid.shape[a] - 1, out=q[a])
    out = labels[q[0], q[1], q[2]]
    return np.where(inside, out, 0).astype(np.uint8)


def warp_volume(vol: FloatArray, grid: Grid, disp: FloatArray, order: int = 1) -> FloatArray:
    """Pull a [C, ...] volume through displacement [3, ...] defined on the same grid."""
    x = grid.world_coords() + disp
    q = grid.to_voxel(x)
    return np.stack(
        [ndimage.map_coordinates(c, q, order=order, mode="nearest", prefilter=False) for c in vol]
    ).astype(np.float32)

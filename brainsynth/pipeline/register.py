"""Diffeomorphic registration of multi-channel tissue maps with stationary velocity fields.

A compact demons-type scheme (Vercauteren et al.'s diffeomorphic demons, with the update
added to the velocity): small enough to run on a laptop CPU at 4 mm, which is all the shape
model needs. Written here because no maintained numpy/scipy-only SVF registration exists and
torch is not a dependency of the first model.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from brainsynth.common.grid import FloatArray, Grid
from brainsynth.common.warp import exp_velocity, warp_volume


def _smooth_field(f: FloatArray, sigma_vox: float) -> FloatArray:
    return np.stack([ndimage.gaussian_filter(c, sigma_vox, mode="nearest") for c in f])


def register_svf(
    fixed: FloatArray,
    moving: FloatArray,
    grid: Grid,
    iterations: int = 40,
    fluid_sigma: float = 1.0,
    diffusion_sigma: float = 1.5,
    max_step_mm: float = 2.0,
    v0: FloatArray | None = None,
) -> FloatArray:
    """Velocity v (mm, [3, ...]) such that moving(x + exp(v)(x)) ~ fixed(x)."""
    v = np.zeros((3,) + grid.shape, np.float32) if v0 is None else v0.copy()
    sp = np.asarray(grid.spacing, np.float32).reshape(3, 1, 1, 1)
    for _ in range(iterations):
        u = exp_velocity(v, grid)
        warped = warp_volume(moving, grid, u)
        diff = warped - fixed
        grads = np.stack([np.stack(np.gradient(w)) for w in warped]) / sp[None]  # [C,3,...]
        num = -(diff[:, None] * grads).sum(0)
        den = (grads**2).sum((0, 1)) + (diff**2).sum(0) / max(1.0, float(fixed.shape[0]))
        upd = num / (den + 1e-3)[None]
        upd = _smooth_field(upd.astype(np.float32), fluid_sigma)
        norm = np.sqrt((upd**2).sum(0)).max()
        if norm > max_step_mm:
            upd *= max_step_mm / norm
        v = _smooth_field(v + upd, diffusion_sigma)
    return v


def ssd(fixed: FloatArray, moving: FloatArray, grid: Grid, v: FloatArray) -> float:
    return float(np.mean((warp_volume(moving, grid, exp_velocity(v, grid)) - fixed) ** 2))

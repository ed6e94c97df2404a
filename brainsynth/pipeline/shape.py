"""Low-dimensional shape model: PCA of the velocity fields that carry the template onto each
subject, with the atrophy (ageing) direction regressed out so age is controlled separately."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from brainsynth.common.grid import VELOCITY_GRID, FloatArray, Grid
from brainsynth.common.warp import trilinear


@dataclass
class ShapeModel:
    components: FloatArray  # [K, 3, vx, vy, vz], unit-norm directions
    sigma: NDArray[np.float64]  # [K] standard deviation of each coefficient
    explained: NDArray[np.float64]  # [K] fraction of (residual) variance
    atrophy_r2: float  # how much of the shape variance the atrophy index explains
    atrophy_direction: FloatArray  # [3, vx, vy, vz] velocity per unit (z-scored) atrophy index


def to_velocity_grid(v: FloatArray, src: Grid) -> FloatArray:
    return trilinear(v, src, VELOCITY_GRID.world_coords())


def fit_shape_model(
    template_to_subject: list[FloatArray], atrophy_index: NDArray[np.float64], k: int
) -> ShapeModel:
    w = np.stack([f.ravel() for f in template_to_subject]).astype(np.float64)  # [n, D]
    w -= w.mean(0)
    a = (atrophy_index - atrophy_index.mean()) / atrophy_index.std()
    beta = a @ w / (a @ a)  # least-squares slope per dimension
    resid = w - np.outer(a, beta)
    total = float((w**2).sum())
    r2 = 1.0 - float((resid**2).sum()) / total
    _, s, vt = np.linalg.svd(resid, full_matrices=False)
    n = w.shape[0]
    sigma = s[:k] / np.sqrt(n - 1)
    explained = (s[:k] ** 2) / float((s**2).sum())
    shape = template_to_subject[0].shape
    comps = vt[:k].reshape((k,) + shape).astype(np.float32)
    return ShapeModel(comps, sigma, explained, r2, beta.reshape(shape).astype(np.float32))

"""Regional volume-change basis: for each region a velocity field whose divergence is the
region's (smoothed) indicator, so gain g changes that region's volume by about exp(g).

v_r = -grad(phi_r) with laplacian(phi_r) = 1_r (Dirichlet boundary, solved exactly by a
type-I discrete sine transform). Under the pull-back convention output(x) = T(x + u(x)) the
output volume scales like 1 - div(u), hence the minus sign.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import fft, ndimage

from brainsynth.common.grid import OUTPUT_GRID, VELOCITY_GRID, FloatArray
from brainsynth.common.warp import trilinear


def poisson_dirichlet(rhs: NDArray[np.float64], spacing: float) -> NDArray[np.float64]:
    coeffs = fft.dstn(rhs, type=1)
    eig = np.zeros(rhs.shape)
    for axis, n in enumerate(rhs.shape):
        k = np.arange(1, n + 1)
        lam = (2 * np.cos(np.pi * k / (n + 1)) - 2) / spacing**2
        shape = [1, 1, 1]
        shape[axis] = n
        eig = eig + lam.reshape(shape)
    return np.asarray(fft.idstn(coeffs / eig, type=1))


def regional_basis(template_values: NDArray[np.int32], regions: list[list[int]]) -> FloatArray:
    """[R, 3, vx, vy, vz] basis fields on the velocity grid."""
    pts = VELOCITY_GRID.world_coords()
    h = VELOCITY_GRID.spacing[0]
    out = []
    for labels in regions:
        ind = np.isin(template_values, labels).astype(np.float32)
        ind = ndimage.gaussian_filter(ind, 1.5)  # 3 mm: the velocity grid's Nyquist scale
        rhs = trilinear(ind[None], OUTPUT_GRID, pts)[0].astype(np.float64)
        # Keep the total so that the coarse indicator has the region's true volume.
        rhs *= ind.sum() * OUTPUT_GRID.voxel_volume_ml / max(rhs.sum() * h**3 / 1000, 1e-9)
        phi = poisson_dirichlet(rhs, h)
        out.append(-np.stack(list(np.gradient(phi, h))))
    return np.asarray(out, dtype=np.float32)

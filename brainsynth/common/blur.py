"""The separable Gaussian of MODEL_FORMAT.md §5 (and §3 step 4b): taps i in [-r, r],
r = max(1, ceil(3 sigma)), w_i ~ exp(-i^2 / 2 sigma^2), sum 1, zero padding, along x, y, z —
what the engine's kernels/blur.ts computes (float32 values; sums may round differently)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage


def gaussian_kernel(sigma: float) -> NDArray[np.float64]:
    r = max(1, int(np.ceil(3 * sigma)))
    i = np.arange(-r, r + 1)
    w = np.exp(-(i**2) / (2 * sigma**2))
    return w / w.sum()


def blur(vol: NDArray[np.float32], sigma: float) -> NDArray[np.float32]:
    """Separable Gaussian with zero padding ('same'), as the engine's conv3d."""
    if not sigma > 0:
        return vol.copy()
    w = gaussian_kernel(sigma)
    out = np.asarray(vol, np.float32)
    for axis in range(3):
        out = np.asarray(
            ndimage.correlate1d(out, w.astype(np.float32), axis=axis, mode="constant", cval=0.0),
            np.float32,
        )
    return out


def smoothed_noise_std(sigma: float) -> float:
    if not sigma > 0:
        return 1.0
    w = gaussian_kernel(sigma)
    return float((w**2).sum() ** 1.5)

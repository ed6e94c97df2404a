"""The T1w texture fit (pipeline.appearance_fit): where the texture is measured, and that the
fit recovers the texture a renderer-like chain drew."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from brainsynth.pipeline import appearance_fit as af


def _slab_with_depth_profile(seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """A WM block (1.0 + white texture of SD 0.02) whose two outer voxel shells are darker
    (0.87, 0.96), as real WM near the cortex is (0.88, 0.98, then flat); outside it a darker
    'cortex'."""
    rng = np.random.default_rng(seed)
    shape = (40, 40, 40)
    wm = np.zeros(shape, bool)
    wm[6:-6, 6:-6, 6:-6] = True
    sd = 0.02
    img = np.where(wm, 1.0, 0.7) + sd * rng.standard_normal(shape)
    inner = ndimage.binary_erosion(wm)
    img[wm & ~inner] -= 0.13
    img[inner & ~ndimage.binary_erosion(inner)] -= 0.04
    return img, wm, sd


def test_the_texture_is_measured_away_from_the_depth_profile() -> None:
    img, wm, sd = _slab_with_depth_profile()
    mask = af.texture_mask(wm)
    # at least TEXTURE_DEPTH 6-neighbour steps from the nearest non-WM voxel
    depth = ndimage.distance_transform_cdt(wm, metric="taxicab")
    assert mask.any() and np.array_equal(mask, depth >= af.TEXTURE_DEPTH)
    _, deep_sd = af.residual_acf(img, mask)
    _, shallow_sd = af.residual_acf(img, ndimage.binary_erosion(wm))
    # the deep residual is the texture (detrending removes a little of it); one erosion keeps
    # the second shell, whose offset the residual then counts as texture
    assert abs(deep_sd - sd) < 0.15 * sd
    assert shallow_sd > deep_sd * 1.1


def test_fit_texture_recovers_a_drawn_texture() -> None:
    # the model's autocorrelation for a known texture: smooth-heavy, sigma 3, PSF 0.45
    ww, ss, ws = af.model_acf_parts(3.0, 0.45, seed=11)
    c0, c1 = 0.6, 0.8
    c = c0 * c0 * ww + c1 * c1 * ss + c0 * c1 * ws
    got = af.fit_texture(c[1:] / c[0])
    assert got["sigma"] == 3.0 and got["pvSigma"] == 0.45
    assert abs(got["smooth"] - c1) < 0.05 and abs(got["white"] - c0) < 0.05
    assert got["error"] < 1e-3

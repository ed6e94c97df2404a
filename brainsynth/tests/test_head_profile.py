"""The vault profile (brainsynth.common.head_profile): layers read in order and at their depths,
whatever the head's size; the face/neck below the brain never enters; bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest

from brainsynth.common import tissue
from brainsynth.common.head_profile import N_BINS, vault_bins, vault_profile

# shells outside a brain ball of radius R (mm): (outer radius as a multiple of R, intensity)
LAYERS = ((1.15, 0.30), (1.45, 0.10), (1.75, 0.80), (1.9, 0.40))  # CSF, skull, scalp, skin


def phantom(radius: float, spacing: float = 2.0, neck: bool = False):  # type: ignore[no-untyped-def]
    n = int(2 * 2.2 * radius / spacing) + 4
    c = (n - 1) / 2.0
    i, j, k = np.meshgrid(*(np.arange(n),) * 3, indexing="ij")
    r = spacing * np.sqrt((i - c) ** 2 + (j - c) ** 2 + (k - c) ** 2)
    classes = np.where(r <= radius, tissue.WM, tissue.OUTSIDE).astype(np.int8)
    img = np.where(r <= radius, 1.0, 0.0)
    inner = radius
    for outer, value in LAYERS:
        img = np.where((r > inner) & (r <= outer * radius), value, img)
        inner = outer * radius
    if neck:  # a bright block under the brain, as a neck or face would be
        img = np.where((k < c - 1.2 * radius / spacing) & (r > 1.1 * radius), 1.5, img)
    affine = np.diag([spacing, spacing, spacing, 1.0])
    affine[:3, 3] = -c * spacing
    return img, classes, affine


def test_layers_read_in_order_at_their_depths_for_any_head_size() -> None:
    for radius in (40.0, 60.0):
        img, classes, affine = phantom(radius)
        p = vault_profile(img, classes, affine)
        assert p.shape == (N_BINS,) and np.isfinite(p).all()
        t = (np.arange(N_BINS) + 0.5) / N_BINS
        # expected: the layer whose normalised depth range holds the bin centre
        bounds = [(o - 1.0) / (LAYERS[-1][0] - 1.0) for o, _ in LAYERS]
        expect = [next(v for b, (_, v) in zip(bounds, LAYERS, strict=True) if tt < b) for tt in t]
        # bins that straddle a boundary may read either neighbour; most bins read their layer
        hits = np.isclose(p, expect, atol=0.02)
        assert hits.sum() >= N_BINS - 3, (radius, p.round(2), expect)
        assert np.nanargmin(p) < N_BINS // 2 <= np.nanargmax(p)  # dark skull inside bright scalp


def test_only_the_vault_counts() -> None:
    img, classes, affine = phantom(50.0)
    bins = vault_bins(img, classes, affine)
    z = np.arange(img.shape[2]) * affine[2, 2] + affine[2, 3]
    below = np.broadcast_to(z[None, None, :] <= 0.0, img.shape)
    assert (bins[below] == -1).all() and (bins >= 0).any()
    assert (bins[classes != tissue.OUTSIDE] == -1).all()  # never inside the brain
    with_neck = vault_profile(*phantom(50.0, neck=True))
    assert np.allclose(with_neck, vault_profile(img, classes, affine), equal_nan=True)


def test_bad_input_is_refused() -> None:
    img, classes, affine = phantom(40.0)
    with pytest.raises(ValueError, match="differ in shape"):
        vault_bins(img[:-1], classes, affine)
    with pytest.raises(ValueError, match="no brain"):
        vault_bins(img, np.zeros_like(classes), affine)
    with pytest.raises(ValueError, match="n_bins"):
        vault_bins(img, classes, affine, n_bins=0)
    stripped = np.where(classes != tissue.OUTSIDE, img, 0.0)  # a skull-stripped image
    assert np.isnan(vault_profile(stripped, classes, affine)).all()


def test_head_fit_reads_each_layer_by_its_feature_and_keeps_sd_ratios() -> None:
    from brainsynth.pipeline.head_fit import layer_values, with_means

    prof = np.array([0.3, 0.25, 0.17, 0.14, 0.45, 0.68, 0.53, 0.33, 0.36, 0.30])
    skull, soft, outer = layer_values(prof, [515, 507, 511])
    assert skull == pytest.approx(0.14) and soft == pytest.approx(0.68)
    assert outer == pytest.approx(0.33)
    with pytest.raises(ValueError, match="misses a layer"):
        layer_values(np.full(10, np.nan), [515])
    man = {
        "appearance": {
            "contrasts": {"T1w": {"mean": [0.0, 0.25, 0.6, 0.9], "sd": [0.0, 0.1, 0.3, 0.05]}},
        }
    }
    base = {"mean": [0.25, 0.6], "sd": [0.1, 0.3]}  # labels 1 and 2 before the first fit
    out = with_means(man, base, [1, 2], np.array([0.125, 1.2]))
    t1 = out["appearance"]["contrasts"]["T1w"]
    assert t1["mean"] == [0.0, 0.125, 1.2, 0.9]  # label 3 (e.g. a brain row) untouched
    assert t1["sd"] == [0.0, 0.05, 0.6, 0.05]  # SD / mean kept (0.4, 0.5), under the cap
    assert man["appearance"]["contrasts"]["T1w"]["mean"] == [0.0, 0.25, 0.6, 0.9]  # input kept

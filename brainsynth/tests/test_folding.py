"""Step 7b, individual cortical folding (brainsynth/folding.py, MODEL_FORMAT.md §3)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from brainsynth.folding import (
    CSF,
    apply_folding,
    cube_table,
    sheet_distance,
    wave_number,
    waves,
)
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline.folding import PARAMETERS
from brainsynth.teacher.generate import generate

PARAMS = {k: v for k, v in PARAMETERS.items() if k != "source"}
HAVE_MODEL = (DEFAULT_MODEL_DIR / "manifest.json").is_file()


def direct_field(seed: int, d: np.ndarray) -> np.ndarray:
    """F(d) evaluated directly from the waves (no table), d [3, M] unit vectors."""
    w, phase = waves(seed, PARAMS["waves"])
    k = wave_number(PARAMS)
    acc = np.zeros(d.shape[1])
    for j in range(w.shape[0]):
        acc += np.cos(k * (w[j] @ d) + phase[j])
    return acc * math.sqrt(2.0 / w.shape[0])


def random_directions(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((3, n))
    return v / np.sqrt((v**2).sum(0))


def test_field_has_unit_variance_and_is_seeded() -> None:
    d = random_directions(20000)
    f1 = direct_field(1, d)
    assert abs(f1.var() - 1.0) < 0.15
    assert np.array_equal(f1, direct_field(1, d))
    # ~360 independent patches on the sphere: sample correlation of two seeds sd ~0.05
    assert abs(np.corrcoef(f1, direct_field(2, d))[0, 1]) < 0.3


def test_table_lookup_matches_the_field() -> None:
    """The cube map + bilinear lookup is the field itself to well under a sheet width."""
    d = random_directions(5000, seed=3)
    table = cube_table(5, PARAMS)
    radius = 70.0
    dist = sheet_distance(table, d * radius, PARAMS)
    expected = np.abs(direct_field(5, d)) * radius / (math.sqrt(2 / 3) * wave_number(PARAMS))
    near = expected < 3.0  # where the rule looks (core and lining)
    assert near.sum() > 500
    assert np.percentile(np.abs(dist - expected)[near], 99) < 0.15  # mm; core 1.8 mm wide


def test_sheet_distance_is_continuous_across_cube_faces() -> None:
    """Points just either side of a face seam (|x| = |y|) give the same distance."""
    table = cube_table(9, PARAMS)
    t = np.linspace(-0.9, 0.9, 50)
    a = np.stack([np.ones_like(t), np.ones_like(t) - 1e-9, t]) * 60
    b = np.stack([np.ones_like(t) - 1e-9, np.ones_like(t), t]) * 60
    assert np.allclose(
        sheet_distance(table, a, PARAMS), sheet_distance(table, b, PARAMS), atol=1e-4
    )


def test_rule_relabels_only_cortex_and_white_matter() -> None:
    rng = np.random.default_rng(0)
    values = rng.choice([0, 2, 3, 4, 10, 41, 42, 24], size=(30, 30, 30))
    x = (np.stack(np.meshgrid(*[np.arange(30) * 2.0 - 30] * 3, indexing="ij")) + 0.5).astype(
        np.float32
    )
    depth = np.full(values.shape, 5.0)
    out, frac = apply_folding(values, x, depth, 7, PARAMS, [0.0, 0.0, 0.0], 2.0)
    changed = out != values
    assert changed.any()
    assert set(np.unique(values[changed])) <= {2, 3, 41, 42}
    assert set(np.unique(out[changed])) <= {CSF, 2, 3, 41, 42}
    # WM only becomes cortex of its own side, cortex only WM of its own side (gyral core)
    assert not np.any((values == 2) & (out == 42)) and not np.any((values == 41) & (out == 3))
    assert not np.any((values == 3) & (out == 41)) and not np.any((values == 42) & (out == 2))
    # partial volume only on voxels that end as cortex, within [0, 1]
    assert np.all(frac[~np.isin(out, [3, 42])] == 0)
    # a voxel more than half CSF is labelled CSF: cortex keeps fractions in (0, 0.5]
    assert frac.min() >= 0 and 0.3 < frac.max() <= 0.5
    # too deep: nothing changes
    out2, _ = apply_folding(values, x, np.full(values.shape, 40.0), 7, PARAMS, [0, 0, 0], 2.0)
    assert np.array_equal(out2, values)


@pytest.mark.skipif(not HAVE_MODEL, reason="committed model folder missing")
def test_teacher_opens_individual_sulci_that_follow_the_subject() -> None:
    cond = {"age": 40, "sex": "female", "pathology": "none", "contrast": "T1w"}
    a = generate(DEFAULT_MODEL_DIR, cond, 11, 2.0, device="numpy")
    b = generate(DEFAULT_MODEL_DIR, {**cond, "age": 80}, 11, 2.0, device="numpy")
    c = generate(DEFAULT_MODEL_DIR, cond, 12, 2.0, device="numpy")

    def sulci(v: np.ndarray) -> np.ndarray:
        return v == CSF

    def dice(p: np.ndarray, q: np.ndarray) -> float:
        return float(2 * (p & q).sum() / (p.sum() + q.sum()))

    # same seed, older: the same sulci (carried by the deformation), much more than another seed
    same = dice(sulci(a.labels), sulci(b.labels))
    other = dice(sulci(a.labels), sulci(c.labels))
    assert same > other + 0.1, (same, other)
    # the sulci are in the image: CSF-fraction darkens cortex (mean cortex below the unfolded)
    assert a.sidecar["regionalVolumesMl"]["csf"] > 0


@pytest.mark.skipif(not HAVE_MODEL, reason="committed model folder missing")
def test_one_mm_is_the_same_folding_finer() -> None:
    cond = {"age": 60, "sex": "male", "pathology": "none", "contrast": "T1w"}
    lo = generate(DEFAULT_MODEL_DIR, cond, 21, 2.0, device="numpy")
    hi = generate(DEFAULT_MODEL_DIR, cond, 21, 1.0, device="numpy")
    # block the 1 mm CSF mask onto the 2 mm grid (voxel pairs tile the 2 mm voxel)
    h = hi.labels == CSF
    nx, ny, nz = (s // 2 for s in h.shape)
    frac_hi = h[: 2 * nx, : 2 * ny, : 2 * nz].reshape(nx, 2, ny, 2, nz, 2).mean((1, 3, 5))
    lo_csf = lo.labels == CSF
    assert lo_csf.shape == frac_hi.shape
    # where the 2 mm map has sulcal CSF, the 1 mm map has CSF in that voxel much more often
    assert frac_hi[lo_csf].mean() > 2 * frac_hi[~lo_csf & (frac_hi >= 0)].mean()

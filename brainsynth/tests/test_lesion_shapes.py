"""Stroke and MS lesion shapes (MODEL_FORMAT.md §4) in the teacher: the stroke is an irregular,
cortex-reaching infarct of exactly the asked size with a gliotic rim; the same seed keeps it;
MS lesions come at the configured location shares with the configured black-hole fraction."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from brainsynth.common.grid import Grid
from brainsynth.pathologies.stroke import stroke, stroke_field
from brainsynth.teacher.generate import generate

MODEL = Path(__file__).resolve().parents[2] / "public" / "models" / "brainsynth-shape-v1"
BASE = {"age": 66, "sex": "female", "contrast": "T1w"}
STROKE = {**BASE, "pathology": "stroke", "strokeTerritory": "MCA", "strokeSide": "left"}
SURVIVING = (2, 3, 41, 42, 10, 11, 12, 13, 16, 17, 18, 26, 28, 49, 50, 51, 52, 53, 54, 58, 60)


def _manifest() -> dict[str, object]:
    out: dict[str, object] = json.loads((MODEL / "manifest.json").read_text())
    return out


def _toy_case(fraction: float, seed: int, rim_mm: float = 2.0) -> tuple[np.ndarray, dict[str, Any]]:
    """A 20^3 cube of 'wm' (index 1) inside 'csf' (index 2), one territory."""
    grid = Grid((24, 24, 24), (2.0, 2.0, 2.0), (0.0, 0.0, 0.0))
    idx = np.full(grid.shape, 2, np.int32)
    idx[2:22, 2:22, 2:22] = 1
    codes = np.where(idx == 1, 3, 0).astype(np.uint8)
    i, j, k = np.meshgrid(*(np.arange(24),) * 3, indexing="ij")
    tflat = (i + 24 * (j + 24 * k)).astype(np.int64)
    groups = ["background", "wm", "csf", "pathology", "pathology"]
    spec = {"fieldSpacingVoxels": 5, "fieldAmplitude": 60.0, "rimMm": rim_mm}
    out, info = stroke(
        idx, grid, codes, tflat, (24, 24, 24), None, 3, groups, fraction, seed, spec, 3, 4
    )
    return out, info


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.77, 1.0])
def test_stroke_has_exactly_the_asked_size(fraction: float) -> None:
    out, info = _toy_case(fraction, 11)
    n = 20**3
    assert int(np.isin(out, (3, 4)).sum()) == max(1, math.floor(fraction * n + 0.5))
    assert info["infarctMl"] == pytest.approx(info["cavityMl"] + info["gliosisMl"])


def test_stroke_same_seed_same_lesion_other_seed_other_shape() -> None:
    a, _ = _toy_case(0.2, 5)
    b, _ = _toy_case(0.2, 5)
    c, _ = _toy_case(0.2, 6)
    assert np.array_equal(a, b)
    la, lc = np.isin(a, (3, 4)), np.isin(c, (3, 4))
    assert 2 * (la & lc).sum() / (la.sum() + lc.sum()) < 0.9


def test_stroke_rim_separates_cavity_from_tissue() -> None:
    for rim_mm, steps in ((2.0, 1), (4.0, 2)):
        out, info = _toy_case(0.3, 2, rim_mm)
        cavity, rim, tissue = out == 3, out == 4, out == 1
        assert cavity.any() and rim.any()
        near = ndimage.binary_dilation(tissue, iterations=steps)  # 6-connected steps
        assert not (cavity & near).any()  # no cavity voxel within `steps` of tissue
        assert info["gliosisMl"] > 0


def test_stroke_field_is_smooth_and_bounded() -> None:
    t = np.arange(24**3, dtype=np.int64)
    f = stroke_field((24, 24, 24), 5, 123, t).reshape(24, 24, 24, order="F")
    assert np.abs(f).max() <= 1.0
    assert np.abs(np.diff(f, axis=0)).max() < 0.5  # a 1/5 lattice step changes it little
    assert np.array_equal(f.ravel(order="F"), stroke_field((24, 24, 24), 5, 123, t))


def test_teacher_stroke_is_cortex_based_irregular_and_sized() -> None:
    v = generate(MODEL, {**STROKE, "strokeSize": 0.35}, 7, 2.0, device="numpy")
    p = v.sidecar["pathology"]
    lesion = np.isin(v.labels, (721, 722))
    n = round(p["territoryTissueMl"] / 0.008)
    assert lesion.sum() == max(1, math.floor(0.35 * n + 0.5))  # size as asked, to the voxel
    assert p["cortexFraction"] > 0.2  # the MCA infarct reaches the cortex
    assert p["gliosisMl"] > 0.1 * p["infarctMl"] and p["cavityMl"] > 0.3 * p["infarctMl"]
    # not an ellipsoid: share inside the equal-volume ellipsoid of its second moments
    pts = np.argwhere(lesion).astype(np.float64)
    d = pts - pts.mean(0)
    cov = d.T @ d / len(pts)
    r = (3 * len(pts) / (4 * np.pi * np.sqrt(np.linalg.det(cov)))) ** (1 / 3)
    q = np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d)
    assert (q <= r * r).mean() < 0.8
    # the cavity never touches surviving brain: the gliotic rim lies between
    surviving = np.isin(v.labels, SURVIVING)
    assert not (ndimage.binary_dilation(surviving) & (v.labels == 721)).any()


def test_teacher_stroke_at_1mm_has_the_asked_size() -> None:
    v = generate(MODEL, {**STROKE, "strokeSize": 0.2}, 3, 1.0, device="numpy")
    p = v.sidecar["pathology"]
    n = round(p["territoryTissueMl"] / 0.001)
    assert np.isin(v.labels, (721, 722)).sum() == math.floor(0.2 * n + 0.5)
    assert (v.labels == 722).sum() > 0 and (v.labels == 721).sum() > 0


def test_ms_locations_and_black_holes_at_the_configured_shares() -> None:
    ms = _manifest()["pathology"]["ms"]  # type: ignore[index]
    v = generate(MODEL, {**BASE, "pathology": "ms", "msLesionLoadMl": 30}, 21, 2.0)
    p = v.sidecar["pathology"]
    n = p["lesionCount"]
    assert n > 80
    loc = p["byLocation"]
    assert abs(loc["infratentorial"] / n - ms["locationShares"]["infratentorial"]) < 0.08
    assert abs(loc["juxtacortical"] / n - ms["locationShares"]["juxtacortical"]) < 0.1
    assert abs(p["blackHoles"] / n - ms["blackHoleFraction"]) < 0.1
    lesions = np.isin(v.labels, (701, 702))
    assert abs(lesions.sum() * 0.008 - 30) < 0.01  # load as asked
    assert (v.labels == 702).sum() > 0
    # infratentorial lesions lie below the tentorium (RAS z well below the ventricles)
    z = v.affine[2, 2] * np.argwhere(lesions)[:, 2] + v.affine[2, 3]
    assert (z < -20).sum() > 0

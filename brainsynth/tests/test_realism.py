"""Realism benchmark (brainsynth.qa.realism): statistics, classifiers, report.

The unit tests need no data; the smoke test runs the benchmark on 4 real IXI scans and their
4 synthetic twins and is skipped when ../shared/data is absent."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from brainsynth.common import tissue
from brainsynth.pipeline import real_contrast
from brainsynth.qa.realism import classify, stats
from brainsynth.qa.realism.__main__ import main
from brainsynth.qa.realism.data import quantise

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"  # ../shared/data beside the repo
HAS_DATA = (DATA / "ixi-t1-2mm-index.csv").is_file()


def test_label_maps_share_tissue_classes() -> None:
    fs = tissue.classes_from_freesurfer(np.array([0, 2, 3, 4, 10, 17, 24, 507, 701]))
    assert fs.tolist() == [
        tissue.OUTSIDE,
        tissue.WM,
        tissue.CORTEX,
        tissue.VENTRICLES,
        tissue.DEEP_GM,
        tissue.OTHER_BRAIN,
        tissue.SULCAL_CSF,
        tissue.OUTSIDE,
        tissue.OTHER_BRAIN,
    ]
    muse = tissue.classes_from_dlmuse(np.array([0, 1, 4, 47, 59, 81, 95, 100, 207]))
    assert muse.tolist() == [
        tissue.OUTSIDE,
        tissue.SULCAL_CSF,
        tissue.VENTRICLES,
        tissue.OTHER_BRAIN,
        tissue.DEEP_GM,
        tissue.WM,
        tissue.WM,
        tissue.CORTEX,
        tissue.CORTEX,
    ]
    with pytest.raises(ValueError, match="label values"):
        tissue.classes_from_freesurfer(np.array([-1]))


def test_robust_cv_box_counting_and_faces() -> None:
    rng = np.random.default_rng(0)
    v = rng.normal(1.0, 0.1, 200_000)
    assert abs(stats.robust_cv(v) - 0.1) < 0.002
    cube = np.zeros((32, 32, 32), bool)
    cube[:16, :16, :16] = True
    assert abs(stats.box_counting_dimension(cube) - 3.0) < 0.05
    plane = np.zeros((32, 32, 32), bool)
    plane[:, :, 7] = True
    assert abs(stats.box_counting_dimension(plane) - 2.0) < 0.05
    two = np.zeros((4, 5, 6), np.int8)
    two[:2] = tissue.CORTEX
    two[2:] = tissue.WM
    # one 5 x 6 interface of 2 mm x 2 mm faces
    assert stats.label_faces(two, tissue.CORTEX, tissue.WM, (2.0, 2.0, 2.0)) == 5 * 6 * 4.0


def test_isosurface_area_of_a_ball_and_of_a_folded_sheet() -> None:
    # a ball of radius 12 voxels at 2 mm: 4 pi (24 mm)^2, within 4 % after the light smoothing
    g = np.mgrid[:48, :48, :48].astype(np.float64)
    r = np.sqrt(((g - 23.5) ** 2).sum(0))
    ball = (r < 12).astype(np.float64)
    everywhere = np.ones(ball.shape, bool)
    area = stats.isosurface_area(ball, 0.5, everywhere, (2.0, 2.0, 2.0))
    assert area == pytest.approx(4 * np.pi * 24.0**2, rel=0.04)
    # only the surface inside the region (eroded by one voxel) counts: a sphere's zone has
    # area in proportion to its height, here x <= 24.5 voxels of a ball centred at 23.5: 13/24
    left = everywhere.copy()
    left[26:] = False
    assert stats.isosurface_area(ball, 0.5, left, (2.0, 2.0, 2.0)) == pytest.approx(
        area * 13 / 24, rel=0.05
    )
    # a folded interface has more area than a flat one of the same extent
    x, y = g[0], g[1]
    flat = (g[2] < 24).astype(np.float64)
    folded = (g[2] < 24 + 6 * np.sin(2 * np.pi * x / 16) * np.sin(2 * np.pi * y / 16)).astype(
        np.float64
    )
    a_flat = stats.isosurface_area(flat, 0.5, everywhere, (1.0, 1.0, 1.0))
    assert a_flat == pytest.approx(46.0 * 46.0, rel=0.03)  # the eroded region's cross-section
    assert stats.isosurface_area(folded, 0.5, everywhere, (1.0, 1.0, 1.0)) > 1.3 * a_flat
    # no level crossing: no surface
    assert stats.isosurface_area(ball, 2.0, everywhere, (2.0, 2.0, 2.0)) == 0.0


def test_spectrum_slope_separates_noise_from_smooth_texture() -> None:
    rng = np.random.default_rng(1)
    mask = np.ones((48, 48, 48), bool)
    noise = rng.normal(0, 1, mask.shape)
    white = stats.spectrum_slope(stats.radial_spectrum(noise, mask))
    smooth = stats.spectrum_slope(stats.radial_spectrum(ndimage.gaussian_filter(noise, 1.5), mask))
    assert abs(white) < 0.5
    assert smooth < -3.0
    # lag-1 autocorrelation: ~0 for white noise, high for smoothed noise
    assert abs(stats.residual_acf1(noise, mask)) < 0.1
    assert stats.residual_acf1(ndimage.gaussian_filter(noise, 1.5), mask) > 0.5


def test_quantise_puts_white_matter_on_the_real_level() -> None:
    classes = np.full((10, 10, 10), tissue.WM, np.int8)
    img = np.full(classes.shape, 0.37, np.float32)
    img[0] = 5.0  # bright outlier: clipped to 255
    q = quantise(img, classes, 97.0)
    assert q.dtype == np.uint8
    assert int(np.median(q[1:-1, 1:-1, 1:-1])) == 97
    assert q.max() == 255


def test_classifiers_are_at_chance_on_duplicates_and_perfect_when_separable() -> None:
    rng = np.random.default_rng(2)
    real = rng.normal(0, 1, (12, 5))
    dup = classify.real_vs_synthetic(real, real.copy())
    assert all(v == 0.5 for v in dup.values()), dup
    far = classify.real_vs_synthetic(real, real + 10.0)
    assert all(v == 1.0 for v in far.values()), far
    ch = classify.chance_control(real, repeats=2)
    assert all(0.0 <= ch[n]["mean"] <= 1.0 for n in classify.CLASSIFIERS)
    with pytest.raises(ValueError, match="finite"):
        classify.real_vs_synthetic(real, np.full_like(real, np.nan))


def test_contrast_ratios_and_kmeans_order() -> None:
    img = np.zeros((20, 20, 20))
    img[:5], img[5:10], img[10:] = 1.0, 2.0, 3.0
    cl = real_contrast.kmeans3(img, np.ones(img.shape, bool))
    assert cl[0, 0, 0] == 0 and cl[7, 0, 0] == 1 and cl[15, 0, 0] == 2
    masks = real_contrast.Masks(gm=cl == 1, wm=cl == 2, csf=cl == 0, lesions={"x": cl == 0})
    r = real_contrast.ratios(img, masks)
    assert r["gmWm"] == pytest.approx(2 / 3) and r["csfWm"] == pytest.approx(1 / 3)
    assert r["lesions"]["x"]["lesionGm"] == pytest.approx(0.5)


def test_synthetic_tissue_masks_are_segmented_like_the_real_cases() -> None:
    """The benchmark's synthetic T2w/FLAIR masks come from k-means of the T1w (as the real MS and
    glioma cases'), lesions from their labels and kept out of the tissue classes."""
    labels = np.zeros((30, 30, 30), np.int16)
    labels[2:28, 2:28, 2:10] = 24  # sulcal CSF
    labels[2:28, 2:28, 10:18] = 3  # cortex
    labels[2:28, 2:28, 18:28] = 2  # WM
    labels[12:16, 12:16, 20:24] = 701  # an MS lesion in the WM
    t1 = np.select(
        [labels == 24, labels == 3, labels == 2, labels == 701], [0.3, 0.7, 1.0, 0.8], 0.0
    )
    t1 = t1 + 0.01 * np.random.default_rng(0).standard_normal(t1.shape)
    m = real_contrast.synthetic_t1_masks(t1, labels, "ms")
    assert m.csf.sum() == (labels == 24).sum() and np.all(labels[m.csf] == 24)
    assert np.all(labels[m.gm] == 3) and m.gm.sum() == (labels == 3).sum()
    # the lesion (and 2 voxels around it) is in no tissue class; it is its own mask
    assert not (m.wm & (labels == 701)).any() and not (m.gm & (labels == 701)).any()
    assert m.wm.sum() < (labels == 2).sum()
    assert np.array_equal(m.lesions["ms-lesion"], labels == 701)
    # outside the brain (label 0) is in no class
    assert not (m.gm | m.wm | m.csf)[labels == 0].any()


def test_cli_reports_a_missing_data_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "ixi-t1-2mm-index.csv" in capsys.readouterr().err


@pytest.mark.skipif(not HAS_DATA, reason="../shared/data (IXI T1s + DLMUSE labels) absent")
def test_benchmark_smoke_on_four_real_and_four_synthetic(tmp_path: Path) -> None:
    from brainsynth.qa.realism import report
    from brainsynth.qa.realism.benchmark import ScanResult, compare_statistics, matrix, run

    res = run(DATA, subset=4, t2_flair=False, chance_repeats=2, log=lambda _m: None)
    s = res.summary
    assert s["nReal"] == 4 and len(res.synthetic["synthetic-2mm"]) == 4
    for group in s["perScan"].values():
        for values in group:
            assert all(np.isfinite(v) for v in values.values()), values
    for r in res.real:
        v = r.measured.values
        assert 0.6 < v["gmWmRatio"] < 0.8
        assert 0.3 < v["csfWmRatio"] < 0.7
        assert 0.1 < v["gmRobustCv"] < 0.4
        assert 120 < v["boundaryAreaPerMl"] < 200  # issue 10: 160 +/- 4 mm^2/mL
        assert 2.0 < v["cortexFractalDim"] < 3.0
        assert v["spectrumSlope"] < -1.0
        # the head over the vault: a dark skull inside a brighter scalp (IXI keeps the head)
        assert v["vaultDarkLayer"] < 0.35 < v["vaultBrightLayer"]
        assert 0.0 < v["vaultBrightDepth"] < 1.0
        # the 3 T field brightens the middle of the brain: superficial WM darker than deep WM
        assert 0.7 < v["wmSuperficialDeepRatio"] < 0.95
        assert r.measured.vault_profile.shape == (10,)
    for r in res.synthetic["synthetic-2mm"]:
        assert 0.5 < r.measured.values["gmWmRatio"] < 0.9
        assert r.scan.stored.dtype == np.uint8
    # a "synthetic" set identical to the real one: z = 0 everywhere, classifiers at chance
    copies = [ScanResult(replace(r.scan, kind="synthetic-2mm"), r.measured, r.w1) for r in res.real]
    same = compare_statistics(res.real, {"synthetic-2mm": copies})
    assert all(abs(row["synthetic-2mm"]["z"]) < 1e-9 for row in same.values())
    names = list(stats.STATISTICS)
    acc = classify.real_vs_synthetic(matrix(res.real, names), matrix(copies, names))
    assert all(v == 0.5 for v in acc.values()), acc
    paths = report.write(res, tmp_path / "realism")
    for p in paths.values():
        assert p.is_file() and p.stat().st_size > 0
    saved = json.loads(paths["json"].read_text())
    assert set(saved["statistics"]) == set(stats.STATISTICS) | {"histogramW1"}
    assert "GM robust CV" in paths["md"].read_text()


def test_trends_read_age_slopes_and_spreads_from_a_run() -> None:
    from brainsynth.qa.realism.trends import age_slope, main, trends

    ages = [20.0, 40.0, 60.0, 80.0]
    summary = {
        "scans": [{"age": a} for a in ages],
        "statistics": {"x": {}, "flat": {}},
        "perScan": {
            # real: +1 per decade; synthetic: the same trend, half the spread about it
            "real": [
                {"x": a / 10 + d, "flat": 1.0} for a, d in zip(ages, [1, -1, -1, 1], strict=True)
            ],
            "synthetic-2mm": [
                {"x": a / 10 + d, "flat": 1.0}
                for a, d in zip(ages, [0.5, -0.5, -0.5, 0.5], strict=True)
            ],
        },
    }
    rows = trends(summary)
    assert [r["statistic"] for r in rows] == ["x"]  # no real spread: no row
    real_sd = float(np.std([3.0, 3.0, 5.0, 9.0], ddof=1))
    assert rows[0]["realAgeSlope"] == pytest.approx(1.0 / real_sd)
    assert rows[0]["synthetic-2mm"]["ageSlope"] == pytest.approx(1.0 / real_sd)
    syn_sd = float(np.std([2.5, 3.5, 5.5, 8.5], ddof=1))
    assert rows[0]["synthetic-2mm"]["sdRatio"] == pytest.approx(syn_sd / real_sd)
    with pytest.raises(ValueError, match="at least 3"):
        age_slope([1.0, 2.0], [1.0, 2.0], 1.0)
    assert main(["/no/such/realism.json"]) == 2

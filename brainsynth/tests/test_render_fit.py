"""pipeline.render_fit: tissue means and bias strength fitted through the renderer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline import render_fit as rf


def _phantom(
    rng: np.random.Generator, gm: float, bias: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """A 32^3 box: WM core (1.0), a cortex shell (gm), a ventricle (0.4), an optional linear
    bias across x, plus a little noise."""
    groups = np.full((32, 32, 32), "", dtype=object)
    groups[4:28, 4:28, 4:28] = "cortex"
    groups[7:25, 7:25, 7:25] = "wm"
    groups[14:18, 14:18, 14:18] = "ventricle"
    img = np.zeros(groups.shape)
    img[groups == "cortex"] = gm
    img[groups == "wm"] = 1.0
    img[groups == "ventricle"] = 0.4
    x = np.linspace(-1, 1, 32)[:, None, None]
    img = img * np.exp(bias * x) + 0.01 * rng.standard_normal(img.shape)
    return img, groups.astype(str)


def test_measure_reads_group_ratios_against_eroded_wm() -> None:
    img, groups = _phantom(np.random.default_rng(0), gm=0.7)
    m = rf.measure(img * 250.0, groups)  # ratios do not depend on the scale
    assert m["cortex"] == pytest.approx(0.7, abs=0.01)
    assert m["ventricle"] == pytest.approx(0.4, abs=0.01)
    assert "hippocampus" not in m  # absent groups are not reported
    flat = m["wmTrendCv"]
    biased = rf.measure(*_phantom(np.random.default_rng(0), gm=0.7, bias=0.3))["wmTrendCv"]
    assert biased > 3 * flat  # a large-scale non-uniformity raises the trend CV


def test_measure_rejects_a_volume_without_white_matter() -> None:
    img, groups = _phantom(np.random.default_rng(0), gm=0.7)
    groups[groups == "wm"] = "cortex"
    with pytest.raises(ValueError, match="white-matter"):
        rf.measure(img, groups)


def test_solve_bias_recovers_the_amplitude_of_the_model() -> None:
    a, k = 0.03, 0.15

    def cv(b: float) -> float:
        return float(np.sqrt(a * a + (k * b) ** 2))

    assert rf.solve_bias(0.1, cv(0.1), 0.2, cv(0.2), cv(0.55)) == pytest.approx(0.55)
    assert rf.solve_bias(0.1, cv(0.1), 0.2, cv(0.2), 0.01) == 0.0  # below the floor: no bias
    with pytest.raises(ValueError):
        rf.solve_bias(0.2, 0.1, 0.1, 0.1, 0.1)


def test_update_means_scales_by_group_and_keeps_wm_head_and_lesions() -> None:
    man = {
        "labels": [
            {"value": 0, "group": "background"},
            {"value": 2, "group": "wm"},
            {"value": 3, "group": "cortex"},
            {"value": 24, "group": "csf"},
            {"value": 4, "group": "ventricle"},
            {"value": 515, "group": "bone"},
            {"value": 701, "group": "pathology"},
        ]
    }
    base = [0.0, 1.0, 0.65, 0.42, 0.42, 0.24, 1.2]
    out = rf.update_means(man, {"cortex": 1.1, "ventricle": 0.9}, base)
    assert out == pytest.approx([0.0, 1.0, 0.715, 0.378, 0.378, 0.24, 1.2])


def test_twins_spread_over_ages_with_fixed_seeds() -> None:
    real = [{"age": float(a), "sex": "female" if a % 2 else "male"} for a in range(20, 80)]
    t = rf.twins(real, 5)
    assert [a for a, _, _ in t] == [20.0, 35.0, 50.0, 64.0, 79.0]
    assert t == rf.twins(real, 5)  # deterministic
    assert len({s for _, _, s in t}) == 5


def test_the_shipped_model_carries_a_converged_render_fit() -> None:
    man = json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text())
    fit = man["appearance"]["measured"]["renderFit"]
    assert fit["scans"] == 42
    # the final round's rendered medians are within 1 % of the real ones, every group
    assert max(abs(v) for v in fit["rounds"][-1].values()) < 0.01
    # and the manifest's means are the fitted ones: base x scale for the cortex
    i = next(k for k, e in enumerate(man["labels"]) if e["value"] == 3)
    for c, key in (("T1w", "cortex"), ("T2w", "gm"), ("FLAIR", "gm")):
        got = man["appearance"]["contrasts"][c]["mean"][i]
        assert got == pytest.approx(fit["baseMeans"][c][i] * fit["scale"][c][key], abs=1e-3)
    # FLAIR's pure ventricular CSF is fitted to the MS patients' (dark: FLAIR nulls CSF)
    assert 0.15 < fit["real"]["FLAIR:ventWm"] < 0.45
    assert man["appearance"]["biasFieldStrength"] == pytest.approx(
        fit["biasRenders"][-1][0], abs=1e-3
    )


def test_cli_refuses_a_missing_model_or_data(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        rf.main(["--model", str(tmp_path), "--data", str(tmp_path)])
    with pytest.raises(SystemExit):
        rf.main(["--model", str(DEFAULT_MODEL_DIR), "--data", str(tmp_path), "--twins", "1"])

"""The head-size spread fit (brainsynth.pipeline.size_spread): the normative target from the
centile files, the variance split, the model's own spread, and the committed model's value."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from brainsynth.model_io import load_model
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline import size_spread
from brainsynth.pipeline.normative import CENTILES


def _centiles(folder: Path, iqr_ratio: float, ages: range = range(40, 94)) -> Path:
    """A data folder whose TotalBrain 75th/25th centile ratio is `iqr_ratio` at every age
    (plus a row of another variable that must be ignored)."""
    d = folder / CENTILES
    d.mkdir(parents=True)
    for name in ("Females", "Males"):
        lines = ["VarName,Age,centile_5,centile_25,centile_50,centile_75,centile_95"]
        for a in ages:
            lines.append(f"TotalBrain,{a},900000,1000000,1050000,{1e6 * iqr_ratio},1300000")
            lines.append(f"WM,{a},1,2,3,400,500")
        (d / f"dlmuse_centiles_CN-{name}.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_normative_log_sd_is_the_centiles_interquartile_range(tmp_path: Path) -> None:
    data = _centiles(tmp_path, 1.1)
    t = size_spread.normative_log_sd(data)
    assert set(t) == {"female", "male"}
    assert sorted(t["female"]) == list(size_spread.TARGET_AGES)
    # a normal with log-sd s has ln(c75/c25) = 2 * 0.6745 s
    assert t["male"][60] == pytest.approx(math.log(1.1) / (2 * 0.6745), rel=1e-4)


def test_normative_log_sd_refuses_missing_or_disordered_centiles(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="shared data folder"):
        size_spread.normative_log_sd(tmp_path)
    with pytest.raises(ValueError, match="no TotalBrain centiles"):
        size_spread.normative_log_sd(_centiles(tmp_path / "a", 1.1, range(40, 60)))
    with pytest.raises(ValueError, match="not ordered"):
        size_spread.normative_log_sd(_centiles(tmp_path / "b", 0.9))


def test_fit_subtracts_the_models_own_variance() -> None:
    target = {"female": {45: 0.075, 60: 0.075}, "male": {45: 0.075, 60: 0.075}}
    shape = {"female": {45: 0.045}, "male": {45: 0.045}}
    # 0.075^2 - 0.045^2 = 0.06^2
    assert size_spread.fit(target, shape) == pytest.approx(0.06)
    # a model that already varies more than people do gets no head-size term, never a NaN
    assert size_spread.fit(shape, target) == 0.0


def test_brain_volume_sums_brain_tissue_only() -> None:
    vols = {r: 1.0 for r in size_spread.BRAIN_REGIONS}
    vols.update({"lateral-ventricles": 50.0, "csf": 300.0, "icv": 1500.0})
    assert size_spread.brain_volume(vols) == len(size_spread.BRAIN_REGIONS)


def test_model_log_sd_needs_two_individuals() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        size_spread.model_log_sd(DEFAULT_MODEL_DIR, 1)


def test_fit_model_on_a_copy_writes_the_value_and_its_provenance(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, model)
    data = _centiles(tmp_path / "data", 1.25)
    out = size_spread.fit_model(model, data, individuals=2, log=lambda _m: None)
    man = json.loads((model / "manifest.json").read_text())
    cal = man["calibration"]
    assert cal["icvLogSd"] == out["icvLogSd"]
    # the model's own spread is positive (two different individuals), below the target here
    shape = cal["icvLogSdFit"]["shapeLogSd"]
    assert all(0 < v < math.log(1.25) / (2 * 0.6745) for v in shape.values())
    assert 0 < cal["icvLogSd"] < math.log(1.25) / (2 * 0.6745)
    assert cal["icvLogSdFit"]["individuals"] == 2
    load_model(model)  # still a valid model folder


def test_committed_model_has_a_fitted_head_size_spread() -> None:
    cal = json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text())["calibration"]
    fit = cal["icvLogSdFit"]
    assert fit["individuals"] >= 20
    t2 = sum(v * v for v in fit["targetLogSd"].values()) / len(fit["targetLogSd"])
    s2 = sum(v * v for v in fit["shapeLogSd"].values()) / len(fit["shapeLogSd"])
    # the stored value is the variance split of the stored spreads (means of squares over sexes
    # of the per-sex means: equal within rounding to the per-age split)
    assert cal["icvLogSd"] == pytest.approx(math.sqrt(max(t2 - s2, 0.0)), abs=0.003)
    assert cal["icvLogSd"] < fit["previous"]


def test_cli_refuses_a_missing_data_folder(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        size_spread.main(["--data", str(tmp_path / "nope")])

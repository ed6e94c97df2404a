"""Lesion contrast fit (brainsynth.pipeline.lesion_fit): targets, label scaling, the closed loop
and its idempotence — with the renderer and the real images stubbed (no data needed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline import lesion_fit, real_contrast

REAL = [
    {"pathology": "ms", "contrast": "FLAIR", "lesions": {"ms-lesion": {"lesionWm": 1.30}}},
    {"pathology": "ms", "contrast": "FLAIR", "lesions": {"ms-lesion": {"lesionWm": 1.40}}},
    {"pathology": "ms", "contrast": "FLAIR", "lesions": {"ms-lesion": {"lesionWm": 1.35}}},
    {"pathology": "stroke", "contrast": "T2w", "lesions": {"infarct": {"lesionWm": 2.4}}},
    {"pathology": "glioma", "contrast": "T2w", "lesions": {"oedema": {"lesionWm": 1.5}}},
    {"pathology": "none", "contrast": "FLAIR", "lesions": {}},
]


def test_targets_are_the_real_medians_of_the_fitted_pathologies() -> None:
    t = lesion_fit.real_targets(REAL)
    assert set(t) == {("ms", "FLAIR", "ms-lesion"), ("stroke", "T2w", "infarct")}
    assert t[("ms", "FLAIR", "ms-lesion")]["median"] == pytest.approx(1.35)
    assert t[("stroke", "T2w", "infarct")]["cases"] == [2.4]


def _manifest() -> dict[str, Any]:
    return dict(json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text()))


def test_scaling_touches_only_the_lesion_labels_of_that_contrast() -> None:
    man = _manifest()
    c = man["appearance"]["contrasts"]
    base = {k: {"mean": list(c[k]["mean"]), "sd": list(c[k]["sd"])} for k in ("FLAIR", "T2w")}
    out = lesion_fit.scaled(man, base, {("ms", "FLAIR", "ms-lesion"): 0.5})
    idx = lesion_fit.label_indices(man, "ms", "ms-lesion")
    values = {int(man["labels"][i]["value"]) for i in idx}
    assert values == set(real_contrast.SYNTHETIC_LESIONS["ms"]["ms-lesion"])
    new = out["appearance"]["contrasts"]
    for i in range(len(man["labels"])):
        f = 0.5 if i in idx else 1.0
        assert new["FLAIR"]["mean"][i] == pytest.approx(round(base["FLAIR"]["mean"][i] * f, 4))
        assert new["T2w"]["mean"][i] == c["T2w"]["mean"][i]
    assert man["appearance"]["contrasts"]["FLAIR"]["mean"] == base["FLAIR"]["mean"]  # a copy


def test_closed_loop_meets_the_targets_and_reruns_from_its_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in renderer whose lesion ratio is 0.9 x the label's mean (partial volume):
    the fit finds the means whose *rendered* ratio is the real one, and a second run gives the
    same table (it starts from the stored base, not from its own output)."""
    model = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, model)
    monkeypatch.setattr(real_contrast, "real_cases", lambda data: REAL)

    def fake(model_dir: Path, keys: list[Any], seeds: list[int]) -> dict[Any, float]:
        m = json.loads((model_dir / "manifest.json").read_text())
        out = {}
        for k in keys:
            i = lesion_fit.label_indices(m, k[0], k[2])[0]
            out[k] = 0.9 * m["appearance"]["contrasts"][k[1]]["mean"][i]
        return out

    monkeypatch.setattr(lesion_fit, "synthetic_ratios", fake)
    res = lesion_fit.fit(model, tmp_path, n_seeds=1, log=lambda _m: None)
    assert res["synthetic"]["ms/FLAIR/ms-lesion"] == pytest.approx(1.35, abs=2e-3)
    assert res["synthetic"]["stroke/T2w/infarct"] == pytest.approx(2.4, abs=2e-3)
    first = json.loads((model / "manifest.json").read_text())["appearance"]["contrasts"]
    lesion_fit.fit(model, tmp_path, n_seeds=1, log=lambda _m: None)
    again = json.loads((model / "manifest.json").read_text())["appearance"]["contrasts"]
    assert again == first


def test_cli_rejects_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        lesion_fit.main(["--seeds", "0"])
    assert "--seeds must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        lesion_fit.main(["--data", str(tmp_path / "missing")])
    assert "is not a folder" in capsys.readouterr().err

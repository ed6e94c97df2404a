"""The glioma (MODEL_FORMAT §4) and the T1c contrast: an irregular margin of the asked volume,
a necrotic core inside it, oedema only in white matter and connected to the tumour, the same
tumour for the same seed, the midline shift, sulcal effacement, the calibrated T1c ratios, the
pipeline step's refusals and the BIDS name."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from brainsynth import contrasts
from brainsynth.common.labels import LABEL_RANGES
from brainsynth.datasets.bids import image_name
from brainsynth.pathologies import glioma as g
from brainsynth.pipeline import glioma_fit

MODEL = Path(__file__).resolve().parents[2] / "public" / "models" / "brainsynth-shape-v1"
SPEC = {"oedemaFactor": 2.0, "necrosisFraction": 0.5, "massEffectDecayMm": 30, **g.SHAPE}
# a phantom: label index 0 background, 1 WM (2), 2 cortex (3), 3 CSF (24), 4 right cortex (42)
VALUES = [0, 2, 3, 24, 42, 711, 712, 713]
GROUPS = ["background", "wm", "cortex", "csf", "cortex", "pathology", "pathology", "pathology"]
LUT = {v: i for i, v in enumerate(VALUES)}


def _grid(n: int = 56, s: float = 2.0) -> np.ndarray:
    ax = (np.arange(n) - (n - 1) / 2) * s
    return np.stack(np.meshgrid(ax, ax, ax, indexing="ij")).astype(np.float32)


def _draw(idx: np.ndarray, x: np.ndarray, plan: g.GliomaPlan, s: float = 2.0) -> np.ndarray:
    out, _ = g.glioma_labels(idx, x, LUT, GROUPS, VALUES, LABEL_RANGES, plan, SPEC, s)
    return out


def test_margin_is_irregular_and_encloses_the_asked_volume() -> None:
    x = _grid()
    for seed, radius in [(1, 8.0), (2, 15.0), (3, 22.0)]:
        plan = g.plan_glioma((0.0, 0.0, 0.0), radius, SPEC, seed)
        d = g.fibonacci_sphere(400)
        norm = g.volume_norm(plan.margin_waves, 3.0, 0.3)
        rm = radius * g.margin_factor(0.3, g.wave_field(d, np.ones(400), plan.margin_waves, 3.0))
        rm = rm / norm
        assert rm.std() / rm.mean() > 0.1  # not a sphere
        out = _draw(np.full(x.shape[1:], LUT[2], np.int32), x, plan)
        tumour = np.isin(out, [LUT[711], LUT[712]]).sum() * 8 / 1000
        target = 4 / 3 * math.pi * radius**3 / 1000
        assert abs(tumour - target) / target < 0.10, (seed, radius, tumour, target)
        core = out == LUT[711]
        assert 0 < core.sum() < (out == LUT[712]).sum() + core.sum()
        # the core stays inside (minRimMm): at most 1 % of its 6-neighbour shell is outside the
        # tumour (a deep concavity of the margin can leave a one-voxel gap)
        tum = np.isin(out, [LUT[711], LUT[712]])
        assert (ndimage.binary_dilation(core) & ~tum).sum() <= 0.01 * core.sum()


def test_oedema_only_in_white_matter_connected_to_the_tumour() -> None:
    x = _grid()
    idx = np.full(x.shape[1:], LUT[3], np.int32)  # cortex
    # white-matter "fingers": slabs along y through the tumour, and an isolated WM island
    idx[:, :, 24:32] = LUT[2]
    idx[::6, :, :] = LUT[2]
    idx[50:54, 50:54, 2:6] = LUT[2]
    plan = g.plan_glioma((0.0, 0.0, 0.0), 12.0, SPEC, 7)
    out = _draw(idx, x, plan)
    oedema = out == LUT[713]
    assert oedema.sum() > 50
    assert (idx[oedema] == LUT[2]).all()  # only where white matter was
    tum = np.isin(out, [LUT[711], LUT[712]])
    lab, _ = ndimage.label(tum | oedema)  # 6-connectivity
    assert set(np.unique(lab[oedema])) <= set(np.unique(lab[tum]))
    assert not oedema[50:54, 50:54, 2:6].any()


def test_same_seed_same_tumour_and_the_plan_stream() -> None:
    a = g.plan_glioma((30.0, -10.0, 20.0), 15.0, SPEC, 11)
    b = g.plan_glioma((30.0, -10.0, 20.0), 15.0, SPEC, 11)
    c = g.plan_glioma((30.0, -10.0, 20.0), 15.0, SPEC, 12)
    assert a == b and a != c
    x = _grid()
    idx = np.full(x.shape[1:], LUT[2], np.int32)
    assert (_draw(idx, x, a) == _draw(idx, x, b)).all()
    # midline shift away from the tumour's side, growing with R
    assert a.shift_mm > 0 and g.plan_glioma((-30.0, 0, 0), 15.0, SPEC, 1).shift_mm < 0
    assert g.plan_glioma((30.0, 0, 0), 30.0, SPEC, 1).shift_mm == pytest.approx(9.0)


def test_a_bad_plan_is_rejected() -> None:
    import dataclasses

    good = g.plan_glioma((30.0, -10.0, 20.0), 15.0, SPEC, 11)
    g.check_plan(good)
    with pytest.raises(ValueError, match="bad radius"):
        g.check_plan(dataclasses.replace(good, radius=-1.0))
    with pytest.raises(ValueError, match="margin_waves"):
        g.check_plan(dataclasses.replace(good, margin_waves=[]))
    with pytest.raises(ValueError, match="centre"):
        g.check_plan(dataclasses.replace(good, centre=(float("nan"), 0.0, 0.0)))
    with pytest.raises(ValueError, match="core_waves"):  # the old two-field plan
        g.check_plan(g.GliomaPlan((0.0, 0.0, 0.0), 10.0, 30.0))


def test_mass_effect_shifts_the_midline_away_from_the_tumour() -> None:
    x = np.zeros((3, 1, 1, 1), np.float32)  # the midline point at the tumour's level
    x[1], x[2] = -10, 20
    plan = g.plan_glioma((30.0, -10.0, 20.0), 20.0, SPEC, 1)
    m = g.mass_effect(x, plan.centre, plan.radius, 30.0, (plan.shift_mm, plan.shift_length_mm))
    # the output midline shows anatomy from the tumour's side: the midline moved away from it
    assert float(m[0].ravel()[0]) > 1.0


def test_sulcal_csf_is_effaced_near_the_tumour() -> None:
    x = _grid()
    idx = np.full(x.shape[1:], LUT[3], np.int32)
    idx[:, :, ::5] = LUT[24]  # "sulci"
    plan = g.plan_glioma((0.0, 0.0, 0.0), 10.0, SPEC, 3)
    out, zone = g.glioma_labels(idx, x, LUT, GROUPS, VALUES, LABEL_RANGES, plan, SPEC, 2.0)
    r = np.sqrt((x.astype(np.float64) ** 2).sum(0))
    near = r < 12
    assert not (out[near] == LUT[24]).any()
    assert (out[r > 60] == LUT[24]).any()


def test_t1c_in_the_committed_model_is_calibrated() -> None:
    man = json.loads((MODEL / "manifest.json").read_text())
    app = man["appearance"]["contrasts"]
    idx = {e["value"]: e["index"] for e in man["labels"]}
    ratios = man["pathology"]["glioma"]["appearance"]["ratiosToNawm"]
    t1c = app["T1c"]["mean"]
    assert t1c[idx[712]] / t1c[idx[2]] == pytest.approx(ratios["T1c"]["rim"], abs=1e-3)
    assert t1c[idx[712]] > t1c[idx[2]] > t1c[idx[3]] > t1c[idx[24]]
    for c in ("T1w", "T2w", "FLAIR"):
        for k, v in glioma_fit.LABEL_OF.items():
            assert app[c]["mean"][idx[v]] == pytest.approx(ratios[c][k], abs=1e-3)
    uptake = man["pathology"]["glioma"]["appearance"]["uptake"]
    assert uptake["712"] > 0.3 and uptake.get("711", 0) < 0.1 and uptake.get("713", 0) < 0.1
    assert "2" not in uptake and "3" not in uptake  # healthy brain: intact barrier
    assert any("TCGA" in p["source"] for p in man["provenance"])
    assert "T1c" in man["conditionsSchema"]["properties"]["contrast"]["enum"]


def test_glioma_fit_reapply_is_idempotent_and_refuses_bad_input(tmp_path: Path) -> None:
    model = tmp_path / "m"
    shutil.copytree(MODEL, model, ignore=shutil.ignore_patterns("*.gz", "*.csv"))
    before = (model / "manifest.json").read_text()
    glioma_fit.main(["--model", str(model), "--reapply"])
    assert (model / "manifest.json").read_text() == before
    with pytest.raises(SystemExit, match="no manifest.json"):
        glioma_fit.main(["--model", str(tmp_path / "nothing"), "--reapply"])
    with pytest.raises(SystemExit, match="has no BrainLesion-tutorials"):
        glioma_fit.main(["--model", str(model), "--data", str(tmp_path)])
    man = json.loads(before)
    man["pathology"]["glioma"].pop("appearance")
    (model / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(SystemExit, match="no glioma ratios"):
        glioma_fit.main(["--model", str(model), "--reapply"])


def test_t1c_module_and_bids_name() -> None:
    assert contrasts.get("T1c").bids_name() == ({"ce": "gadolinium"}, "T1w")
    assert image_name("sub-00001", "T1c") == "sub-00001_ce-gadolinium_T1w.nii.gz"
    assert image_name("sub-00001", "FLAIR") == "sub-00001_FLAIR.nii.gz"


def test_a_dataset_with_t1c_names_it_ce_gadolinium(tmp_path: Path) -> None:
    from brainsynth.datasets.runner import Dataset, verify
    from brainsynth.datasets.spec import check_spec
    from brainsynth.tests.datasets_support import MODELS, small_spec

    spec = small_spec(
        count=1,
        contrasts=["T1w", "T1c"],
        pathology=[{"type": "glioma", "fraction": 1.0}],
    )
    out = tmp_path / "ds"
    ds = Dataset(check_spec(spec, MODELS), out, MODELS)
    ds.prepare()
    assert ds.run().done == 1
    assert verify(out) == []
    names = sorted(p.name for p in (out / "sub-00001" / "anat").iterdir())
    assert "sub-00001_ce-gadolinium_T1w.nii.gz" in names
    assert "sub-00001_ce-gadolinium_T1w.json" in names and "sub-00001_T1w.nii.gz" in names
    side = json.loads((out / "sub-00001/anat/sub-00001_ce-gadolinium_T1w.json").read_text())
    assert side["Description"] == "synthetic T1c"

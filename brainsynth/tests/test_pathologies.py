"""The pathology registry: one module per pathology, found by every stage through the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from brainsynth import pathologies
from brainsynth.anatomy import region_volumes
from brainsynth.common.labels import label_ranges
from brainsynth.distill.data import feature_names, features
from brainsynth.model_io import gains_for, load_model
from brainsynth.pathologies import Pathology, Scene
from brainsynth.pathologies.ms import Lesion, MsPlan
from brainsynth.pipeline.labels import PATHOLOGY_VALUES, label_table
from brainsynth.schema import PATHOLOGIES
from brainsynth.teacher.generate import _load, generate

MODEL = Path(__file__).resolve().parents[2] / "public" / "models" / "brainsynth-shape-v1"
BASE = {"age": 60, "sex": "female", "contrast": "T1w"}


def test_registry_matches_the_schema_and_owns_the_pathology_labels() -> None:
    assert tuple(pathologies.REGISTRY) == PATHOLOGIES
    ranges = label_ranges()
    values = [lab.value for lab in pathologies.all_labels()]
    assert values == list(PATHOLOGY_VALUES) and len(set(values)) == len(values)
    lo, hi = ranges["pathology"]
    assert all(lo <= v <= hi for v in values)
    table = {e["value"]: e for e in label_table([0, 2, 3])}
    for lab in pathologies.all_labels():
        assert table[lab.value]["name"] == lab.name and table[lab.value]["group"] == "pathology"


def test_student_features_come_from_the_modules() -> None:
    assert feature_names(2, 0, False) == ["z0", "z1", "age", "male", "adSeverity", "strokeSize"]
    z = np.array([0.5, -1.0])
    ad = features(z, {"age": 90, "sex": "male", "pathology": "alzheimers", "adSeverity": 0.3}, None)
    assert ad.tolist() == pytest.approx([0.5, -1.0, 1.0, 1.0, 0.3, 0.0])
    ms = features(z, {"age": 55, "sex": "female", "pathology": "ms", "adSeverity": 0.3}, None)
    assert ms.tolist() == pytest.approx([0.5, -1.0, 0.0, 0.0, 0.0, 0.0])
    norm = {"age": {"offset": 50.0, "scale": 10.0}}
    assert features(z, {"age": 70, "sex": "female"}, None, norm)[2] == pytest.approx(2.0)


def test_region_volumes_one_rule_counts_lesions_in_the_icv() -> None:
    model, man = load_model(MODEL)
    idx = model.template.astype(np.int32).copy()
    healthy = region_volumes(model, idx)
    ms_index = [e["index"] for e in man["labels"] if e["value"] == 701][0]
    wm = np.isin(model.label_values[idx], [2, 41])
    sel = np.flatnonzero(wm.ravel())[:50]
    idx.ravel()[sel] = ms_index
    lesioned = region_volumes(model, idx)
    ml = model.grid.voxel_volume_ml
    assert lesioned["icv"] == pytest.approx(healthy["icv"])  # a lesion replaces brain in the ICV
    assert lesioned["MS-lesion"] == pytest.approx(50 * ml)
    assert lesioned["cerebral-wm"] == pytest.approx(healthy["cerebral-wm"] - 50 * ml)
    assert "MS-lesion" not in healthy


def test_ms_lesion_can_be_placed_explicitly() -> None:
    cond = {**BASE, "pathology": "ms", "msLesionLoadMl": 2}
    centre = (-26.0, -10.0, 26.0)  # left centrum semiovale (white matter)
    plan = MsPlan.placed([Lesion(centre, 6.0, 4.0, (0.0, 0.0, 1.0))], target_ml=2.0)
    vol = generate(MODEL, cond, 3, 2.0, device="numpy", pathology_plan=plan)
    ijk = np.argwhere(vol.labels == 701)
    assert vol.sidecar["pathology"]["lesionCount"] == 1 and len(ijk) > 0
    world = ijk * 2.0 + np.asarray(vol.affine[:3, 3])
    assert np.linalg.norm(world.mean(0) - np.asarray(centre)) < 4.0


class Toy(Pathology):
    """A test-only pathology: a sphere of MS-lesion label at a seeded (or given) centre, plus
    one gain and one feature. Adding it touches only this class (and the schema enum)."""

    id = "toy"
    features = ("toySize",)

    def gains(self, manifest: dict[str, Any], cond: dict[str, Any], g: NDArray[np.float64]) -> None:
        g[0] += 0.25 * cond.get("toySize", 1.0)

    def plan(self, scene: Scene) -> tuple[float, float, float]:
        rng = np.random.default_rng(scene.seed)
        return (float(rng.uniform(-20, -15)), float(rng.uniform(-5, 5)), 25.0)

    def draw(
        self, scene: Scene, plan: tuple[float, float, float], idx: NDArray[np.int32]
    ) -> tuple[NDArray[np.int32], dict[str, Any]]:
        r = np.sqrt(((scene.x - np.reshape(plan, (3, 1, 1, 1))) ** 2).sum(0))
        out = np.where(r <= 6.0, scene.assets.index_of[701], idx).astype(np.int32)
        return out, {"centreMm": list(plan)}

    def feature_values(self, cond: dict[str, Any]) -> dict[str, float]:
        return {"toySize": float(cond.get("toySize", 1.0))}


def test_a_toy_pathology_reaches_every_stage_through_the_registry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    toy = Toy()
    monkeypatch.setitem(pathologies.REGISTRY, "toy", toy)
    ld = _load(str(MODEL.resolve()))
    enum = ld.assets.manifest["conditionsSchema"]["properties"]["pathology"]["enum"]
    monkeypatch.setitem(
        ld.assets.manifest["conditionsSchema"]["properties"]["pathology"], "enum", [*enum, "toy"]
    )
    man = ld.assets.manifest
    cond = {**BASE, "pathology": "toy"}
    assert gains_for(man, cond)[0] == pytest.approx(
        gains_for(man, {**cond, "pathology": "none"})[0] + 0.25
    )
    assert feature_names(0, 0, False)[-1] == "toySize"
    vol = generate(MODEL, cond, 7, 2.0, device="numpy")
    centre = vol.sidecar["pathology"]["centreMm"]
    assert vol.sidecar["pathology"]["type"] == "toy" and -20 <= centre[0] <= -15
    assert vol.sidecar["regionalVolumesMl"]["MS-lesion"] > 0
    given = generate(MODEL, cond, 7, 2.0, device="numpy", pathology_plan=(20.0, 0.0, 25.0))
    assert given.sidecar["pathology"]["centreMm"] == [20.0, 0.0, 25.0]
    assert not np.array_equal(given.labels, vol.labels)


def test_displacement_hook_replaces_exp_v() -> None:
    from brainsynth.teacher.generate import VelocityState, exact_displacement

    cond = {**BASE, "pathology": "none"}
    seen: list[VelocityState] = []

    def hook(state: VelocityState) -> Any:
        seen.append(state)
        return exact_displacement(state)

    ref = generate(MODEL, cond, 4, 2.0, device="numpy")
    same = generate(MODEL, cond, 4, 2.0, device="numpy", displacement=hook)
    assert np.array_equal(ref.labels, same.labels) and seen[0].conditions["pathology"] == "none"
    rigid = generate(MODEL, cond, 4, 2.0, device="numpy", displacement=lambda s: 0 * s.v)
    assert not np.array_equal(ref.labels, rigid.labels)


def test_student_runs_inside_the_teacher_through_the_hook() -> None:
    from brainsynth.distill.evaluate import Pair, lesions
    from brainsynth.distill.export_student import read_student

    model, man = load_model(MODEL)
    if not man.get("student"):
        pytest.skip("the committed model has no student")
    w, mj = read_student(MODEL)
    use_gains = any(n.startswith("gain") for n in mj["modelTopology"]["input"]["names"])
    rep = lesions(Pair(model, man, w, use_gains), MODEL, 1)
    assert set(rep) == {"ms", "glioma", "stroke"}
    for name, r in rep.items():
        assert r["diceMean"] > 0.8, (name, r)

"""Step 7c, the temporal horns: the rule (brainsynth.horns) and the committed model's horns."""

from __future__ import annotations

import numpy as np
import pytest

from brainsynth.anatomy import icv_scale, sample_folded_indices
from brainsynth.horns import apply_horns, factor_at, horn_factor
from brainsynth.model_io import gains_for, latents, load_model, read_volume
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline.horns import normative_horns


def _toy() -> np.ndarray:
    v = np.zeros((12, 10, 10), np.int32)
    v[1:6, 1:9, 1:9] = 2
    v[6:11, 1:9, 1:9] = 41
    v[3, 5, 5:7] = 5
    v[8, 2, 1:9] = 44
    return v


def test_horns_grow_and_shrink_into_their_own_white_matter() -> None:
    out, info = apply_horns(_toy(), 3.0)
    assert (out == 5).sum() == 6 and (out == 44).sum() == 24
    assert ((out == 2) | (out == 5)).sum() == 320 and ((out == 41) | (out == 44)).sum() == 320
    assert info["5"] == {"before": 2, "target": 6, "after": 6}
    small, _ = apply_horns(_toy(), 0.5)
    assert (small == 5).sum() == 1 and (small == 44).sum() == 4
    same, _ = apply_horns(_toy(), 1.0)
    assert np.array_equal(same, _toy())


def test_factor_interpolates_in_age_and_applies_alzheimers_only() -> None:
    assert factor_at([1.0, 3.0], [20.0, 90.0], 55.0) == pytest.approx(2.0)
    assert factor_at([1.0, 3.0], [20.0, 90.0], 10.0) == 1.0
    p = {"ages": [20, 90], "factor": {"female": [2.0, 2.0], "male": [1.0, 1.0]}, "adFactor": 2.0}
    assert horn_factor(p, {"age": 60, "sex": "female", "pathology": "none"}) == 2.0
    ad = {"age": 60, "sex": "male", "pathology": "alzheimers", "adSeverity": 0.5}
    assert horn_factor(p, ad) == pytest.approx(np.sqrt(2.0))


@pytest.fixture(scope="module")
def model() -> tuple[object, dict[str, object], np.ndarray]:
    m, man = load_model(DEFAULT_MODEL_DIR)
    arr = man["arrays"]["corticalDepth"]
    depth = read_volume(DEFAULT_MODEL_DIR, arr).astype(np.float64) * float(arr.get("scale", 1.0))
    return m, man, depth


def _horn_ml(
    model: tuple[object, dict[str, object], np.ndarray], seed: int, cond: dict[str, object]
) -> float:
    m, man, depth = model
    z, z_icv = latents(man, seed)
    k = icv_scale(man, str(cond["sex"]), z_icv)
    idx = sample_folded_indices(m, man, depth, z, gains_for(man, cond), seed, k, cond)  # type: ignore[arg-type]
    values = m.label_values[idx]  # type: ignore[attr-defined]
    return float(np.isin(values, (5, 44)).sum()) * 0.008


def test_the_models_horns_grow_with_age_and_alzheimers_disease(
    model: tuple[object, dict[str, object], np.ndarray],
) -> None:
    norm = normative_horns(DEFAULT_MODEL_DIR)
    for seed in (101, 202):
        young = _horn_ml(model, seed, {"age": 45, "sex": "female", "pathology": "none"})
        old = _horn_ml(model, seed, {"age": 85, "sex": "female", "pathology": "none"})
        ad = _horn_ml(
            model,
            seed,
            {"age": 85, "sex": "female", "pathology": "alzheimers", "adSeverity": 1.0},
        )
        # the normative change 45 -> 85 (about x4), within 25 % for one individual
        assert old / young == pytest.approx(norm["female"][85] / norm["female"][45], rel=0.25)
        # Alzheimer's at severity 1: the classic sign, temporal horns >= 1.5x the same person's
        assert ad >= 1.5 * old

"""The T1w age slopes' fit through the renderer (pipeline.age_fit): the real slope estimator, the
paired synthetic slope, which labels it fits, and the renderer's use of the slope
(teacher.render.label_means, the same arithmetic as src/engine/render/contrast.ts labelMeans)."""

from __future__ import annotations

import numpy as np
import pytest

from brainsynth.model_io import load_model
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline import age_fit
from brainsynth.pipeline.age_fit import (
    AGES,
    follows,
    group_of,
    paired_slopes,
    real_slopes,
    with_slopes,
)
from brainsynth.teacher.render import label_means


def test_real_slopes_recover_a_known_trend_with_its_standard_error() -> None:
    rng = np.random.default_rng(3)
    ages = rng.uniform(20, 80, 400)
    rows = [
        {"age": float(a), "cortex": 0.68 + 0.004 * (a - 45) / 10 + 0.01 * rng.standard_normal()}
        for a in ages
    ]
    s = real_slopes(rows)["cortex"]
    assert s["slope"] == pytest.approx(0.004, abs=3 * s["se"])
    # the standard error of a slope over 400 scans spread over 6 decades, noise 0.01
    expected_se = 0.01 / (np.std(ages / 10) * np.sqrt(400))
    assert s["se"] == pytest.approx(expected_se, rel=0.15)
    assert s["n"] == 400
    # a group measured in fewer than 3 scans has no slope
    assert "amygdala" not in real_slopes([{"age": 30.0, "amygdala": 0.9}])


def test_paired_slopes_are_the_same_subjects_change_per_decade() -> None:
    young = [{"cortex": 0.70, "ventricle": 0.50}, {"cortex": 0.66}]
    decades = (AGES[1] - AGES[0]) / 10
    old = [{"cortex": 0.70 + 0.02 * decades, "ventricle": 0.40}, {"cortex": 0.66 + 0.04 * decades}]
    s = paired_slopes(young, old)
    assert s["cortex"] == pytest.approx(0.03)
    assert s["ventricle"] == pytest.approx(-0.1 / decades)  # only the subject that has it
    with pytest.raises(ValueError, match="same subjects"):
        paired_slopes(young, old[:1])


def test_the_fitted_labels_are_the_brains_tissues_and_sulcal_csf_follows() -> None:
    assert group_of({"value": 3, "group": "cortex"}) == "cortex"
    assert group_of({"value": 24, "group": "csf"}) == "ventricle"
    assert follows({"value": 24, "group": "csf"})
    assert not follows({"value": 4, "group": "ventricle"})
    assert group_of({"value": 2, "group": "wm"}) is None  # the reference keeps its slope
    assert group_of({"value": 515, "group": "other"}) is None  # head
    assert group_of({"value": 701, "group": "cortex"}) is None  # a lesion label, not fitted


def test_the_shipped_slopes_reach_the_rendered_means() -> None:
    _, man = load_model(DEFAULT_MODEL_DIR)
    app = man["appearance"]
    fit = app["measured"].get("ageFit")
    assert fit, "the shipped model was built with pipeline.age_fit"
    slopes = np.array(app["ageSlopePerDecade"]["T1w"]["mean"])
    # every fitted group's rendered slope met its real one within the real slope's error
    for g, real in fit["real"].items():
        assert abs(fit["synthetic"][g] - real["slope"]) <= max(real["se"], 1e-4), g
    # the sulcal CSF ages like the ventricles
    by_value = {int(e["value"]): i for i, e in enumerate(man["labels"])}
    assert slopes[by_value[24]] == pytest.approx(slopes[by_value[4]])
    # the renderer adds slope * (age - 45) / 10 to each label's mean
    at45 = label_means(app, "T1w", 45.0)
    at75 = label_means(app, "T1w", 75.0)
    np.testing.assert_allclose(at75 - at45, 3 * slopes, atol=1e-5)
    # with_slopes rewrites only the T1w slopes
    m = with_slopes(man, slopes + 0.001)
    assert m["appearance"]["ageSlopePerDecade"]["T1w"]["mean"][by_value[3]] == pytest.approx(
        slopes[by_value[3]] + 0.001
    )
    assert m["appearance"]["contrasts"] == app["contrasts"]


def test_the_deep_grey_nuclei_age_together_as_the_table_group() -> None:
    # render_fit fits the nuclei's means one by one; their slope with age stays one (the label
    # table's "deep-gm"), measured on the nuclei together on both sides
    assert "deep-gm" in age_fit.AGE_GROUPS
    assert not set(age_fit.AGE_GROUPS) & set(age_fit.DEEP_STRUCTURES)
    assert age_fit.group_of({"value": 11, "group": "deep-gm"}) == "deep-gm"
    assert age_fit.group_of({"value": 3, "group": "cortex"}) == "cortex"

"""The subject's texture gain: the teacher's arithmetic (teacher.render.texture_gain /
label_sds, the same as src/engine/render/textureGain.ts) and the fit's measurement and
estimators (pipeline.texture_gain_fit)."""

from __future__ import annotations

import numpy as np
import pytest

from brainsynth.common import tissue
from brainsynth.common.rng import normals, stream_seed
from brainsynth.pipeline.texture_gain_fit import (
    added_log_sd,
    age_line,
    fine_residual,
    mean_offset,
)
from brainsynth.teacher.render import label_sds, texture_gain

SPEC = {"perDecade": 0.04, "logSd": 0.09, "offset": 0.0}


def test_the_gain_follows_age_and_the_seed_stream() -> None:
    app = {"textureGain": SPEC, "contrasts": {"T1w": {"mean": [0, 1], "sd": [0.0, 0.05]}}}
    e = float(normals(stream_seed(42, 7), 2)[0])
    assert texture_gain(app, 70.0, 42) == pytest.approx(np.exp(0.04 * 2.5 + 0.09 * e), rel=1e-12)
    # a fixed subject ages by exp(perDecade) a decade
    assert texture_gain(app, 75.0, 9) / texture_gain(app, 45.0, 9) == pytest.approx(np.exp(0.12))
    # no spec, or age 45 without spread: 1
    assert texture_gain({}, 80.0, 3) == 1.0
    flat = {"perDecade": 0.04, "logSd": 0.0, "offset": 0.0}
    assert texture_gain({"textureGain": flat}, 45.0, 3) == 1.0
    # the offset adds to the log gain
    shifted = {"textureGain": SPEC | {"offset": -0.05}}
    assert texture_gain(shifted, 70.0, 42) == pytest.approx(
        np.exp(-0.05) * texture_gain(app, 70.0, 42)
    )
    # the SD table times float32(g), rounded to float32
    g = texture_gain(app, 70.0, 42)
    sds = label_sds(app, "T1w", 70.0, 42)
    assert sds.dtype == np.float32
    assert sds[1] == np.float32(np.float32(0.05) * np.float32(g))
    assert sds[0] == 0.0  # air keeps SD 0


def test_fine_residual_measures_the_texture_amplitude_in_eroded_wm() -> None:
    rng = np.random.default_rng(0)
    classes = np.full((40, 40, 40), tissue.CORTEX, np.int8)
    classes[5:35, 5:35, 5:35] = tissue.WM
    base = np.where(classes == tissue.WM, 100.0, 70.0)  # a GM/WM-like edge around the WM
    a = fine_residual(base + 2.0 * rng.standard_normal(base.shape), classes)
    b = fine_residual(base + 4.0 * rng.standard_normal(base.shape), classes)
    assert b / a == pytest.approx(2.0, rel=0.05)  # linear in the texture's amplitude
    # white noise of SD 2 % of WM, minus its blur (sigma 1 voxel): a known fraction remains
    assert 0.01 < a < 0.02
    with pytest.raises(ValueError, match="eroded white-matter"):
        fine_residual(base, np.zeros_like(classes))


def test_age_line_and_the_added_spread() -> None:
    rng = np.random.default_rng(1)
    ages = rng.uniform(20, 80, 2000)
    values = 0.036 * np.exp(0.04 * (ages - 45) / 10 + 0.09 * rng.standard_normal(ages.size))
    line = age_line(list(ages), list(values))
    assert line["slope"] == pytest.approx(0.04, abs=3 * line["se"])
    assert line["residualSd"] == pytest.approx(0.09, rel=0.05)
    # variances add: a rendered spread of 0.03 needs sqrt(0.09^2 - 0.03^2) more
    assert added_log_sd(0.09, 0.03) == pytest.approx(np.sqrt(0.09**2 - 0.03**2))
    assert added_log_sd(0.02, 0.03) == 0.0
    with pytest.raises(ValueError, match="at least 3"):
        age_line([30.0, 40.0], [0.1, 0.2])


def test_the_offset_makes_the_gain_average_one_over_the_ages() -> None:
    ages = [25.0, 40.0, 55.0, 70.0]
    off = mean_offset(ages, 0.08, 0.11)
    # over many seeds per age: E exp(logSd e) = exp(logSd^2 / 2)
    e = np.random.default_rng(2).standard_normal(200_000)
    gains = [np.exp(0.08 * (a - 45) / 10 + 0.11 * e + off).mean() for a in ages]
    assert float(np.mean(gains)) == pytest.approx(1.0, abs=2e-3)
    assert mean_offset([45.0], 0.08, 0.0) == 0.0

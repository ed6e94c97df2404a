"""The head's layer thickness (pipeline.head_layers) and the size latents it uses (step 7c)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from brainsynth.common.rng import normals
from brainsynth.model_io import size_latent, size_latent_count, size_latents
from brainsynth.pipeline.head_layers import (
    LAYERS,
    added_log_sd,
    layer_edges,
    layer_structures,
    with_layers,
)
from brainsynth.sizing import apply_sizing, latent_of, structure_factor


def test_layer_edges_are_the_half_level_crossings() -> None:
    # CSF, skull (darkest at bin 2), bright layer at bins 4-5, outer layer at bins 7-9
    p = np.array([0.3, 0.25, 0.1, 0.2, 0.7, 0.9, 0.6, 0.3, 0.3, 0.35])
    t_in, t_out = layer_edges(p)
    # rising: halfway between 0.1 and 0.9 is 0.5, crossed 2/3 of the way from bin 3 to bin 4
    assert t_in == pytest.approx((3 + 0.5 + (0.5 - 0.2) / (0.7 - 0.2)) / 10)
    # falling: halfway between 0.9 and the outer minimum 0.3 is 0.6, reached at bin 6
    assert t_out == pytest.approx((5 + 0.5 + (0.6 - 0.9) / (0.6 - 0.9)) / 10)
    # a thinner skull moves the inner edge inwards
    thinner = np.array([0.3, 0.25, 0.1, 0.6, 0.8, 0.9, 0.6, 0.3, 0.3, 0.35])
    assert layer_edges(thinner)[0] < t_in
    # no layer outside the skull: NaN, not a number that looks measured
    assert np.isnan(layer_edges(np.full(10, np.nan))).all()
    assert np.isnan(layer_edges(np.array([0.3, 0.2, 0.1, 0.1, 0.12, *[np.nan] * 5]))).all()
    no_outer = np.array([0.3, 0.2, 0.1, 0.5, 0.9, 0.88, *[np.nan] * 4])
    assert np.isfinite(layer_edges(no_outer)[0]) and np.isnan(layer_edges(no_outer)[1])


def test_added_log_sd_fills_the_variance_gap_only() -> None:
    jac = np.array([[0.2, 0.0], [0.05, -0.1]])
    s = np.array([0.15, 0.3])
    own = np.array([0.001, 0.002])
    real = own + (jac**2) @ (s**2)
    assert added_log_sd(real, own, jac) == pytest.approx(s, rel=1e-6)
    # a model already as varied as people gets no added spread
    assert added_log_sd(own, own * 2, jac) == pytest.approx([0.0, 0.0])


def test_layer_structures_and_their_latents() -> None:
    ages = [20.0, 55.0, 90.0]
    base = {
        "sizing": {
            "ages": ages,
            "structures": [{"region": "hippocampus", "labels": [], "factor": {}}],
        }
    }
    plain = layer_structures(ages, np.log([0.7, 1.5]), None)
    assert [s["region"] for s in plain] == ["skull", "scalp"]
    assert plain[0]["factor"]["female"] == pytest.approx([0.7] * 3)
    assert all("individualLogSd" not in s and "latent" not in s for s in plain)
    full = layer_structures(ages, np.log([0.7, 1.5]), np.array([0.1, 0.2]))
    assert [s["latent"] for s in full] == [latent for *_, latent in LAYERS] == [1, 2]
    assert full[1]["individualLogSd"]["male"] == [0.2] * 3
    # a layer without added spread gets no individual term (nor a latent)
    part = layer_structures(ages, np.log([0.7, 1.5]), np.array([0.1, 0.0]))
    assert part[0]["latent"] == 1 and "latent" not in part[1]
    assert "individualLogSd" not in part[1]
    # replacing, not appending: a second fit keeps one pair, after the brain's structures
    man = with_layers(with_layers(base, plain), full)
    assert [s["region"] for s in man["sizing"]["structures"]] == ["hippocampus", "skull", "scalp"]
    assert base["sizing"]["structures"][0]["region"] == "hippocampus"  # not edited in place
    with pytest.raises(ValueError, match="sizing"):
        with_layers({}, full)


def test_size_latents_continue_the_seed_stream() -> None:
    man = {"shapeModel": {"components": 8}, "sizing": {"structures": [{"latent": 2}, {}]}}
    assert size_latent_count(man) == 3
    assert size_latent_count({"shapeModel": {"components": 8}}) == 1
    zs = size_latents(man, 42)
    assert zs == pytest.approx(normals(42, 12)[9:12].tolist(), abs=0)
    assert size_latent(man, 42) == zs[0] == normals(42, 11)[9]
    s = {"latent": 1}
    assert latent_of(s, zs) == zs[1]
    assert latent_of(s, 0.7) == 0.0  # a number is latent 0 only
    assert latent_of({}, 0.7) == 0.7


def test_the_skull_shrinks_into_the_scalp_by_its_own_latent() -> None:
    # a toy head: skull (515) slab between CSF (24) and soft tissue (507), outer layer (511)
    vol = np.full((6, 6, 12), 24, np.int32)
    vol[:, :, 4:8] = 515
    vol[:, :, 8:10] = 507
    vol[:, :, 10:] = 511
    ages = [20.0, 90.0]
    structures = layer_structures(ages, np.log([0.75, 1.0]), np.array([0.5, 0.0]))
    params = {"ages": ages, "structures": structures}
    cond = {"age": 50.0, "sex": "male", "pathology": "none"}
    out, info = apply_sizing(vol, params, cond, [3.0, 0.0, 0.0])  # latent 0 must not matter
    assert info["skull"]["labels"]["515"]["after"] == round(144 * 0.75)
    assert (out == 515).sum() == 108 and (out == 507).sum() == 72 + 36
    assert (out[:, :, :4] == 24).all() and (out[:, :, 10:] == 511).all()  # only the interface
    thick, _ = apply_sizing(vol, params, cond, [0.0, 1.0, 0.0])
    f = structure_factor(params, structures[0], cond, [0.0, 1.0, 0.0])
    assert f == pytest.approx(0.75 * np.exp(0.5))
    assert (thick == 515).sum() == min(144 + 72, int(np.floor(144 * f + 0.5)))


def test_pipeline_sizing_keeps_the_head_layers(tmp_path: Path) -> None:
    """`pipeline.sizing` rewrites the brain's structures; the head's stay, on its new ages."""
    from brainsynth.pipeline import sizing as pipeline_sizing

    layers = layer_structures([20.0, 90.0], np.log([0.7, 1.4]), np.array([0.1, 0.2]))
    man = {"sizing": {"ages": [20.0, 90.0], "structures": layers, "headLayersFit": {"a": 1}}}
    (tmp_path / "manifest.json").write_text(json.dumps(man))
    new = {"ages": [20.0, 50.0, 90.0], "structures": [{"region": "hippocampus"}]}
    orig = (pipeline_sizing.sizing_parameters, pipeline_sizing.validate_manifest)
    try:
        pipeline_sizing.sizing_parameters = lambda *a, **k: json.loads(json.dumps(new))  # type: ignore[assignment]
        pipeline_sizing.validate_manifest = lambda m: None  # type: ignore[assignment]
        out = pipeline_sizing.add_sizing(tmp_path)
    finally:
        pipeline_sizing.sizing_parameters, pipeline_sizing.validate_manifest = orig
    assert [s["region"] for s in out["structures"]] == ["hippocampus", "skull", "scalp"]
    assert out["structures"][1]["factor"]["female"] == pytest.approx([0.7] * 3)
    assert out["structures"][2]["latent"] == 2
    assert out["headLayersFit"] == {"a": 1}

"""Step 4b, the local field: the fit's pieces (pipeline.local_field) and the sampler's use of
it (anatomy.local_field / velocity, the teacher). The engine's twin is checked against these
numbers by the parity fixture."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from brainsynth.anatomy import local_field, velocity, with_local_field
from brainsynth.common.warp import exp_velocity, trilinear
from brainsynth.model_io import gains_for, latents, load_model
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline import local_field as lf

COND = {"age": 60, "sex": "female", "pathology": "none", "contrast": "T1w"}


def test_group_masks_cover_each_group_and_fade_out() -> None:
    values = np.zeros((60, 60, 60), np.int32)
    values[10:22, 10:22, 10:22] = 17  # hippocampus: group 0
    values[40:55, 40:55, 40:55] = 8  # cerebellum: group 2
    m = lf.group_masks(values, 2.0, (20, 20, 20), 3)
    assert m.shape == (len(lf.GROUPS), 20, 20, 20)
    assert m.min() >= 0 and m.max() <= 1
    assert m[0, 5, 5, 5] == pytest.approx(1.0)  # voxel 15, inside the block
    assert m[2, 16, 16, 16] == pytest.approx(1.0)
    assert m[1].max() == 0  # no deep nuclei
    assert m[0, 16, 16, 16] == 0 and m[2, 5, 5, 5] == 0  # each far from the other
    mm = lf.mask_mm(m, [1.5, 1.0, 3.0])
    assert mm[5, 5, 5] == pytest.approx(1.5) and mm[16, 16, 16] == pytest.approx(3.0)


def test_group_masks_are_cut_away_on_the_excluded_structures() -> None:
    values = np.zeros((60, 60, 60), np.int32)
    values[10:40, 10:40, 10:40] = 8  # a large cerebellum: group 2
    values[20:30, 20:30, 20:30] = 16  # a brainstem 20 mm across inside it, excluded
    m = lf.group_masks(values, 2.0, (20, 20, 20), 3)
    assert 16 in lf.EXCLUDED_LABELS and all(16 not in g[1] for g in lf.GROUPS)
    assert m[2, 8, 8, 8] == 0  # voxel 24, in the brainstem
    assert m[2, 4, 4, 4] > 0.9  # voxel 12, cerebellum far from it
    assert 0 < m[2, 6, 8, 8] < m[2, 4, 8, 8]  # the smooth edge between


def test_secant_steps_towards_the_target_within_bounds() -> None:
    # Dice falls 0.1 per mm: from 0.7 at 0 mm to reach 0.65 takes 0.5 mm
    assert lf._secant(0.0, 0.7, 1.0, 0.6, 0.65) == pytest.approx(0.5)
    assert lf._secant(0.0, 0.7, 1.0, 0.6, -0.5) == lf.MAX_AMPLITUDE_MM  # clipped
    assert lf._secant(0.0, 0.7, 1.0, 0.6, 0.9) == 0.0
    assert lf._secant(0.0, 0.7, 1.0, 0.7, 0.5) == 1.0  # flat: keep the last


@pytest.fixture(scope="module")
def model_with_field(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("local-field")
    for p in DEFAULT_MODEL_DIR.iterdir():
        if p.is_file():
            shutil.copy2(p, d / p.name)
    lf.write_field(d, [1.5, 1.0, 3.0])
    return d


def test_written_field_loads_with_its_amplitudes(model_with_field: Path) -> None:
    model, man = load_model(model_with_field)
    spec = man["shapeModel"]["localField"]
    assert [g["amplitudeMm"] for g in spec["groups"]] == [1.5, 1.0, 3.0]
    assert model.local_mask_mm is not None
    assert model.local_mask_mm.shape == tuple(man["velocityGrid"]["shape"])
    assert float(model.local_mask_mm.max()) == pytest.approx(3.0, abs=1e-4)
    # the support is the deep structures: a small part of the grid, nothing at its faces
    assert 0.02 < float((model.local_mask_mm > 0).mean()) < 0.3
    assert (
        float(model.local_mask_mm[0].max()) == 0 and float(model.local_mask_mm[:, :, -1].max()) == 0
    )


def test_field_is_the_seeds_own_and_zero_outside_the_mask(model_with_field: Path) -> None:
    model, man = load_model(model_with_field)
    a = local_field(model, 7)
    b = local_field(model, 8)
    assert a is not None and b is not None
    np.testing.assert_array_equal(a, local_field(model, 7))
    assert not np.array_equal(a, b)
    assert model.local_mask_mm is not None
    outside = model.local_mask_mm == 0
    assert np.all(a[:, outside] == 0)
    # unit-variance field times the mask: where the mask is 3 mm, the RMS is about 3 mm
    full = model.local_mask_mm > 2.9
    rms = float(np.sqrt((a[:, full] ** 2).mean()))
    assert 1.5 < rms < 4.5
    # step 4b composes it with the anatomy's displacement: L + u(y + L); without a seed, u
    z, _ = latents(man, 7)
    u = exp_velocity(velocity(model, z, gains_for(man, COND)), model.vgrid)
    assert with_local_field(model, u, None) is u
    w = with_local_field(model, u, 7)
    np.testing.assert_allclose(w[:, outside], u[:, outside], atol=1e-6)  # no field: u itself
    y = model.vgrid.world_coords()
    np.testing.assert_allclose(w, a + trilinear(u, model.vgrid, y + a), atol=1e-5)
    assert float(np.abs(w - u).max()) > 1.0  # where the mask is, the individual moves


def test_teacher_draws_the_field_for_seeds_not_for_explicit_latents(
    model_with_field: Path, tmp_path: Path
) -> None:
    from brainsynth.teacher.generate import generate

    flat = tmp_path / "flat"
    shutil.copytree(model_with_field, flat)
    lf.write_field(flat, [0.0, 0.0, 0.0])  # the same model, a field of zero
    kw = {"resolution_mm": 2.0, "contrasts": ("T1w",), "device": "numpy"}
    seeded = generate(model_with_field, COND, 5, **kw)  # type: ignore[arg-type]
    plain = generate(flat, COND, 5, **kw)  # type: ignore[arg-type]
    moved = seeded.labels != plain.labels
    assert int(moved.sum()) > 100
    # the field moves the deep structures, not the cortex far from them
    hippo = np.isin(plain.labels, [17, 53])
    assert int((moved & hippo).sum()) > 0.02 * int(hippo.sum())
    zl = (np.zeros(int(load_model(flat)[1]["shapeModel"]["components"])), 0.0)
    a = generate(model_with_field, COND, 5, explicit_latents=zl, **kw)  # type: ignore[arg-type]
    b = generate(flat, COND, 5, explicit_latents=zl, **kw)  # type: ignore[arg-type]
    np.testing.assert_array_equal(a.labels, b.labels)

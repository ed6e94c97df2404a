"""Step 4b, the local field: the fit's pieces (pipeline.local_field) and the sampler's use of
it (anatomy.local_field / velocity, the teacher). The engine's twin is checked against these
numbers by the parity fixture."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

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
    lf.write_field(d, [1.5, 1.0, 3.0], projection="none")
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
    # without the projection nothing reaches beyond the mask; with it (divergence-free) a little
    raw = a
    assert np.all(raw[:, outside] == 0)
    model.local_projection = "divergence-free"
    a = local_field(model, 7)
    assert a is not None
    assert float(np.sqrt((a[:, outside] ** 2).mean())) < 0.2
    # unit-variance field times the mask: where the mask is 3 mm, the RMS is about 3 mm before
    # the projection, ~0.8 of that after it (it removes the compressive third of the variance)
    full = model.local_mask_mm > 2.9
    rms = float(np.sqrt((raw[:, full] ** 2).mean()))
    assert 1.5 < rms < 4.5
    assert 0.6 < float(np.sqrt((a[:, full] ** 2).mean())) / rms < 0.95
    # step 4b composes it with the anatomy's displacement: L + u(y + L); without a seed, u
    z, _ = latents(man, 7)
    u = exp_velocity(velocity(model, z, gains_for(man, COND)), model.vgrid)
    assert with_local_field(model, u, None) is u
    w = with_local_field(model, u, 7)
    # well away from the mask, nearly u itself: the projection's remainder there is a fraction
    # of a millimetre (it decays from the mask's edge; phi = 0 at the grid's faces)
    far = ndimage.binary_erosion(outside, iterations=4)
    moved = np.sqrt(((w - u)[:, far] ** 2).sum(axis=0))
    assert float(np.sqrt((moved**2).mean())) < 0.15 and float(moved.max()) < 1.5
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


def test_divergence_free_projection_removes_divergence_and_keeps_rotation() -> None:
    from brainsynth.anatomy import _central_diff, divergence_free

    rng = np.random.default_rng(3)
    f = np.zeros((3, 20, 24, 22), np.float32)
    f[:, 5:15, 6:18, 5:17] = rng.standard_normal((3, 10, 12, 12))

    def div(a: np.ndarray) -> np.ndarray:
        d = _central_diff(a[0].astype(np.float64), 0)
        return d + _central_diff(a[1].astype(np.float64), 1) + _central_diff(a[2], 2)

    g = divergence_free(f)
    assert float(np.abs(div(f)).max()) > 1.0
    inner = (slice(1, -1),) * 3  # the faces keep a remainder (phi is 0 outside the grid)
    assert float(np.abs(div(g)[inner]).max()) < 1e-5
    # a pure gradient field is removed; a divergence-free one (a curl) is kept
    x, y, z = np.meshgrid(*(np.arange(n, dtype=np.float64) for n in (20, 24, 22)), indexing="ij")
    bump = np.exp(-((x - 10) ** 2 + (y - 12) ** 2 + (z - 11) ** 2) / 8.0)
    grad = np.stack([_central_diff(bump, a) for a in range(3)]).astype(np.float32)
    assert float(np.abs(divergence_free(grad)).max()) < 1e-3 * float(np.abs(grad).max()) + 1e-6
    swirl = np.stack([-_central_diff(bump, 1), _central_diff(bump, 0), 0 * bump]).astype(np.float32)
    np.testing.assert_allclose(divergence_free(swirl), swirl, atol=1e-5)


def test_projected_field_is_the_written_projection(model_with_field: Path, tmp_path: Path) -> None:
    from brainsynth.anatomy import divergence_free

    assert "projection" not in load_model(model_with_field)[1]["shapeModel"]["localField"]
    d = tmp_path / "projected"
    shutil.copytree(model_with_field, d)
    lf.write_field(d, [1.5, 1.0, 3.0], projection="divergence-free")
    model, man = load_model(d)
    assert man["shapeModel"]["localField"]["projection"] == "divergence-free"
    assert model.local_projection == "divergence-free"
    a = local_field(model, 7)
    model.local_projection = "none"
    raw = local_field(model, 7)
    assert a is not None and raw is not None
    np.testing.assert_array_equal(a, divergence_free(raw))

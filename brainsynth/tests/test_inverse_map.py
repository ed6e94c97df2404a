"""Point inversion of the output -> template mapping (brainsynth.common.inverse_map)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from brainsynth.common.grid import Grid
from brainsynth.common.inverse_map import PointField, invert_mapping
from brainsynth.common.warp import exp_velocity, trilinear

GRID = Grid((12, 14, 10), (6.0, 6.0, 6.0), (-33.0, -39.0, -27.0))
CENTRE = (0.0, -5.0, 0.0)


def _displacement(strength: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = ndimage.gaussian_filter(rng.standard_normal((3, *GRID.shape)), (0, 1.5, 1.5, 1.5))
    v *= strength / np.abs(v).max()
    return exp_velocity(v.astype(np.float32), GRID)


def _forward(u: np.ndarray, x: tuple[float, float, float], scale: float) -> np.ndarray:
    c = np.asarray(CENTRE)
    xp = c + (np.asarray(x) - c) / scale
    return xp + trilinear(u, GRID, xp.reshape(3, 1).astype(np.float32))[:, 0]


def test_inverse_lands_on_the_target_even_where_grad_u_exceeds_one() -> None:
    u = _displacement(strength=12.0)  # ~2x the voxel size: |grad u| > 1 somewhere
    grad = np.stack([np.gradient(u[c], 6.0, axis=a) for c in range(3) for a in range(3)])
    assert np.abs(grad).max() > 1.0
    field = PointField(u, GRID)
    rng = np.random.default_rng(1)
    for _ in range(40):
        t = tuple(float(v) for v in rng.uniform(-20, 20, 3))
        inv = invert_mapping(field, t, 1.1, CENTRE)  # type: ignore[arg-type]
        assert inv.residual_mm < 1e-4
        # forward(float32 interpolation) of the returned point gives t back
        assert np.allclose(_forward(u, inv.point, 1.1), t, atol=1e-3)


def test_point_field_matches_the_volume_interpolator_and_its_gradient() -> None:
    u = _displacement(strength=5.0, seed=2)
    field = PointField(u, GRID)
    p = (1.3, -7.9, 4.4)
    val, jac = field.sample(p)
    ref = trilinear(u, GRID, np.asarray(p, np.float32).reshape(3, 1))[:, 0]
    assert np.allclose(val, ref, atol=1e-5)
    h = 1e-3
    for a in range(3):
        q = list(p)
        q[a] += h
        num = (np.asarray(field.sample(tuple(q))[0]) - np.asarray(val)) / h  # type: ignore[arg-type]
        assert np.allclose([jac[c][a] for c in range(3)], num, atol=1e-4)


def test_identity_field_inverts_the_global_scale_exactly() -> None:
    field = PointField(np.zeros((3, *GRID.shape), np.float32), GRID)
    inv = invert_mapping(field, (10.0, 0.0, -5.0), 1.2, CENTRE)
    assert np.allclose(inv.point, (12.0, 1.0, -6.0))
    assert inv.residual_mm == 0.0

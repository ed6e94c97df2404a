import numpy as np

from brainsynth.common.grid import (
    VELOCITY_GRID,
    Grid,
    field_from_file_order,
    field_to_file_order,
    to_file_order,
)
from brainsynth.common.rng import Mulberry32, normals
from brainsynth.common.warp import exp_velocity, nearest_labels, trilinear


def test_mulberry32_matches_reference_js_values() -> None:
    # Values printed by the reference JavaScript mulberry32 for seed 42.
    r = Mulberry32(42)
    assert [r.next() for _ in range(4)] == [
        0.6011037519201636,
        0.44829055899754167,
        0.8524657934904099,
        0.6697340414393693,
    ]


def test_normals_are_standard() -> None:
    z = normals(7, 20000)
    assert abs(z.mean()) < 0.03
    assert abs(z.std() - 1) < 0.03
    assert np.array_equal(normals(7, 5), z[:5])


def test_file_order_is_x_fastest() -> None:
    vol = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    flat = np.frombuffer(to_file_order(vol), np.uint8)
    # NIfTI order: index = x + nx*(y + ny*z)
    assert flat[1] == vol[1, 0, 0]
    assert flat[2] == vol[0, 1, 0]
    f = np.random.default_rng(0).normal(size=(3, 2, 3, 4)).astype(np.float32)
    assert np.array_equal(field_from_file_order(field_to_file_order(f)), f)
    assert field_to_file_order(f).shape == (4, 3, 2, 3)


def test_trilinear_exact_on_linear_field_and_clamped() -> None:
    g = Grid((5, 6, 7), (2.0, 2.0, 2.0), (-4.0, -5.0, -6.0))
    x = g.world_coords()
    field = (x[0] * 0.5 + x[1] * 0.25 - x[2])[None]
    pts = np.array([[0.3], [1.1], [-2.7]], np.float32).reshape(3, 1, 1, 1)
    val = trilinear(field, g, pts)[0].item()
    assert abs(val - (0.15 + 0.275 + 2.7)) < 1e-5
    far = np.array([1000.0, 0.0, 0.0], np.float32).reshape(3, 1, 1, 1)
    edge = np.array([4.0, 0.0, 0.0], np.float32).reshape(3, 1, 1, 1)
    assert abs(trilinear(field, g, far)[0].item() - trilinear(field, g, edge)[0].item()) < 1e-6


def test_exp_of_zero_and_of_constant_velocity() -> None:
    v = np.zeros((3,) + VELOCITY_GRID.shape, np.float32)
    assert np.abs(exp_velocity(v, VELOCITY_GRID)).max() == 0
    v[0] = 3.0  # a constant velocity integrates to a translation by the same amount
    u = exp_velocity(v, VELOCITY_GRID)
    assert np.allclose(u[0], 3.0, atol=1e-4)


def test_nearest_labels_outside_is_background() -> None:
    g = Grid((4, 4, 4), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0))
    lab = np.full((4, 4, 4), 5, np.uint8)
    pts = np.array([[1.4, 10.0], [1.0, 1.0], [1.0, 1.0]], np.float32).reshape(3, 2, 1, 1)
    out = nearest_labels(lab, g, pts).ravel()
    assert out.tolist() == [5, 0]

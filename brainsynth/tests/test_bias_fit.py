"""The bias field's systematic part: the WM-by-depth measurement (common.wm_depth), the field's
estimator and its re-expression on the grid (pipeline.bias_fit) and the renderer's use of it
(teacher.render.bias_polynomial / bias_mean / systematic_bias, the same arithmetic as
src/engine/render/bias.ts)."""

from __future__ import annotations

import numpy as np
import pytest

from brainsynth.common import tissue
from brainsynth.common.wm_depth import depth_slope, hull_depth_mm, wm_depth_bands
from brainsynth.pipeline.bias_fit import field_coefficients, grid_coefficients, monomials
from brainsynth.teacher.render import bias_mean, bias_polynomial


def ball(radius_mm: float = 60.0, spacing: float = 2.0):  # type: ignore[no-untyped-def]
    n = int(2 * radius_mm / spacing) + 8
    c = (n - 1) / 2.0
    i, j, k = np.meshgrid(*(np.arange(n),) * 3, indexing="ij")
    r = spacing * np.sqrt((i - c) ** 2 + (j - c) ** 2 + (k - c) ** 2)
    classes = np.where(r <= radius_mm, tissue.WM, tissue.OUTSIDE).astype(np.int8)
    classes[(r > radius_mm - 3) & (r <= radius_mm)] = tissue.CORTEX
    return classes, r


def test_hull_depth_and_the_slope_of_a_central_brightening() -> None:
    classes, r = ball()
    depth = hull_depth_mm(classes, (2.0, 2.0, 2.0))
    inside = classes != tissue.OUTSIDE
    # depth = distance to outside the ball, to within a voxel
    assert np.abs(depth[inside] - (60.0 - r[inside])).max() < 2.5
    flat = np.where(inside, 1.0, 0.0)
    assert abs(depth_slope(wm_depth_bands(flat, classes, (2.0, 2.0, 2.0)))) < 1e-9
    bright = np.where(inside, np.exp(0.01 * (60.0 - r)), 0.0)  # 1 % per mm toward the centre
    assert depth_slope(wm_depth_bands(bright, classes, (2.0, 2.0, 2.0))) == pytest.approx(
        0.01, rel=0.1
    )
    with pytest.raises(ValueError, match="two depth bands"):
        depth_slope(np.array([np.nan, 1.0, np.nan, np.nan, np.nan, np.nan]))
    with pytest.raises(ValueError, match="eroded white matter"):
        wm_depth_bands(flat, np.zeros_like(classes), (2.0, 2.0, 2.0))


def coefficients(amp: float, centre: list[float], semi: list[float]) -> list[float]:
    """An ellipsoidal central brightening -amp |(u - centre) / semi|^2 on the grid monomials."""
    e = np.zeros(10)
    e[4:7] = -amp
    return grid_coefficients(e, centre, semi)


def test_the_estimator_recovers_a_known_field_over_several_tissues() -> None:
    classes, r = ball(60.0)
    inside = classes != tissue.OUTSIDE
    groups = np.where(inside, "wm", "").astype(object)
    n = classes.shape[0]
    # a brainstem-like block of another tissue (own intensity) at the bottom of the ball
    k = np.arange(n)[None, None, :]
    groups = np.where(inside & (k < n // 3), "brainstem", groups).astype(str)
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    world = np.indices(classes.shape).reshape(3, -1).T * 2.0
    brain = groups.ravel() != ""
    centre = world[brain].mean(0)
    semi = np.sqrt(5 * world[brain].var(0))
    v = (world - centre) / semi
    true = np.array([0.0, 0.05, 0.1, -0.2, -0.3, -0.2, -0.4, 0.05, 0.0, -0.05])
    field = np.exp(monomials(v) @ true).reshape(classes.shape)
    tissue_level = np.where(groups == "brainstem", 1.15, 1.0)
    rng = np.random.default_rng(1)
    img = np.where(inside, tissue_level * field * (1 + 0.02 * rng.standard_normal(r.shape)), 0)
    est = field_coefficients(img, groups, affine)
    assert np.abs(est - true).max() < 0.02, est.round(3)
    with pytest.raises(ValueError, match="not a brain scan"):
        field_coefficients(img, np.full(classes.shape, "", dtype=str), affine)


def test_grid_coefficients_re_express_the_brain_quadratic() -> None:
    centre, semi = [0.1, -0.05, 0.2], [0.7, 0.8, 0.6]
    e = np.array([0.0, 0.1, 0.0, -0.2, -0.5, -0.4, -0.6, 0.05, 0.0, 0.02])
    d = np.asarray(grid_coefficients(e, centre, semi))
    u = np.random.default_rng(0).uniform(-1, 1, size=(100, 3))
    direct = monomials((u - centre) / np.asarray(semi)) @ e
    const = float((monomials(-np.asarray(centre)[None] / np.asarray(semi)) @ e)[0])  # dropped
    assert np.allclose(monomials(u) @ d, direct - const, atol=1e-9)
    assert d[0] == 0.0


def test_the_renderer_adds_the_mean_to_the_seed_field() -> None:
    shape = (9, 7, 5)
    d = coefficients(0.5, [0.0, 0.0, 0.0], [0.8, 0.8, 0.8])
    app = {"biasFieldStrength": 0.25, "biasMean": {"coefficients": d}}
    mean = bias_mean(app)
    assert mean == [v / 0.25 for v in d]
    p0 = bias_polynomial(shape, 3)
    p1 = bias_polynomial(shape, 3, mean)
    # strength * (P1 - P0) = D: brightest at the centre, -amplitude / 0.64 at a face centre
    delta = 0.25 * (p1.astype(np.float64) - p0)
    assert delta[4, 3, 2] == pytest.approx(0.0, abs=1e-6)
    assert delta[0, 3, 2] == pytest.approx(-0.5 / 0.64, rel=1e-5)
    assert delta.max() == pytest.approx(delta[4, 3, 2], abs=1e-6)
    assert bias_mean({"biasFieldStrength": 0.25}) is None
    assert bias_mean({"biasFieldStrength": 0.0, "biasMean": {"coefficients": d}}) is None


def test_systematic_bias_is_the_mean_part_of_the_field() -> None:
    from brainsynth.teacher.render import systematic_bias

    shape = (9, 7, 5)
    d = coefficients(0.4, [0.1, 0.0, -0.1], [0.7, 0.9, 0.8])
    app = {"biasFieldStrength": 0.3, "biasMean": {"coefficients": d}}
    p0 = bias_polynomial(shape, 11).astype(np.float64)
    p1 = bias_polynomial(shape, 11, bias_mean(app)).astype(np.float64)
    assert np.allclose(np.log(systematic_bias(shape, app)), 0.3 * (p1 - p0), atol=1e-5)
    assert (systematic_bias(shape, {"biasFieldStrength": 0.3}) == 1.0).all()


def test_the_bowl_peaks_where_the_real_mean_field_does() -> None:
    from brainsynth.pipeline.bias_fit import bowl, peak

    at = np.array([0.0, 0.25, -0.3])
    b = bowl(0.5, at)
    assert np.allclose(peak(b), at)
    v = np.random.default_rng(2).uniform(-1, 1, size=(50, 3))
    const = -0.5 * float((at**2).sum())  # the dropped constant
    assert np.allclose(monomials(v) @ b, -0.5 * ((v - at) ** 2).sum(1) - const)
    # an anisotropic field's stationary point: solve the gradient
    c = np.array([0.0, 0.01, 0.17, -0.24, -0.48, -0.35, -0.46, -0.11, -0.02, -0.05])
    p = peak(c)
    eps = 1e-6
    for k in range(3):
        d = np.zeros(3)
        d[k] = eps
        up = monomials((p + d)[None]) @ c
        down = monomials((p - d)[None]) @ c
        assert abs(float((up - down)[0]) / (2 * eps)) < 1e-6


def test_a_radial_field_sampled_from_the_bowl_renders_the_bowl() -> None:
    """The radial part (model >= 1.12.0): knots of -a r^2 render the bowl (up to linear
    interpolation between knots), are flat beyond the last knot, and go through bias_field and
    systematic_bias like the polynomial."""
    from brainsynth.teacher.render import bias_field, radial_log_field, systematic_bias

    shape = (21, 17, 13)
    centre, semi = [0.1, -0.1, 0.0], [0.7, 0.8, 0.6]
    d = coefficients(0.4, centre, semi)
    step, knots = 0.05, 60
    r = np.arange(knots) * step
    radial = {"step": step, "values": (-0.4 * r**2).tolist()}
    spec = {"coefficients": [0.0] * 10, "centre": centre, "semiAxes": semi, "radial": radial}
    app_poly = {"biasFieldStrength": 0.3, "biasMean": {"coefficients": d}}
    app_rad = {"biasFieldStrength": 0.3, "biasMean": spec}
    log_poly = np.log(systematic_bias(shape, app_poly))
    log_rad = np.log(systematic_bias(shape, app_rad))
    # the polynomial dropped its constant (0.4 |centre / semi|^2): compare up to it
    diff = log_rad - log_poly
    assert np.ptp(diff) < 0.4 * step**2  # linear interpolation of r^2 between knots
    # the render's P: the seed's polynomial plus R / strength
    p = bias_field(shape, 5, app_rad).astype(np.float64)
    p0 = bias_polynomial(shape, 5, [0.0] * 10).astype(np.float64)
    assert np.allclose(0.3 * (p - p0), np.log(systematic_bias(shape, app_rad)), atol=1e-5)
    # clamped beyond the last knot; linear between knots
    flat = {**spec, "radial": {"step": 0.5, "values": [0.0, -0.2]}}
    field = radial_log_field(shape, flat)
    assert field.min() == pytest.approx(-0.2) and field.max() <= 0.0
    with pytest.raises(ValueError, match="centre"):
        radial_log_field(shape, {"radial": radial})
    assert bias_field(shape, 5, {"biasFieldStrength": 0.3}).dtype == np.float32


def test_radial_profile_and_update_recover_a_radial_field() -> None:
    from brainsynth.pipeline.bias_fit import RADIAL_STEP, radial_profile, radial_update

    n = 48
    i, j, k = np.meshgrid(*(np.arange(n),) * 3, indexing="ij")
    c = (n - 1) / 2
    rr = np.sqrt((i - c) ** 2 + (j - c) ** 2 + (k - c) ** 2)
    groups = np.where(rr <= 20, "wm", "").astype(object)
    groups[(rr <= 8)] = "deep-gm"  # a darker tissue in the middle: its offset is held apart
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    # brain-normalised radius: semi-axis sqrt(5 var) of a solid ball of radius 20 is 20 voxels
    field = -0.3 * (rr / 20.0)  # linear in r
    img = np.exp(field) * np.where(groups == "deep-gm", 0.8, 1.0)
    img = np.where(groups != "", img, 0.0)
    prof = radial_profile(img, groups.astype(str), affine)
    knots_r = np.arange(prof.size) * RADIAL_STEP
    ok = np.isfinite(prof)
    assert ok[2:9].all()
    expected = -0.3 * (knots_r - 0.2)
    assert np.abs(prof[ok & (knots_r <= 0.9)] - expected[ok & (knots_r <= 0.9)]).max() < 0.03
    # one fixed-point step from a flat field moves the fitted knots onto the profile, flat
    # beyond the fitted range
    flat = np.zeros(prof.size)
    step = radial_update(flat, prof, np.zeros(prof.size), fit_max=0.8)
    assert np.allclose(step[ok & (knots_r <= 0.8)], prof[ok & (knots_r <= 0.8)])
    assert (step[knots_r > 0.8] == step[knots_r <= 0.8 + 1e-9][-1]).all()
    # flat inside the reference radius, even where both profiles are measured there
    inner = radial_update(
        np.zeros(4), np.array([-0.1, -0.05, 0.0, -0.02]), np.zeros(4), fit_max=1.0
    )
    assert inner.tolist() == pytest.approx([0.0, 0.0, 0.0, -0.02])
    with pytest.raises(ValueError, match="both radial profiles"):
        radial_update(flat, np.full(prof.size, np.nan), flat)

"""Fit the bias field's systematic part, the 3 T central brightening, *through the renderer* to
the 42 real IXI T1s.

    python -m brainsynth.pipeline.bias_fit --data ../shared/data [--model DIR] [--twins 8]

Why: the real scans (all from one 3 T scanner) are brighter in the middle of the brain than
near its surface, in white matter and cortex alike (`common.wm_depth`: eroded WM 0.84 x its
median 4-8 mm below the brain's hull, 1.07 x at >= 28 mm), the field's shape at 3 T. The
renderer's bias was a random quadratic per seed around zero, so synthetic WM was flat with
depth (0.98-1.00) and the realism benchmark's superficial/deep WM ratio sat at +5 z. The
random part stays (each scan's own field); this step gives it a fitted mean.

Shape: an isotropic bowl on the template brain's centroid in *brain-normalised* coordinates
v = (u - centre) / semiAxes (the brain's centroid and half-extents, sqrt(5 var) per axis: a
solid ellipsoid's), D = -a |v|^2 (its constant dropped), re-expressed on the grid coordinates u
normalised to [-1, 1] where the bias polynomial lives: `appearance.biasMean`
(MODEL_FORMAT.md §5).

Amplitude, through the renderer: the slope of log eroded-WM median against depth below the
brain's hull (`common.wm_depth`), real (median over the scans) vs the 2 mm teacher's healthy
twins (`render_fit.twins`, median); two renders (a = 0 and `PROBE`) then `ROUNDS` secant steps.

The real scans' own mean field (`field_coefficients`: per scan, a least-squares quadratic of
log intensity over the tissues whose own intensity is flat — eroded WM, deep GM, brainstem,
cerebellar WM and GM, each with its own offset — in brain-normalised coordinates, trimmed at
2.5 robust SDs) is recorded with its peak, and was tried as the shape: (1) the full mean
quadratic, matched by a closed loop on the same estimator, matched the WM slope, but the
per-tissue offsets and the central peak are confounded — deep GM rendered +4.5 z bright
against WM, whole-brain W1 +4.2 z; (2) a bowl around its peak (a little in front of and below
the centroid) darkened the vertex enough to spread the cortex's and superficial WM's
intensities 1.35-1.6x the real ones. The centred bowl is the best of the three on the realism
benchmark; its one known cost: below the cerebrum its curvature spreads the brainstem's
intensities ~1.75x the real ones (the render fit's SD scale for the brainstem sits at its
lower bound). A real 3 T field flattens at the brain's edge; a quadratic cannot.

Radial shape (model 1.12.0): the bowl is only the start. Both the real scans and the twins get a
*radial profile* (`radial_profile`: the log intensity of the same flat tissues, each with its
own offset, on one value per knot of the brain-normalised radius r = |v|, relative to r = 0.2).
Real (median of 42): about linear in r out to r ~ 1 (-0.02, -0.06, -0.09, -0.13, -0.17, -0.21,
-0.24 at r = 0.3 ... 0.9); the bowl's twins fell as r^2 (-0.40 at r = 0.9), so the brainstem,
at r ~ 0.7-1.1 below the centroid, ran from dark at the medulla to bright at the midbrain. The
systematic field becomes a table of knots (`biasMean.radial`, MODEL_FORMAT.md §5 step 3; the
polynomial coefficients 0), started at the bowl's -a r^2 and moved knot by knot by
real - synthetic (`radial_update`: the log-field adds to the log intensity, so this is a
fixed-point step), `RADIAL_ROUNDS` rounds; knots beyond `RADIAL_FIT_MAX` (where the profile is
edge partial volume rather than field) stay at the last fitted value, so the field flattens at
the brain's edge. The round with the smallest profile error is kept; the WM depth slope it
renders is recorded beside the real one.
Runs before `render_fit`, which then refits the random part's strength to the real WM
non-uniformity (that now includes the systematic part) and the tissue means.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from brainsynth.common.tissue import BRAIN_CLASSES, classes_from_dlmuse, classes_from_freesurfer
from brainsynth.common.wm_depth import depth_slope, wm_depth_bands
from brainsynth.model_io import load_model
from brainsynth.pipeline.render_fit import (
    group_lut,
    groups_of,
    ixi_scans,
    muse_group_lut,
    scratch_model,
    sex_of,
    twin_fit_args,
    twin_volumes,
    twins,
)
from brainsynth.schema import validate_manifest

TISSUES = ("wm", "deep-gm", "brainstem", "cerebellum-wm", "cerebellum-gm")  # "wm" eroded
PROBE = 0.3
ROUNDS = 2
AMPLITUDE_RANGE = (0.0, 1.5)
TRIM = 2.5  # robust SDs
MAD_TO_SD = 1.4826
# the radial part (model >= 1.12.0): knots r = k * RADIAL_STEP, k < RADIAL_KNOTS, brain-normalised
RADIAL_STEP = 0.1
RADIAL_KNOTS = 15
RADIAL_FIT_MAX = 1.0  # knots up to this radius are fitted; beyond, the field stays flat
RADIAL_REFERENCE = 2  # profiles are relative to knot 2 (r = 0.2)
RADIAL_ROUNDS = 3
MIN_BIN_VOXELS = 200

Log = Callable[[str], None]


def monomials(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """The bias polynomial's monomials of points v [n, 3]: [n, 10]."""
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    return np.stack([np.ones_like(x), x, y, z, x * x, y * y, z * z, x * y, x * z, y * z], 1)


def _world(shape: tuple[int, ...], affine: NDArray[np.float64]) -> NDArray[np.float64]:
    idx = np.indices(shape).reshape(3, -1).T.astype(np.float64)
    return np.asarray(idx @ np.asarray(affine)[:3, :3].T + np.asarray(affine)[:3, 3])


def _flat_tissues(
    image: NDArray[np.floating[Any]], groups: NDArray[np.str_], affine: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The voxels of the tissues whose own intensity is flat (`TISSUES`: eroded WM, then each
    other tissue): their brain-normalised coordinates v [n, 3] (the brain's centroid and
    half-extents sqrt(5 var)), their tissue offsets [n, len(TISSUES) - 1] (0/1, WM the
    reference) and their log intensities [n]. `groups` names each voxel's tissue group (''
    outside the brain)."""
    img = np.asarray(image, np.float64)
    brain = groups != ""
    if int(brain.sum()) < 1000:
        raise ValueError("fewer than 1000 brain voxels: not a brain scan")
    world = _world(img.shape, affine)
    inb = world[brain.ravel()]
    centre = inb.mean(axis=0)
    semi = np.sqrt(5.0 * inb.var(axis=0))
    masks = [ndimage.binary_erosion(groups == "wm")] + [groups == t for t in TISSUES[1:]]
    sel = np.zeros(img.shape, bool)
    for m in masks:
        sel |= m
    sel &= img > 0
    if int(masks[0].sum()) < 100:
        raise ValueError("fewer than 100 eroded white-matter voxels: not a brain scan")
    flat = sel.ravel()
    v = (world[flat] - centre) / semi
    offsets = np.stack([m.ravel()[flat] for m in masks[1:]], 1).astype(np.float64)
    return v, offsets, np.log(img.ravel()[flat])


def _trimmed_lstsq(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Least squares of y on x, trimmed at TRIM robust SDs of the residual, refitted."""
    keep = np.ones(y.size, bool)
    for _ in range(2):  # fit, trim at TRIM robust SDs, refit
        coef = np.linalg.lstsq(x[keep], y[keep], rcond=None)[0]
        r = y - x @ coef
        mad = MAD_TO_SD * float(np.median(np.abs(r[keep] - np.median(r[keep]))))
        keep = np.abs(r - np.median(r[keep])) < TRIM * max(mad, 1e-6)
    return np.asarray(coef, np.float64)


def field_coefficients(
    image: NDArray[np.floating[Any]], groups: NDArray[np.str_], affine: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The scan's log-field quadratic in brain-normalised coordinates (module docstring): ten
    coefficients on `monomials`, the constant set to 0. `groups` names each voxel's tissue
    group ('' outside the brain)."""
    v, offsets, y = _flat_tissues(image, groups, affine)
    coef = _trimmed_lstsq(np.hstack([monomials(v), offsets]), y)
    out = np.asarray(coef[:10], np.float64)
    out[0] = 0.0
    return out


def radial_profile(
    image: NDArray[np.floating[Any]],
    groups: NDArray[np.str_],
    affine: NDArray[np.float64],
    step: float = RADIAL_STEP,
    knots: int = RADIAL_KNOTS,
) -> NDArray[np.float64]:
    """The scan's radial log-intensity profile: least squares of log intensity over the tissues
    whose own intensity is flat (`TISSUES`, eroded WM and each other tissue with its own offset)
    on one value per knot r = k * step of the brain-normalised radius (each voxel to its nearest
    knot), relative to knot `RADIAL_REFERENCE`; NaN where a knot has under `MIN_BIN_VOXELS`
    voxels. The field's radial shape as the scan shows it (tissue composition held apart by the
    offsets), measured the same way on real scans and on twins."""
    v, offsets, y = _flat_tissues(image, groups, affine)
    r = np.sqrt((v**2).sum(axis=1))
    knot = np.minimum(np.floor(r / step + 0.5).astype(np.int64), knots - 1)
    counts = np.bincount(knot, minlength=knots)
    x = np.zeros((knot.size, knots))
    x[np.arange(knot.size), knot] = 1.0
    coef = _trimmed_lstsq(np.hstack([x, offsets]), y)
    prof = np.where(counts >= MIN_BIN_VOXELS, coef[:knots], np.nan)
    if not np.isfinite(prof[RADIAL_REFERENCE]):
        raise ValueError("too few voxels at the reference radius for a radial profile")
    return np.asarray(prof - prof[RADIAL_REFERENCE], np.float64)


def radial_update(
    values: NDArray[np.float64],
    real: NDArray[np.float64],
    synthetic: NDArray[np.float64],
    step: float = RADIAL_STEP,
    fit_max: float = RADIAL_FIT_MAX,
) -> NDArray[np.float64]:
    """One fixed-point step of the radial log-field: each fitted knot (from the reference knot
    to r <= fit_max, both profiles measured) moves by real - synthetic (the log-field adds to
    log intensity); knots outside the fitted ones take the nearest fitted knot's value: flat
    beyond the data (no extrapolated fall-off at the brain's edge) and flat inside the
    reference radius (the innermost knot holds the deep grey matter around the ventricles,
    where the real scans' periventricular partial volume, not the field, reads darker)."""
    out = np.asarray(values, np.float64).copy()
    r = np.arange(out.size) * step
    ok = np.isfinite(real) & np.isfinite(synthetic) & (r <= fit_max + 1e-9)
    ok &= np.arange(out.size) >= RADIAL_REFERENCE
    if not ok.any():
        raise ValueError("no radius where both radial profiles are measured")
    out[ok] += (real - synthetic)[ok]
    idx = np.flatnonzero(ok)
    lo, hi = int(idx[0]), int(idx[-1])
    out[:lo] = out[lo]
    out[hi + 1 :] = out[hi]
    return out


def brain_geometry(model_dir: Path) -> tuple[list[float], list[float]]:
    """The template brain's centroid and half-extents (sqrt(5 var)) in grid coordinates
    normalised to [-1, 1] (the bias polynomial's)."""
    model, _ = load_model(model_dir)
    classes = classes_from_freesurfer(model.label_values[model.template])
    idx = np.argwhere(np.isin(classes, BRAIN_CLASSES)).astype(np.float64)
    if idx.size == 0:
        raise ValueError(f"{model_dir}: the template has no brain")
    n = np.asarray(model.template.shape, np.float64)
    u = idx * 2.0 / np.maximum(n - 1.0, 1.0) - 1.0
    return u.mean(axis=0).round(4).tolist(), np.sqrt(5.0 * u.var(axis=0)).round(4).tolist()


def grid_coefficients(
    brain_coef: NDArray[np.float64], centre: list[float], semi: list[float]
) -> list[float]:
    """The quadratic sum_k brain_coef_k m_k((u - centre) / semi) re-expressed on m_k(u) (exact:
    least squares on points, a quadratic in u either way)."""
    u = np.random.default_rng(0).uniform(-1.5, 1.5, size=(400, 3))
    v = (u - np.asarray(centre)) / np.asarray(semi)
    coef = np.linalg.lstsq(monomials(u), monomials(v) @ brain_coef, rcond=None)[0]
    coef[0] = 0.0
    return [float(c) for c in coef]


def _spacing(affine: NDArray[np.floating[Any]]) -> tuple[float, float, float]:
    z = np.sqrt((np.asarray(affine, np.float64)[:3, :3] ** 2).sum(axis=0))
    return (float(z[0]), float(z[1]), float(z[2]))


def real_fields(data: Path, log: Log = print) -> list[dict[str, Any]]:
    """Age, sex, field coefficients and WM depth slope of every real IXI T1 (2 mm, DLMUSE)."""
    lut = muse_group_lut(data)
    out = []
    for row, t1, seg in ixi_scans(data):
        img = np.asarray(t1.dataobj, np.float32)
        groups = groups_of(lut, seg)
        affine = np.asarray(t1.affine, np.float64)
        bands = wm_depth_bands(img, classes_from_dlmuse(seg), _spacing(affine))
        out.append(
            {
                "age": float(row["age"]),
                "sex": sex_of(row["sex"]),
                "field": field_coefficients(img, groups, affine),
                "slope": depth_slope(bands),
                "radial": radial_profile(img, groups, affine),
            }
        )
    log(f"  field coefficients of {len(out)} real scans")
    return out


def peak(coef: NDArray[np.float64]) -> NDArray[np.float64]:
    """Where the quadratic sum_k coef_k m_k(v) is stationary (its maximum for a bowl): v [3]."""
    c = np.asarray(coef, np.float64)
    h = np.array(
        [[2 * c[4], c[7], c[8]], [c[7], 2 * c[5], c[9]], [c[8], c[9], 2 * c[6]]], np.float64
    )
    return np.asarray(np.linalg.solve(h, -c[1:4]), np.float64)


def bowl(amplitude: float, at: NDArray[np.float64]) -> NDArray[np.float64]:
    """-amplitude |v - at|^2 on `monomials` (constant dropped)."""
    out = np.zeros(10)
    out[1:4] = 2.0 * amplitude * np.asarray(at)
    out[4:7] = -amplitude
    return out


def _json_profile(p: NDArray[np.float64]) -> list[float | None]:
    """A profile for the manifest: rounded, NaN (unmeasured knot) as null."""
    return [round(float(v), 4) if np.isfinite(v) else None for v in p]


def _median_profile(profiles: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    """Median per knot over the profiles; NaN where no profile has the knot."""
    p = np.asarray(profiles, np.float64)
    out = np.full(p.shape[1], np.nan)
    some = np.isfinite(p).any(axis=0)
    out[some] = np.nanmedian(p[:, some], axis=0)
    return out


def synthetic_measures(
    model_dir: Path, subjects: list[tuple[float, str, int]]
) -> tuple[float, NDArray[np.float64]]:
    """The 2 mm teacher's healthy twins' median WM depth slope and median radial profile."""
    lut = group_lut(json.loads((model_dir / "manifest.json").read_text())["labels"])
    slopes, profiles = [], []
    for vol in twin_volumes(model_dir, subjects):
        img = vol.images["T1w"]
        affine = np.asarray(vol.affine, np.float64)
        bands = wm_depth_bands(img, classes_from_freesurfer(vol.labels), _spacing(affine))
        slopes.append(depth_slope(bands))
        profiles.append(radial_profile(img, groups_of(lut, vol.labels), affine))
    return float(np.median(slopes)), _median_profile(profiles)


def fit(model_dir: Path, data: Path, n_twins: int = 8, log: Log = print) -> dict[str, Any]:
    path = model_dir / "manifest.json"
    man = json.loads(path.read_text())
    app = man["appearance"]
    if not float(app["biasFieldStrength"]) > 0:
        raise ValueError(f"{path}: biasFieldStrength is 0, the bias field is off")
    centre, semi = brain_geometry(model_dir)
    real = real_fields(data, log)
    real_coef = np.mean([r["field"] for r in real], axis=0)
    # the bowl sits on the brain's centroid: around the real mean field's own peak (a little in
    # front of and below it) it darkened the vertex enough to spread the cortex's and the
    # superficial WM's intensities 1.35-1.6x the real ones (module docstring)
    at = np.zeros(3)
    target = float(np.median([r["slope"] for r in real]))
    real_radial = _median_profile([r["radial"] for r in real])
    subjects = twins(real, n_twins)
    points: list[tuple[float, float]] = []
    radial_rounds: list[dict[str, Any]] = []
    knots_r = np.arange(RADIAL_KNOTS) * RADIAL_STEP
    with scratch_model(model_dir) as work:

        def render(bias_mean: dict[str, Any]) -> tuple[float, NDArray[np.float64]]:
            trial = json.loads(json.dumps(man))
            trial["appearance"]["biasMean"] = bias_mean
            (work / "manifest.json").write_text(json.dumps(trial))
            return synthetic_measures(work, subjects)

        def render_bowl(amplitude: float) -> None:
            coef = grid_coefficients(bowl(amplitude, at), centre, semi)
            s, _ = render({"coefficients": coef})
            points.append((amplitude, s))
            log(f"  amplitude {amplitude:.3f}: WM depth slope {s:.5f}/mm (real {target:.5f})")

        # 1. the bowl's amplitude, to the WM depth slope
        render_bowl(0.0)
        render_bowl(PROBE)
        for _ in range(ROUNDS):
            (x0, y0), (x1, y1) = points[-2], points[-1]
            if y1 == y0:
                break
            render_bowl(
                float(np.clip(x1 + (target - y1) * (x1 - x0) / (y1 - y0), *AMPLITUDE_RANGE))
            )
        amplitude, _ = points[-1]

        # 2. its radial shape, to the real radial profile: start from the bowl (-a r^2, radial in
        # v, so exactly the same field), fixed-point steps on the knots
        def radial_mean(values: NDArray[np.float64]) -> dict[str, Any]:
            return {
                "coefficients": [0.0] * 10,
                "centre": centre,
                "semiAxes": semi,
                "radial": {
                    "step": RADIAL_STEP,
                    "values": [round(float(v), 5) for v in values],
                },
            }

        values = np.asarray(-amplitude * knots_r**2, np.float64)
        for r in range(RADIAL_ROUNDS + 1):
            slope, syn = render(radial_mean(values))
            rms = float(np.sqrt(np.nanmean(((syn - real_radial)[knots_r <= RADIAL_FIT_MAX]) ** 2)))
            radial_rounds.append(
                {
                    "values": [round(float(v), 5) for v in values],
                    "profile": _json_profile(syn),
                    "wmDepthSlopePerMm": round(slope, 6),
                    "rms": round(rms, 4),
                }
            )
            log(f"  radial round {r}: profile rms {rms:.4f}, WM depth slope {slope:.5f}/mm")
            if r < RADIAL_ROUNDS:
                values = radial_update(values, real_radial, syn)
    best = min(radial_rounds, key=lambda x: x["rms"])
    values = np.asarray(best["values"], np.float64)
    brain_coef = bowl(amplitude, at)
    app["biasMean"] = {
        **radial_mean(values),
        "brainCoefficients": [0.0] * 10,
        "source": "pipeline.bias_fit: a radial log-field in brain-normalised coordinates on the "
        "brain's centroid, started from the isotropic bowl whose amplitude fits the WM depth "
        f"slope of {len(real)} IXI T1s (3 T), then fitted knot by knot to their radial "
        "log-intensity profile, both through the 2 mm teacher's twins",
    }
    app.setdefault("measured", {})["biasFit"] = {
        "realMeanCoefficients": [round(float(v), 6) for v in real_coef],
        "realMeanPeak": [round(float(v), 4) for v in peak(real_coef)],
        "amplitude": round(amplitude, 4),
        "bowlBrainCoefficients": [round(float(v), 6) for v in brain_coef],
        "realWmDepthSlopePerMm": round(target, 6),
        "syntheticWmDepthSlopePerMm": best["wmDepthSlopePerMm"],
        "renders": [[round(a, 4), round(v, 6)] for a, v in points],
        "realRadialProfile": _json_profile(real_radial),
        "radialRounds": radial_rounds,
        "twins": [list(t) for t in subjects],
    }
    validate_manifest(man)
    path.write_text(json.dumps(man, indent=1) + "\n")
    return dict(app["measured"]["biasFit"])


def main(argv: list[str] | None = None) -> None:
    a = twin_fit_args(__doc__, argv)
    res = fit(a.model, a.data, a.twins)
    print(json.dumps({k: v for k, v in res.items() if k != "twins"}, indent=1))


if __name__ == "__main__":
    main()

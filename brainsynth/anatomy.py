"""The anatomy sampler of MODEL_FORMAT.md §3 in numpy: the one Python reference the engine
must match (src/engine/sample.ts and src/engine/sampler/*).

Steps, as functions: `velocity` (2-3), the displacement u = exp(v) (4, `common.warp`, or a
student: any displacement hook), `icv_scale` (5), `template_points` (6: scale about the grid
centre, then trilinear displacement), `labels_from_displacement` (6-7: nearest template label)
and `region_volumes` (8). Used by the pipeline (calibration, metrics), the teacher, the
distillation evaluation and QA; `teacher/accel.py` is the torch twin of steps 6-7.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.common.blur import blur, smoothed_noise_std
from brainsynth.common.grid import OUTPUT_GRID, VELOCITY_GRID, FloatArray, Grid
from brainsynth.common.labels import LABEL_RANGES, counts_in_icv, in_range
from brainsynth.common.rng import normals_fast, stream_seed
from brainsynth.common.warp import exp_velocity, nearest_labels, trilinear


@dataclass
class AnatomyModel:
    """Arrays and tables needed to sample label maps (decoded from the model folder)."""

    template: NDArray[np.uint8]  # [nx, ny, nz] label indices
    label_values: NDArray[np.int32]  # index -> FreeSurfer value
    components: FloatArray  # [K, 3, vx, vy, vz] mm, already scaled by sigma
    basis: FloatArray  # [R, 3, vx, vy, vz] mm per unit gain
    region_names: list[str]
    region_labels: list[list[int]]
    template_icv_ml: float
    grid_centre_mm: tuple[float, float, float]
    grid: Grid = OUTPUT_GRID
    vgrid: Grid = VELOCITY_GRID
    label_names: list[str] = field(default_factory=list)  # index -> name ("" when unknown)
    label_ranges: dict[str, list[int]] = field(default_factory=lambda: dict(LABEL_RANGES))
    # step 4b (optional; software >= 0.4.3): the local field's amplitude per velocity node
    # [vx, vy, vz] (mm) and its smoothing (nodes); None: no local field
    local_mask_mm: FloatArray | None = None
    local_sigma_nodes: float = 0.0
    # "divergence-free" (software >= 0.4.4): the field's divergence projected out
    local_projection: str = "none"


LOCAL_FIELD_STREAM = 8  # step 4b's normals: stream s + 8 (MODEL_FORMAT.md §3)


def local_field(model: AnatomyModel, seed: int) -> FloatArray | None:
    """Step 4b's local displacement L [3, vx, vy, vz] (mm) of `seed`, or None for a model
    without one. Per component c (x, y, z) the normals of stream s + 8 from c * Nv (x fastest
    within each component's Nv values), blurred on the velocity grid by the Gaussian of
    `localField.sigmaNodes` (zero padding, x then y then z: the renderer's kernel), divided by
    the blurred noise's exact std (unit variance) and multiplied by the mask (mm per node).
    The small deep structures vary between people far more than the 8-component shape model
    on its 6 mm grid spans (pairwise Dice, qa.diversity); the field adds that variety there.
    With `localField.projection` "divergence-free" the result is `divergence_free` of it."""
    if model.local_mask_mm is None:
        return None
    vx, vy, vz = model.local_mask_mm.shape
    nv = vx * vy * vz
    sigma = model.local_sigma_nodes
    n = normals_fast(stream_seed(seed, LOCAL_FIELD_STREAM), 3 * nv)
    norm = np.float32(smoothed_noise_std(sigma))
    out = np.empty((3, vx, vy, vz), np.float32)
    for c in range(3):
        plane = n[c * nv : (c + 1) * nv].reshape(vz, vy, vx).T
        out[c] = (blur(np.ascontiguousarray(plane), sigma) / norm) * model.local_mask_mm
    if model.local_projection == "divergence-free":
        return divergence_free(out)
    return out


def _central_diff(a: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    """(a[i + 1] - a[i - 1]) / 2 along `axis`, zero outside the grid."""
    p = np.pad(a, [(1, 1) if ax == axis else (0, 0) for ax in range(3)])
    hi = [slice(2, None) if ax == axis else slice(None) for ax in range(3)]
    lo = [slice(None, -2) if ax == axis else slice(None) for ax in range(3)]
    return (p[tuple(hi)] - p[tuple(lo)]) / 2.0


def divergence_free(field_mm: FloatArray) -> FloatArray:
    """Step 4b's projection (MODEL_FORMAT.md section 3): L - grad(phi) with div(grad(phi)) =
    div(L), so that the field moves and bends the structures without changing their volumes
    (a field with divergence stretched or compressed the cerebellum: its volume's spread between
    samples was 35 % wider than between people). div and grad are central differences with
    zeros outside the grid; their composition is diagonal in the type-I sine transform (phi = 0
    outside the grid), eigenvalue -sum_axes sin^2(pi (k + 1) / (n + 1)), never 0. float64
    throughout, float32 at the end."""
    from scipy.fft import dstn, idstn

    f = field_mm.astype(np.float64)
    div = _central_diff(f[0], 0) + _central_diff(f[1], 1) + _central_diff(f[2], 2)
    lam = np.zeros(div.shape)
    for ax, n in enumerate(div.shape):
        shape = [1, 1, 1]
        shape[ax] = n
        lam = lam - (np.sin(np.pi * np.arange(1, n + 1) / (n + 1)) ** 2).reshape(shape)
    phi = idstn(dstn(div, type=1) / lam, type=1)
    out = np.stack([f[c] - _central_diff(phi, c) for c in range(3)])
    return out.astype(np.float32)


def with_local_field(model: AnatomyModel, u: FloatArray, seed: int | None) -> FloatArray:
    """Step 4b: u <- L + T(u, y + L) on the velocity grid (y its nodes; T trilinear, as step 4):
    the individual's local displacement L of `seed` composed before the anatomy's mapping, so it
    moves the finished individual (and what age or disease made of it) rather than the regional
    basis's sources. Unchanged without a seed (explicit latents) or a local field."""
    local = local_field(model, seed) if seed is not None else None
    if local is None:
        return u
    y = model.vgrid.world_coords()
    return (local + trilinear(u, model.vgrid, y + local)).astype(np.float32)


def velocity(model: AnatomyModel, z: NDArray[np.float64], gains: NDArray[np.float64]) -> FloatArray:
    """Steps 2-3: v = sum_k z_k sigma_k phi_k + sum_r g_r b_r on the velocity grid."""
    v = np.tensordot(z.astype(np.float32), model.components, axes=(0, 0))
    v += np.tensordot(gains.astype(np.float32), model.basis, axes=(0, 0))
    return v.astype(np.float32)


def icv_scale(manifest: dict[str, Any], sex: str, z_icv: float) -> float:
    """Step 5: k = (icvMl[sex] exp(icvLogSd z_icv) / templateIcvMl)^(1/3)."""
    cal = manifest["calibration"]
    icv = cal["icvMl"][sex] * float(np.exp(cal["icvLogSd"] * z_icv))
    return float((icv / cal["templateIcvMl"]) ** (1.0 / 3.0))


def template_points(model: AnatomyModel, u: FloatArray, scale: float, x: FloatArray) -> FloatArray:
    """Step 6: output points x [3, ...] (world mm, after any pathology deform) -> template
    points p = x' + u(x'), x' = c + (x - c) / scale about the grid centre c."""
    c = np.asarray(model.grid_centre_mm, np.float32).reshape(3, *([1] * (x.ndim - 1)))
    xp = c + (x - c) / np.float32(scale)
    return xp + trilinear(u, model.vgrid, xp)


def labels_from_displacement(
    model: AnatomyModel,
    u: FloatArray,
    scale: float = 1.0,
    x: FloatArray | None = None,
    template: NDArray[np.uint8] | None = None,
    template_grid: Grid | None = None,
) -> NDArray[np.uint8]:
    """Steps 6-7 for a given displacement u: the nearest template label index at each output
    point x (default: the model's 2 mm grid; `template`/`template_grid` e.g. the 1 mm one)."""
    pts = model.grid.world_coords() if x is None else x
    p = template_points(model, u, scale, pts)
    if template is None:
        return nearest_labels(model.template, model.grid, p)
    return nearest_labels(template, template_grid or model.grid, p)


def sample_label_indices(
    model: AnatomyModel,
    z: NDArray[np.float64],
    gains: NDArray[np.float64],
    scale: float = 1.0,
    out_pts: FloatArray | None = None,
    seed: int | None = None,
) -> NDArray[np.uint8]:
    """Steps 3-7 with the exact displacement u = exp(v) (with `seed`: its local field too)."""
    u = with_local_field(model, exp_velocity(velocity(model, z, gains), model.vgrid), seed)
    return labels_from_displacement(model, u, scale, out_pts)


def sample_folded_indices(
    model: AnatomyModel,
    manifest: dict[str, Any],
    depth_mm: NDArray[np.floating[Any]] | None,
    z: NDArray[np.float64],
    gains: NDArray[np.float64],
    seed: int,
    scale: float = 1.0,
    cond: dict[str, Any] | None = None,
    z_size: float = 0.0,
    local: bool = True,
) -> NDArray[np.int32]:
    """Steps 3-7 (exact, with the local field of `seed`: 4b), 7b, the individual folding of `seed`,
    and, given the conditions `cond`, 7c (label-level sizing of the small structures, with the
    size latent `z_size`) on the model's 2 mm grid — what QA compares with real label maps (no
    pathology, no contrast). `local=False` leaves out the local field (the mean anatomy)."""
    from brainsynth.folding import fold_template_indices, indices_of
    from brainsynth.sizing import apply_sizing, sizing_params

    u = exp_velocity(velocity(model, z, gains), model.vgrid)
    u = with_local_field(model, u, seed if local else None)
    pts = model.grid.world_coords()
    p = template_points(model, u, scale, pts)
    idx = nearest_labels(model.template, model.grid, p).astype(np.int32)
    if depth_mm is not None:
        idx = fold_template_indices(model, manifest, depth_mm, idx, pts, p, seed)
    params = sizing_params(manifest) if cond is not None else None
    if params is not None and cond is not None:
        values, _ = apply_sizing(model.label_values[idx], params, cond, z_size)
        idx = indices_of(values, model.label_values)
    return idx


def region_volumes(
    model: AnatomyModel, indices: NDArray[np.integer[Any]], grid: Grid | None = None
) -> dict[str, float]:
    """Step 8, the one rule (as src/engine/render/volumes.ts): each model region's volume (mL)
    from its label values; `icv` = every label value in labelRanges.intracranial or .pathology
    (brain, ventricles, CSF and lesions; not the extra-cerebral classes); then one entry per
    pathology label present, under its name. `indices` are label indices on `grid`."""
    g = grid or model.grid
    ml = g.voxel_volume_ml
    counts = np.bincount(indices.ravel(), minlength=len(model.label_values)).astype(np.float64)
    by_value: dict[int, float] = {}
    for idx, val in enumerate(model.label_values):
        by_value[int(val)] = by_value.get(int(val), 0.0) + counts[idx] * ml
    out = {
        name: sum(by_value.get(lab, 0.0) for lab in labs)
        for name, labs in zip(model.region_names, model.region_labels, strict=True)
    }
    ranges = model.label_ranges
    out["icv"] = sum(v for k, v in by_value.items() if counts_in_icv(k, ranges))
    for idx, val in enumerate(model.label_values):
        if in_range(int(val), ranges["pathology"]) and counts[idx] > 0:
            names = model.label_names
            out[names[idx] if idx < len(names) and names[idx] else f"label-{val}"] = float(
                counts[idx] * ml
            )
    return out

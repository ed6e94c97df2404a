"""Load label maps, align them affinely to the MNI152 brain, resample onto the model grids."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage, optimize

from brainsynth.common.grid import FloatArray, Grid

# 2x2x2 sub-sample offsets (mm) inside a 2 mm voxel: label fractions for partial volume.
SUBSAMPLE_OFFSETS = np.array(
    [[dx, dy, dz] for dx in (-0.5, 0.5) for dy in (-0.5, 0.5) for dz in (-0.5, 0.5)],
    dtype=np.float32,
)


@dataclass
class Subject:
    name: str
    labels: NDArray[np.int16]  # [x, y, z] label values, canonical RAS
    affine: NDArray[np.float64]  # voxel -> world of `labels`
    # template world -> subject world: y = A @ x + t
    A: NDArray[np.float64]
    t: NDArray[np.float64]


def load_label_map(path: Path) -> tuple[NDArray[np.int16], NDArray[np.float64]]:
    img = nib.as_closest_canonical(nib.load(str(path)))
    data = np.rint(np.asarray(img.dataobj)).astype(np.int16)
    return data, np.asarray(img.affine, dtype=np.float64)


def mask_points_world(mask: NDArray[np.bool_], affine: NDArray[np.float64]) -> FloatArray:
    idx = np.argwhere(mask).astype(np.float64)
    return (idx @ affine[:3, :3].T + affine[:3, 3]).astype(np.float32)


def _sqrtm_sym(m: NDArray[np.float64], inverse: bool = False) -> NDArray[np.float64]:
    w, v = np.linalg.eigh(m)
    p = -0.5 if inverse else 0.5
    return (v * w**p) @ v.T


def moments_init(
    fixed_pts: FloatArray, moving_pts: FloatArray
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Affine (template -> subject) matching centroid and covariance of two point clouds."""
    cf, cm = fixed_pts.mean(0), moving_pts.mean(0)
    sf, sm = np.cov(fixed_pts.T), np.cov(moving_pts.T)
    a = _sqrtm_sym(sm) @ _sqrtm_sym(sf, inverse=True)
    return a, cm - a @ cf


def sample_nearest(
    vol: NDArray[np.generic], affine: NDArray[np.float64], pts: FloatArray, fill: int = 0
) -> NDArray[np.generic]:
    """Nearest-neighbour lookup of `vol` at world points [3, ...]."""
    inv = np.linalg.inv(affine)
    flat = pts.reshape(3, -1).astype(np.float64)
    q = np.rint(inv[:3, :3] @ flat + inv[:3, 3:4]).astype(np.int64)
    inside = np.all((q >= 0) & (q < np.array(vol.shape)[:, None]), axis=0)
    q = np.clip(q, 0, np.array(vol.shape)[:, None] - 1)
    out = vol[q[0], q[1], q[2]]
    out = np.where(inside, out, fill)
    return out.reshape(pts.shape[1:])


def refine_affine(
    fixed: FloatArray,
    fixed_grid: Grid,
    moving: FloatArray,
    moving_affine: NDArray[np.float64],
    a0: NDArray[np.float64],
    t0: NDArray[np.float64],
    maxfev: int = 600,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Powell search over 12 affine parameters minimising SSD of smoothed brain masks."""
    x = fixed_grid.world_coords().reshape(3, -1).astype(np.float64)
    inv = np.linalg.inv(moving_affine)
    f = fixed.ravel()

    def cost(p: NDArray[np.float64]) -> float:
        a = a0 @ (np.eye(3) + p[:9].reshape(3, 3))
        y = a @ x + (t0 + p[9:])[:, None]
        q = inv[:3, :3] @ y + inv[:3, 3:4]
        m = ndimage.map_coordinates(moving, q, order=1, mode="constant", cval=0.0, prefilter=False)
        return float(np.mean((m - f) ** 2))

    p0 = np.zeros(12)
    res = optimize.minimize(cost, p0, method="Powell", options={"maxfev": maxfev, "xtol": 1e-3})
    p = res.x
    return a0 @ (np.eye(3) + p[:9].reshape(3, 3)), t0 + p[9:]


def align_masks(
    fixed_mask: NDArray[np.bool_],
    grid: Grid,
    moving_mask: NDArray[np.bool_],
    moving_affine: NDArray[np.float64],
    maxfev: int = 400,
    step: int = 2,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Affine `grid` world -> moving world from two brain masks: moments, then the Powell
    search of `refine_affine` on every `step`-th fixed voxel, both masks smoothed to that
    sampling (Gaussian sigma step/2 fixed voxels, 0.75 step moving voxels) — a quick alignment
    for QA and measurements; the training subjects use `align_subject`."""
    a0, t0 = moments_init(
        mask_points_world(fixed_mask, grid.affine), mask_points_world(moving_mask, moving_affine)
    )
    smooth = ndimage.gaussian_filter(fixed_mask.astype(np.float32), step / 2)
    fixed = smooth[::step, ::step, ::step]
    coarse = Grid(
        shape=tuple(int(n) for n in fixed.shape),  # type: ignore[arg-type]
        spacing=tuple(step * s for s in grid.spacing),  # type: ignore[arg-type]
        origin=grid.origin,
    )
    moving = ndimage.gaussian_filter(moving_mask.astype(np.float32), 0.75 * step)
    return refine_affine(fixed, coarse, moving, moving_affine, a0, t0, maxfev=maxfev)


def align_subject(
    name: str,
    labels: NDArray[np.int16],
    affine: NDArray[np.float64],
    ref_mask: FloatArray,
    ref_grid: Grid,
    brain_values: list[int],
) -> Subject:
    mask = np.isin(labels, brain_values)
    pts = mask_points_world(mask[::2, ::2, ::2], affine @ np.diag([2, 2, 2, 1.0]))
    ref_pts = mask_points_world(ref_mask > 0.5, ref_grid.affine)
    a0, t0 = moments_init(ref_pts, pts)
    smooth = ndimage.gaussian_filter(mask.astype(np.float32), 2.0)
    a, t = refine_affine(ndimage.gaussian_filter(ref_mask, 1.0), ref_grid, smooth, affine, a0, t0)
    return Subject(name, labels, affine, a, t)


def subject_points(subject: Subject, template_pts: FloatArray) -> FloatArray:
    """Template world points [3, ...] -> subject world points."""
    flat = template_pts.reshape(3, -1).astype(np.float64)
    y = subject.A @ flat + subject.t[:, None]
    return y.reshape(template_pts.shape).astype(np.float32)


def channel_fractions(
    subject: Subject, grid: Grid, channels: list[list[int]], disp: FloatArray | None = None
) -> FloatArray:
    """Fraction of each channel in every voxel of `grid` (2x2x2 sub-samples per voxel scaled
    to the grid spacing), after an optional template-space displacement [3, ...]."""
    x = grid.world_coords()
    if disp is not None:
        x = x + disp
    out = np.zeros((len(channels),) + grid.shape, dtype=np.float32)
    lut = np.zeros(int(subject.labels.max()) + 1, dtype=np.int16) - 1
    for c, vals in enumerate(channels):
        for v in vals:
            if v < lut.size:
                lut[v] = c
    scale = np.asarray(grid.spacing, np.float32) / 2.0
    for off in SUBSAMPLE_OFFSETS:
        pts = x + (off * scale).reshape(3, 1, 1, 1)
        lab = sample_nearest(subject.labels, subject.affine, subject_points(subject, pts))
        ch = lut[np.clip(lab, 0, lut.size - 1)]
        for c in range(len(channels)):
            out[c] += ch == c
    return (out / len(SUBSAMPLE_OFFSETS)).astype(np.float32)

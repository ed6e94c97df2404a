"""The anatomy sampler of MODEL_FORMAT.md §3 in numpy: the reference the engine must match.

Used by the pipeline (calibration, metrics) and by the full-size teacher.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from brainsynth.common.grid import OUTPUT_GRID, VELOCITY_GRID, FloatArray, Grid
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


def velocity(model: AnatomyModel, z: NDArray[np.float64], gains: NDArray[np.float64]) -> FloatArray:
    v = np.tensordot(z.astype(np.float32), model.components, axes=(0, 0))
    v += np.tensordot(gains.astype(np.float32), model.basis, axes=(0, 0))
    return v.astype(np.float32)


def sample_label_indices(
    model: AnatomyModel,
    z: NDArray[np.float64],
    gains: NDArray[np.float64],
    scale: float = 1.0,
    out_pts: FloatArray | None = None,
) -> NDArray[np.uint8]:
    """Steps 3-7: velocity -> exp -> global scale -> nearest-neighbour template lookup."""
    u = exp_velocity(velocity(model, z, gains), model.vgrid)
    x = model.grid.world_coords() if out_pts is None else out_pts
    c = np.asarray(model.grid_centre_mm, np.float32).reshape(3, 1, 1, 1)
    xp = c + (x - c) / np.float32(scale)
    p = xp + trilinear(u, model.vgrid, xp)
    return nearest_labels(model.template, model.grid, p)


def region_volumes_ml(
    model: AnatomyModel, indices: NDArray[np.uint8], grid: Grid | None = None
) -> dict[str, float]:
    """Step 8: volumes of the model's regions and ICV (labels 1..499)."""
    g = grid or model.grid
    counts = np.bincount(indices.ravel(), minlength=len(model.label_values)).astype(np.float64)
    by_value: dict[int, float] = {}
    for idx, val in enumerate(model.label_values):
        by_value[int(val)] = by_value.get(int(val), 0.0) + counts[idx] * g.voxel_volume_ml
    out = {
        name: sum(by_value.get(lab, 0.0) for lab in labs)
        for name, labs in zip(model.region_names, model.region_labels, strict=True)
    }
    out["icv"] = sum(v for k, v in by_value.items() if 1 <= k <= 499)
    return out

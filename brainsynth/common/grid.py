"""Axis-aligned voxel grids in RAS+ world millimetres (MODEL_FORMAT.md §2).

Internally arrays are indexed [x, y, z] (nibabel's order); files store them x-fastest
(NIfTI order), see `to_file_order`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]


@dataclass(frozen=True)
class Grid:
    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]

    @property
    def affine(self) -> NDArray[np.float64]:
        a = np.eye(4)
        a[:3, :3] = np.diag(self.spacing)
        a[:3, 3] = self.origin
        return a

    @property
    def voxel_volume_ml(self) -> float:
        return float(np.prod(self.spacing)) / 1000.0

    def world_coords(self) -> FloatArray:
        """World position of every voxel centre, shape [3, nx, ny, nz]."""
        axes = [
            (np.arange(n, dtype=np.float32) * s + o)
            for n, s, o in zip(self.shape, self.spacing, self.origin, strict=True)
        ]
        return np.stack(np.meshgrid(*axes, indexing="ij"), axis=0).astype(np.float32)

    def to_voxel(self, pts: FloatArray) -> FloatArray:
        """World mm [3, ...] -> continuous voxel coordinates [3, ...]."""
        o = np.asarray(self.origin, np.float32).reshape((3,) + (1,) * (pts.ndim - 1))
        s = np.asarray(self.spacing, np.float32).reshape((3,) + (1,) * (pts.ndim - 1))
        return ((pts - o) / s).astype(np.float32)

    def as_json(self) -> dict[str, object]:
        return {
            "shape": list(self.shape),
            "spacing": list(self.spacing),
            "origin": list(self.origin),
            "affine": self.affine.tolist(),
        }


# The model's output grid: 2 mm, whole head, MNI-like RAS+ coordinates.
OUTPUT_GRID = Grid((96, 120, 104), (2.0, 2.0, 2.0), (-95.0, -131.0, -105.0))
# The teacher's full-size grid: 1 mm, voxel centres offset so that each 2 mm voxel is the
# mean of a 2x2x2 block of 1 mm voxels.
OUTPUT_GRID_1MM = Grid((192, 240, 208), (1.0, 1.0, 1.0), (-95.5, -131.5, -105.5))
# Coarse grid of the velocity fields (shape model and regional basis).
VELOCITY_GRID = Grid((33, 41, 36), (6.0, 6.0, 6.0), (-95.0, -131.0, -105.0))


def to_file_order(vol: NDArray[np.generic]) -> bytes:
    """[x, y, z] volume -> bytes with x fastest (NIfTI order)."""
    return np.ascontiguousarray(vol.T).tobytes()


def field_to_file_order(field: NDArray[np.generic]) -> NDArray[np.generic]:
    """[3, x, y, z] vector field -> C array [z, y, x, 3]."""
    return np.ascontiguousarray(np.transpose(field, (3, 2, 1, 0)))


def field_from_file_order(arr: NDArray[np.generic]) -> NDArray[np.generic]:
    """C array [z, y, x, 3] -> [3, x, y, z]."""
    return np.ascontiguousarray(np.transpose(arr, (3, 2, 1, 0)))

"""Tiny synthetic label maps for tests (no real data needed): a nested-ellipsoid 'head'."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def ellipsoid_head(
    shape: tuple[int, int, int] = (64, 72, 64), scale: float = 1.0, ventricle: float = 1.0
) -> NDArray[np.int16]:
    """Labels: scalp 507, skull 515, CSF 24, cortex 3/42, WM 2/41, ventricles 4/43,
    hippocampus 17/53 — on a 1 mm grid centred in the volume."""
    idx = np.indices(shape).astype(np.float32)
    c = np.array(shape, np.float32).reshape(3, 1, 1, 1) / 2
    d = (idx - c) / scale
    r = np.sqrt((d[0] / 26) ** 2 + (d[1] / 32) ** 2 + (d[2] / 27) ** 2)
    left = d[0] < 0
    out = np.zeros(shape, np.int16)
    out[r < 1.15] = 507
    out[r < 1.05] = 515
    out[r < 0.97] = 24
    out[r < 0.92] = np.where(left, 3, 42)[r < 0.92]
    out[r < 0.80] = np.where(left, 2, 41)[r < 0.80]
    rv = np.sqrt(
        ((np.abs(d[0]) - 5) / (3 * ventricle)) ** 2
        + (d[1] / 12) ** 2
        + ((d[2] - 3) / (4 * ventricle)) ** 2
    )
    out[rv < 1] = np.where(left, 4, 43)[rv < 1]
    rh = np.sqrt(((np.abs(d[0]) - 14) / 3) ** 2 + ((d[1] + 4) / 7) ** 2 + ((d[2] + 10) / 3) ** 2)
    out[rh < 1] = np.where(left, 17, 53)[rh < 1]
    return out


def ras_affine(shape: tuple[int, int, int], spacing: float = 1.0) -> NDArray[np.float64]:
    a = np.diag([spacing, spacing, spacing, 1.0])
    a[:3, 3] = -np.array(shape) * spacing / 2
    return a

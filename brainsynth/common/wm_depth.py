"""White matter by depth below the brain's hull: how the bias field's systematic (central) part
shows in the white matter, read by the realism benchmark and reported by the pipeline's fit
(`pipeline.bias_fit`, which fits the field itself by another estimator).

Real 2 mm T1s of this data (IXI, all from one 3 T scanner) are brighter in the middle of the
brain than near its surface, in every tissue alike: eroded WM 0.84 x its deep median 4-8 mm
below the hull, 1.07 x at >= 28 mm; cortex 0.68 -> 0.85 over the same depths. That is the
field's shape at 3 T (B1 inhomogeneity: the "central brightening"), not anatomy. The hull is the
brain mask closed by two voxels with holes filled, so sulci count as inside; depth is the
Euclidean distance to outside it (mm).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from brainsynth.common.tissue import WM, brain_mask

BAND_EDGES_MM = (4.0, 8.0, 12.0, 16.0, 20.0, 28.0)
# band centres for the log-linear slope (the first band, < 4 mm, has almost no eroded WM; the
# last, >= 28 mm, is read at 32 mm)
BAND_CENTRES_MM = (6.0, 10.0, 14.0, 18.0, 24.0, 32.0)
MIN_VOXELS = 30


def hull_depth_mm(
    classes: NDArray[np.int8], spacing: tuple[float, float, float]
) -> NDArray[np.float64]:
    """Distance (mm) of every voxel below the brain's hull; 0 outside it."""
    hull = ndimage.binary_fill_holes(ndimage.binary_closing(brain_mask(classes), iterations=2))
    return np.asarray(ndimage.distance_transform_edt(hull, sampling=spacing), np.float64)


def wm_depth_bands(
    image: NDArray[np.floating],
    classes: NDArray[np.int8],
    spacing: tuple[float, float, float],
) -> NDArray[np.float64]:
    """Median of the eroded WM in each depth band from 4 mm on (`BAND_CENTRES_MM`), over the
    eroded WM's overall median; NaN where a band has fewer than MIN_VOXELS voxels."""
    img = np.asarray(image, np.float64)
    wm_e = ndimage.binary_erosion(classes == WM)
    if not wm_e.any():
        raise ValueError("no eroded white matter: the label map does not cover the brain")
    ref = float(np.median(img[wm_e]))
    band = np.digitize(hull_depth_mm(classes, spacing), BAND_EDGES_MM)
    out = np.full(len(BAND_CENTRES_MM), np.nan)
    for b in range(1, len(BAND_EDGES_MM) + 1):
        m = wm_e & (band == b)
        if int(m.sum()) >= MIN_VOXELS:
            out[b - 1] = float(np.median(img[m])) / ref
    return out


def depth_slope(bands: NDArray[np.float64]) -> float:
    """Least-squares slope of log(band median) on the band centre (per mm) over finite bands."""
    ok = np.isfinite(bands) & (bands > 0)
    if int(ok.sum()) < 2:
        raise ValueError("fewer than two depth bands hold white matter")
    x = np.asarray(BAND_CENTRES_MM)[ok]
    return float(np.polyfit(x, np.log(bands[ok]), 1)[0])

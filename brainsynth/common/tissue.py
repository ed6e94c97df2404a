"""Tissue classes shared by the real (DLMUSE) and the synthetic (FreeSurfer) label maps.

Both label conventions are mapped *explicitly* to the same classes, so every statistic is
measured through the same masks:

- cortex: cerebral cortical grey matter (DLMUSE cortical ROIs 100-207; FreeSurfer 3, 42);
- wm: cerebral white matter (DLMUSE lobar WM 81-88, fornix 89-90, internal capsule 91-94,
  corpus callosum 95; FreeSurfer 2, 41), eroded by one voxel where the statistic says so;
- ventricles: lateral, inferior-lateral, 3rd and 4th ventricles (DLMUSE 4, 11, 49-52;
  FreeSurfer 4, 5, 14, 15, 43, 44) - the CSF class of the CSF/WM ratio;
- deep GM: thalamus, caudate, putamen, pallidum, accumbens (DLMUSE 23, 30, 36, 37, 55-60;
  FreeSurfer 10-13, 26, 49-52, 58);
- other brain: hippocampus, amygdala, cerebellum, brainstem, ventral DC, basal forebrain, ...
  (every other brain label);
- sulcal CSF: DLMUSE label 1 (not in the MUSE ROI list; dark on T1, around the cortex - read
  as extra-cerebral/sulcal CSF) and FreeSurfer 24. Outside the brain mask in both.

The brain mask is cortex + wm + ventricles + deep GM + other brain.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

OUTSIDE, CORTEX, WM, VENTRICLES, DEEP_GM, OTHER_BRAIN, SULCAL_CSF = range(7)
CLASS_NAMES = ("outside", "cortex", "wm", "ventricles", "deep-gm", "other-brain", "sulcal-csf")
BRAIN_CLASSES = (CORTEX, WM, VENTRICLES, DEEP_GM, OTHER_BRAIN)

DLMUSE: dict[int, tuple[int, ...]] = {
    CORTEX: tuple(range(100, 208)),
    WM: tuple(range(81, 96)),
    VENTRICLES: (4, 11, 49, 50, 51, 52),
    DEEP_GM: (23, 30, 36, 37, 55, 56, 57, 58, 59, 60),
    SULCAL_CSF: (1,),
}
FREESURFER: dict[int, tuple[int, ...]] = {
    CORTEX: (3, 42),
    WM: (2, 41),
    VENTRICLES: (4, 5, 14, 15, 43, 44),
    DEEP_GM: (10, 11, 12, 13, 26, 49, 50, 51, 52, 58),
    SULCAL_CSF: (24,),
}
# FreeSurfer values that are brain but none of the above: hippocampus, amygdala, cerebellum,
# brainstem, ventral DC, vessels, optic chiasm and the small unnamed labels (< 500), plus the
# model's pathology labels (700-799). 500-699 are extra-cerebral (outside).


def _lookup(
    table: dict[int, tuple[int, ...]], default_brain: NDArray[np.bool_]
) -> NDArray[np.int8]:
    lut = np.where(default_brain, OTHER_BRAIN, OUTSIDE).astype(np.int8)
    for cls, values in table.items():
        lut[list(values)] = cls
    return lut


_MUSE_LUT = _lookup(DLMUSE, np.arange(1024) > 0)
_FS_VALUES = np.arange(1024)
_FS_LUT = _lookup(
    FREESURFER, ((_FS_VALUES > 0) & (_FS_VALUES < 500)) | ((_FS_VALUES >= 700) & (_FS_VALUES < 800))
)


def _apply(lut: NDArray[np.int8], labels: NDArray[np.integer]) -> NDArray[np.int8]:
    lab = np.asarray(labels).astype(np.int64)
    if lab.size and (lab.min() < 0 or lab.max() >= lut.size):
        raise ValueError(
            f"label values must lie in [0, {lut.size - 1}] (got {lab.min()}..{lab.max()})"
        )
    return lut[lab]


def classes_from_dlmuse(labels: NDArray[np.integer]) -> NDArray[np.int8]:
    return _apply(_MUSE_LUT, labels)


def classes_from_freesurfer(labels: NDArray[np.integer]) -> NDArray[np.int8]:
    return _apply(_FS_LUT, labels)


def brain_mask(classes: NDArray[np.int8]) -> NDArray[np.bool_]:
    return np.isin(classes, BRAIN_CLASSES)


def eroded(mask: NDArray[np.bool_], iterations: int = 1) -> NDArray[np.bool_]:
    """Erosion by `iterations` voxels (6-connected); falls back to the mask if it would vanish."""
    out = ndimage.binary_erosion(mask, iterations=iterations)
    return out if out.any() else mask

"""The affine reference space: the ICBM152 2009a GM+WM brain mask on the registration grid
(used by the build to align subjects, and by QA to align them the same way)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from brainsynth.common.nifti import load_nifti
from brainsynth.pipeline.lesions import resample_to_grid
from brainsynth.pipeline.template import REG_GRID


def mni_brain_mask(data: Path) -> np.ndarray:
    base = data / "nilearn-MNI152-2009a"
    tot: np.ndarray = np.zeros(REG_GRID.shape, np.float32)
    for k in ("gm", "wm"):
        tot += resample_to_grid(
            load_nifti(base / f"mni_icbm152_{k}_tal_nlin_sym_09a_converted.nii.gz"), REG_GRID
        )
    return (tot / tot.max()).astype(np.float32)

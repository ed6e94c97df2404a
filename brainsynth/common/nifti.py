"""NIfTI reading through nibabel, typed for the rest of the package."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import nibabel as nib


def load_nifti(path: Path | str) -> nib.Nifti1Image:
    """Load a NIfTI-1/2 file; nibabel's `load` is typed as returning any image class."""
    return cast(nib.Nifti1Image, nib.load(str(path)))

"""Aggregate lesion statistics from the real lesion masks (never the masks themselves):
MS lesion probability map and lesion-size distribution; arterial territory map for stroke."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from brainsynth.common.grid import OUTPUT_GRID, Grid
from brainsynth.common.nifti import load_nifti


def resample_to_grid(img: nib.Nifti1Image, grid: Grid, order: int = 1) -> NDArray[np.float32]:
    inv = np.linalg.inv(img.affine)
    x = grid.world_coords().reshape(3, -1).astype(np.float64)
    q = inv[:3, :3] @ x + inv[:3, 3:4]
    data = np.asarray(img.get_fdata(), np.float32)
    out = ndimage.map_coordinates(data, q, order=order, mode="constant", cval=0.0, prefilter=False)
    return out.reshape(grid.shape).astype(np.float32)


def ms_statistics(data: Path) -> tuple[NDArray[np.float32], dict[str, float]]:
    files = sorted(
        (data / "muschellij2-open_ms_data/cross_sectional/MNI").glob(
            "patient*/GOLD_STANDARD*MNI.nii.gz"
        )
    )
    acc = np.zeros(OUTPUT_GRID.shape, np.float32)
    sizes: list[float] = []
    for f in files:
        img = load_nifti(f)
        acc += resample_to_grid(img, OUTPUT_GRID) > 0.5
        mask = np.asarray(img.dataobj) > 0.5
        lab, n = ndimage.label(mask)
        vox_ml = float(abs(np.linalg.det(img.affine[:3, :3]))) / 1000.0
        # lesions below 0.05 mL are invisible at the model's 2 mm resolution
        sizes += [v for v in (float(c) * vox_ml for c in np.bincount(lab.ravel())[1:]) if v >= 0.05]
    prior = ndimage.gaussian_filter(acc / max(len(files), 1), 1.0)
    prior /= max(float(prior.max()), 1e-6)
    logs = np.log(np.asarray(sizes))
    stats = {
        "patients": float(len(files)),
        "lesions": float(len(sizes)),
        "lesionVolumeLogMeanMl": float(logs.mean()),
        "lesionVolumeLogSdMl": float(logs.std()),
        "medianLesionVolumeMl": float(np.median(sizes)),
    }
    return prior.astype(np.float32), stats


def territory_atlas(data: Path) -> tuple[nib.Nifti1Image, NDArray[np.uint8]]:
    """The arterial atlas image (MNI) and its region -> territory code table: codes 1..6 =
    ACA/MCA/PCA left/right from the atlas's territory column, 0 for the rest."""
    base = data / "neurolabusc-StrokeOutcomeOptimizationProjectDemo/NIfTI"
    img = load_nifti(base / "ArterialAtlas136.nii.gz")
    lut = np.zeros(256, np.uint8)
    for line in (base / "ArterialAtlas136.txt").read_text().splitlines():
        parts = line.split("|")
        if len(parts) == 4 and parts[0].strip().isdigit():
            code = int(parts[3])
            lut[int(parts[0])] = code if code <= 6 else 0
    return img, lut


def territories(data: Path) -> NDArray[np.uint8]:
    """Codes 1..6 = ACA/MCA/PCA left/right on the output grid (`territory_atlas`)."""
    img, lut = territory_atlas(data)
    atlas = resample_to_grid(img, OUTPUT_GRID, order=0).astype(np.int64)
    return lut[np.clip(atlas, 0, 255)]

"""The real IXI T1 set and its synthetic twins, as `Scan`s measured by the same code.

Real: the 42 IXI T1s (2 mm, native space, uint8 with a scale factor) and their DLMUSE label
maps, listed in `ixi-t1-2mm-index.csv`. Synthetic: for each real scan, the teacher's T1w for the
same age (rounded to the year, as the app's slider) and sex, healthy, with a seed drawn from
`base_seed` - at 2 mm (what the browser shows) or at 1 mm block-averaged 2x2x2 onto the 2 mm
grid (what the backend ships, seen at the real scans' resolution).

Quantisation like the real files: the real files store round(value / slope) as uint8, with
white matter at some level L (L = the scan's eroded-WM median of the stored integers, ~80-120).
A synthetic volume is scaled so that its eroded-WM median lands on the *paired real scan's* L,
rounded and clipped to 0..255 (uint8), so both sets carry the same quantisation step relative
to white matter. Every statistic then divides by the eroded-WM median.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import nibabel as nib
import numpy as np
from numpy.typing import NDArray

from brainsynth.common.nifti import load_nifti
from brainsynth.common.tissue import (
    WM,
    classes_from_dlmuse,
    classes_from_freesurfer,
    eroded,
)
from brainsynth.paths import DEFAULT_MODEL_DIR

INDEX = "ixi-t1-2mm-index.csv"
MODEL_DIR = DEFAULT_MODEL_DIR


class DataError(ValueError):
    """The data folder or the model folder is missing or malformed: the message says what."""


@dataclass
class Scan:
    name: str
    kind: str  # "real" | "synthetic-2mm" | "synthetic-1mm"
    age: float
    sex: str  # "female" | "male"
    stored: NDArray[np.uint8]  # the quantised volume, [x, y, z]
    classes: NDArray[np.int8]  # tissue classes (tissue.py), same grid
    affine: NDArray[np.float64]  # voxel -> world mm
    seed: int | None = None

    @property
    def spacing(self) -> tuple[float, float, float]:
        z = np.sqrt((self.affine[:3, :3] ** 2).sum(axis=0))
        return (float(z[0]), float(z[1]), float(z[2]))

    @property
    def wm_level(self) -> float:
        """Median stored value in eroded white matter (the normalisation reference)."""
        return float(np.median(self.stored[eroded(self.classes == WM)]))

    def normalised(self) -> NDArray[np.float32]:
        return (self.stored.astype(np.float32) / np.float32(self.wm_level)).astype(np.float32)


@dataclass(frozen=True)
class RealEntry:
    name: str
    age: float
    sex: str
    t1: Path
    seg: Path


def read_index(data: Path) -> list[RealEntry]:
    index = data / INDEX
    if not index.is_file():
        raise DataError(
            f"{index} not found: --data must be the shared data folder (../shared/data)"
        )
    out = []
    with index.open() as f:
        for row in csv.DictReader(f):
            sex = {"F": "female", "M": "male"}.get(row["sex"])
            if sex is None:
                raise DataError(f"{index}: sex must be F or M (got {row['sex']!r})")
            out.append(
                RealEntry(
                    row["MRID"],
                    float(row["age"]),
                    sex,
                    data / row["t1_path"],
                    data / row["dlmuse_seg_path"],
                )
            )
    if not out:
        raise DataError(f"{index} lists no scans")
    return out


def load_real(entry: RealEntry) -> Scan:
    for p in (entry.t1, entry.seg):
        if not p.is_file():
            raise DataError(f"{p} not found (listed in {INDEX})")
    img = load_nifti(entry.t1)
    seg = load_nifti(entry.seg)
    if img.shape != seg.shape or not np.allclose(img.affine, seg.affine, atol=1e-3):
        raise DataError(f"{entry.name}: T1 and DLMUSE label map are on different grids")
    stored = np.asarray(img.dataobj.get_unscaled())  # type: ignore[attr-defined]
    if stored.dtype != np.uint8:
        raise DataError(f"{entry.t1}: expected uint8 storage (got {stored.dtype})")
    labels = np.asarray(seg.dataobj).astype(np.int32)
    return Scan(
        entry.name, "real", entry.age, entry.sex, stored, classes_from_dlmuse(labels), img.affine
    )


def quantise(
    image: NDArray[np.floating], classes: NDArray[np.int8], wm_level: float
) -> NDArray[np.uint8]:
    """Scale so the eroded-WM median is `wm_level`, round, clip to uint8 (module docstring)."""
    ref = float(np.median(image[eroded(classes == WM)]))
    if not np.isfinite(ref) or ref <= 0:
        raise ValueError(f"white-matter median must be positive (got {ref})")
    return np.clip(np.rint(image * (wm_level / ref)), 0, 255).astype(np.uint8)


def _block_mean(a: NDArray[np.floating]) -> NDArray[np.float32]:
    nx, ny, nz = (s // 2 for s in a.shape)
    b = a[: 2 * nx, : 2 * ny, : 2 * nz].reshape(nx, 2, ny, 2, nz, 2)
    return b.mean(axis=(1, 3, 5), dtype=np.float64).astype(np.float32)


def _block_mode(classes: NDArray[np.int8], n_classes: int = 7) -> NDArray[np.int8]:
    nx, ny, nz = (s // 2 for s in classes.shape)
    b = classes[: 2 * nx, : 2 * ny, : 2 * nz].reshape(nx, 2, ny, 2, nz, 2)
    counts = np.stack([(b == c).sum(axis=(1, 3, 5)) for c in range(n_classes)])
    return counts.argmax(axis=0).astype(np.int8)


def to_2mm(
    img: NDArray[np.floating], classes: NDArray[np.int8], affine: NDArray[np.float64]
) -> tuple[NDArray[np.float32], NDArray[np.int8], NDArray[np.float64]]:
    """A 1 mm teacher volume on the 2 mm grid: 1 mm voxel pairs (2i, 2i+1) tile the 2 mm voxel
    i exactly (grids share the frame); image block mean, classes block mode."""
    affine = np.asarray(affine, np.float64).copy()
    affine[:3, 3] += affine[:3, :3] @ np.full(3, 0.5)
    affine[:3, :3] *= 2.0
    return _block_mean(img), _block_mode(classes), affine


def synthetic_twin(
    real: Scan,
    seed: int,
    resolution_mm: float = 2.0,
    model_dir: Path = MODEL_DIR,
    device: str = "numpy",
) -> Scan:
    """The teacher's healthy T1w for `real`'s age and sex, quantised like `real`."""
    from brainsynth.teacher.generate import generate

    if not (model_dir / "manifest.json").is_file():
        raise DataError(f"model folder {model_dir} has no manifest.json")
    cond = {"age": float(round(real.age)), "sex": real.sex, "pathology": "none", "contrast": "T1w"}
    vol = generate(
        model_dir, cond, seed, resolution_mm=resolution_mm, contrasts=("T1w",), device=device
    )
    img = vol.images["T1w"]
    classes = classes_from_freesurfer(vol.labels)
    affine = np.asarray(vol.affine, np.float64)
    kind = "synthetic-2mm"
    if resolution_mm == 1.0:
        img, classes, affine = to_2mm(img, classes, affine)
        kind = "synthetic-1mm"
    stored = quantise(img, classes, real.wm_level)
    return Scan(f"{real.name}~{kind}", kind, real.age, real.sex, stored, classes, affine, seed)


def canonical(volume: NDArray[np.generic], affine: NDArray[np.float64]) -> NDArray[np.generic]:
    """The volume in RAS+ axis order (for display only)."""
    ornt = nib.orientations.io_orientation(affine)
    return np.asarray(nib.orientations.apply_orientation(volume, ornt))

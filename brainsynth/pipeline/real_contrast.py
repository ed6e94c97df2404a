"""Healthy-tissue and lesion contrast of the real T2/FLAIR images in the data folder.

Ratios of medians: GM/WM, CSF/WM, lesion/WM, lesion/GM. None of these images has a tissue label
map, so tissue masks come from a simple, documented segmentation:

- MS (3 patients, MNI space, brain-extracted T1 + FLAIR, consensus lesion masks) and glioma
  (2 TCGA-LGG cases, brain-extracted T1/T2/FLAIR, BraTS-style automated labels 1 = necrotic /
  non-enhancing core, 2 = oedema, 4 = enhancing): 3-class k-means of the co-registered *T1*
  inside the brain, lesion (dilated 2 voxels) excluded; clusters by T1 centre CSF < GM < WM.
- Stroke T2 (full head, lesion mask): head = T2 > 5 % of its 99th centile, eroded 10 voxels
  (1 mm) to drop scalp and skull, largest component; 3-class k-means of T2 there, lesion
  excluded; clusters by T2 centre WM < GM < CSF.
- Older-adult FLAIR template (MNI 2 mm): tissue = the older-adult GM/WM/CSF priors on the same
  grid, each voxel to its most probable class where that probability is > 0.5.

Used by `pipeline.render_fit` (T2w/FLAIR calibration) and by the realism benchmark
(`qa.realism.contrast`), so both read the real images the same way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from sklearn.cluster import KMeans

from brainsynth.common.nifti import load_nifti
from brainsynth.common.tissue import (
    CORTEX,
    SULCAL_CSF,
    VENTRICLES,
    WM,
    classes_from_freesurfer,
    eroded,
)


class RealDataError(ValueError):
    """A real image is missing or malformed: the message says which."""


MS_DIR = "muschellij2-open_ms_data/cross_sectional/MNI"
MS_PATIENTS = ("patient07", "patient19", "patient26")
MS_T1 = "T1_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz"
MS_FLAIR = "FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz"
MS_LESION = "GOLD_STANDARD_N4_noneck_reduced_winsor_regtoFLAIR_regtoMNI.nii.gz"
GLIOMA_DIR = "BrainLesion-tutorials/BraTS-Toolkit/data"
GLIOMA_CASES = ("TCGA-DU-7294", "OtherEXampleFromTCIA")
GLIOMA_LABELS = {"necrotic-core": 1, "oedema": 2, "enhancing": 4}
STROKE_T2 = "neurolabusc-Clinical/Tutorial/tutorial/T2.nii.gz"
STROKE_LESION = "neurolabusc-Clinical/Tutorial/tutorial/lesionT2.nii.gz"
FLAIR_TEMPLATE = "neurolabusc-Clinical/gg-flair-181-asym-8mmFWHM.nii.gz"
PRIORS = {
    "gm": "neurolabusc-Clinical/scgrey.nii.gz",
    "wm": "neurolabusc-Clinical/scwhite.nii.gz",
    "csf": "neurolabusc-Clinical/sccsf.nii.gz",
}


@dataclass
class Masks:
    gm: NDArray[np.bool_]
    wm: NDArray[np.bool_]
    csf: NDArray[np.bool_]
    lesions: dict[str, NDArray[np.bool_]]


# The synthetic stand-ins of the real cases (the realism benchmark and `pipeline.lesion_fit`):
# which model labels each real lesion name stands for, and one case per pathology.
SYNTHETIC_LESIONS: dict[str, dict[str, tuple[int, ...]]] = {
    "ms": {"ms-lesion": (701, 702)},
    "glioma": {"necrotic-core": (711,), "enhancing": (712,), "oedema": (713,)},
    "stroke": {"infarct": (721, 722)},  # the real mask holds the cavity and its gliotic rim
}
SYNTHETIC_CASES: dict[str, dict[str, Any]] = {
    "healthy": {"age": 60, "sex": "female", "pathology": "none"},
    "ms": {"age": 35, "sex": "female", "pathology": "ms", "msLesionLoadMl": 8},
    "glioma": {"age": 45, "sex": "male", "pathology": "glioma"},
    "stroke": {
        "age": 65,
        "sex": "male",
        "pathology": "stroke",
        "strokeTerritory": "MCA",
        "strokeSide": "left",
        "strokeSize": 0.4,
    },
}


def synthetic_masks(labels: NDArray[np.integer[Any]], pathology: str) -> Masks:
    """Masks of a synthetic volume from its own labels: cortex, cerebral WM eroded by one
    voxel, CSF = ventricles + sulcal CSF, lesions by `SYNTHETIC_LESIONS`."""
    cls = classes_from_freesurfer(labels)
    return Masks(
        gm=cls == CORTEX,
        wm=eroded(cls == WM),
        csf=np.isin(cls, (VENTRICLES, SULCAL_CSF)),
        lesions={n: np.isin(labels, v) for n, v in SYNTHETIC_LESIONS.get(pathology, {}).items()},
    )


# called with (case, contrast, image, its file (relative to the data folder), masks) for each
# measured image: the realism report keeps a display slice
KeepFn = Callable[[str, str, NDArray[np.float64], str, Masks], None]


def _load(data: Path, rel: str) -> NDArray[np.float64]:
    return np.asarray(image_of(data, rel).dataobj, np.float64)


def image_of(data: Path, rel: str) -> nib.Nifti1Image:
    p = data / rel
    if not p.is_file():
        raise RealDataError(f"{p} not found")
    return load_nifti(p)


def kmeans3(image: NDArray[np.float64], mask: NDArray[np.bool_], seed: int = 0) -> NDArray[np.int8]:
    """3 intensity clusters inside `mask`, numbered 0, 1, 2 by increasing centre (-1 outside)."""
    v = image[mask]
    rng = np.random.default_rng(seed)
    sample = v if v.size <= 200_000 else rng.choice(v, 200_000, replace=False)
    km = KMeans(n_clusters=3, n_init=4, random_state=seed).fit(sample.reshape(-1, 1))
    centres = km.cluster_centers_.ravel()
    rank = np.argsort(np.argsort(centres))
    lab = rank[np.abs(v[:, None] - centres[None, :]).argmin(axis=1)]
    out = np.full(image.shape, -1, np.int8)
    out[mask] = lab
    return out


def ratios(image: NDArray[np.float64], masks: Masks) -> dict[str, Any]:
    med = {
        k: float(np.median(image[m]))
        for k, m in (("gm", masks.gm), ("wm", masks.wm), ("csf", masks.csf))
    }
    out: dict[str, Any] = {
        "gmWm": med["gm"] / med["wm"],
        "csfWm": med["csf"] / med["wm"],
        "lesions": {},
    }
    for name, m in masks.lesions.items():
        if m.any():
            les = float(np.median(image[m]))
            out["lesions"][name] = {
                "lesionWm": les / med["wm"],
                "lesionGm": les / med["gm"],
                "voxels": int(m.sum()),
            }
    return out


def _t1_masks(
    t1: NDArray[np.float64],
    brain: NDArray[np.bool_],
    lesion: NDArray[np.bool_],
    lesions: dict[str, NDArray[np.bool_]],
) -> Masks:
    cl = kmeans3(t1, brain & ~ndimage.binary_dilation(lesion, iterations=2))
    return Masks(gm=cl == 1, wm=cl == 2, csf=cl == 0, lesions=lesions)


def synthetic_t1_masks(
    t1: NDArray[np.float64], labels: NDArray[np.integer[Any]], pathology: str
) -> Masks:
    """Masks of a synthetic volume the way the real MS and glioma images get theirs: 3-class
    k-means of its T1w (`t1`: the caller divides out the bias field's systematic part, which the
    real cases' T1s from other scanners do not have) inside the brain and its CSF (label values
    1-499), the lesions (dilated 2 voxels) excluded; lesions by their labels
    (`SYNTHETIC_LESIONS`), as the real cases' lesion masks."""
    lesions = {n: np.isin(labels, v) for n, v in SYNTHETIC_LESIONS.get(pathology, {}).items()}
    lesion = np.zeros(labels.shape, bool)
    for m in lesions.values():
        lesion |= m
    return _t1_masks(t1, (labels > 0) & (labels < 500), lesion, lesions)


def twin_t1_masks(vol: Any, app: dict[str, Any], pathology: str) -> Masks:
    """`synthetic_t1_masks` of a teacher volume (`vol.images["T1w"]`, `vol.labels`), on its T1w
    with the bias field's systematic part divided out: the real T2w/FLAIR cases' own T1s come
    from other scanners, without IXI's 3 T central brightening, and with it k-means took
    superficial WM for GM (the T2w/FLAIR fit raised the GM by 13 %). The render fit, the lesion
    fit and the realism benchmark all segment their twins here."""
    # the module, not a static import: the pipeline does not import the teacher (test_layers)
    render_mod = importlib.import_module("brainsynth.teacher.render")
    t1 = np.asarray(vol.images["T1w"], np.float64)
    unbiased = t1 / render_mod.systematic_bias(t1.shape, app)
    return synthetic_t1_masks(unbiased, vol.labels, pathology)


def real_cases(data: Path, keep_fn: KeepFn | None = None) -> list[dict[str, Any]]:
    """Every real case's ratios (module docstring), one entry per (case, contrast)."""
    out: list[dict[str, Any]] = []

    def keep(case: str, contrast: str, img: NDArray[np.float64], rel: str, masks: Masks) -> None:
        if keep_fn is not None:
            keep_fn(case, contrast, img, rel, masks)

    for p in MS_PATIENTS:
        d = f"{MS_DIR}/{p}"
        t1, flair, les = (
            _load(data, f"{d}/{MS_T1}"),
            _load(data, f"{d}/{MS_FLAIR}"),
            _load(data, f"{d}/{MS_LESION}") > 0.5,
        )
        brain = (t1 > 0.01 * np.percentile(t1[t1 > 0], 99)) & (flair > 0)
        masks = _t1_masks(t1, brain, les, {"ms-lesion": les & brain})
        keep(f"MS {p}", "FLAIR", flair, f"{d}/{MS_FLAIR}", masks)
        out.append(
            {
                "case": f"MS {p}",
                "pathology": "ms",
                "contrast": "FLAIR",
                "segmentation": "k-means on T1",
            }
            | ratios(flair, masks)
        )
    for c in GLIOMA_CASES:
        d = f"{GLIOMA_DIR}/{c}/{c}_brainles"
        t1 = _load(data, f"{d}/raw_bet/{c}_t1_bet.nii.gz")
        seg = np.rint(_load(data, f"{d}/fusion/mav.nii.gz")).astype(int)
        brain = t1 > 0
        lesions = {name: (seg == v) & brain for name, v in GLIOMA_LABELS.items()}
        masks = _t1_masks(t1, brain, seg > 0, lesions)
        for contrast, suffix in (("T2w", "t2"), ("FLAIR", "fla")):
            img = _load(data, f"{d}/raw_bet/{c}_{suffix}_bet.nii.gz")
            keep(f"glioma {c}", contrast, img, f"{d}/raw_bet/{c}_{suffix}_bet.nii.gz", masks)
            out.append(
                {
                    "case": f"glioma {c}",
                    "pathology": "glioma",
                    "contrast": contrast,
                    "segmentation": "k-means on T1",
                }
                | ratios(img, masks)
            )
    t2, les = _load(data, STROKE_T2), _load(data, STROKE_LESION) > 0.5
    head = t2 > 0.05 * np.percentile(t2, 99)
    inner, n = ndimage.label(ndimage.binary_erosion(head, iterations=10))
    if n == 0:
        raise RealDataError(f"{STROKE_T2}: no head found")
    brain = inner == 1 + int(np.argmax(ndimage.sum(np.ones_like(inner), inner, range(1, n + 1))))
    cl = kmeans3(t2, brain & ~ndimage.binary_dilation(les, iterations=2))
    masks = Masks(gm=cl == 1, wm=cl == 0, csf=cl == 2, lesions={"infarct": les})
    keep("stroke T2 (neurolabusc tutorial)", "T2w", t2, STROKE_T2, masks)
    out.append(
        {
            "case": "stroke T2 (neurolabusc tutorial)",
            "pathology": "stroke",
            "contrast": "T2w",
            "segmentation": "eroded head, k-means on T2",
        }
        | ratios(t2, masks)
    )
    flair = _load(data, FLAIR_TEMPLATE)
    pri = np.stack([_load(data, PRIORS[k]) for k in ("gm", "wm", "csf")])
    if pri.shape[1:] != flair.shape:
        raise RealDataError("FLAIR template and older-adult priors are on different grids")
    best, pmax = pri.argmax(axis=0), pri.max(axis=0)
    sure = pmax > 0.5
    masks = Masks(gm=sure & (best == 0), wm=sure & (best == 1), csf=sure & (best == 2), lesions={})
    keep("older-adult FLAIR template", "FLAIR", flair, FLAIR_TEMPLATE, masks)
    out.append(
        {
            "case": "older-adult FLAIR template",
            "pathology": "none",
            "contrast": "FLAIR",
            "segmentation": "older-adult priors > 0.5",
        }
        | ratios(flair, masks)
    )
    return out


# MNI box (mm) around the lateral ventricles' bodies: x, y, z from / to
VENTRICLE_BOX_MNI = ((-15.0, -35.0, 0.0), (15.0, 20.0, 25.0))


def ms_ventricle_flair(data: Path) -> list[float]:
    """Pure ventricular CSF on the MS patients' FLAIR (MNI space): median FLAIR of the T1
    k-means CSF class, eroded by one voxel (no partial volume), inside `VENTRICLE_BOX_MNI`,
    over the median of the WM class. The k-means CSF class as a whole is mostly partial
    volume (sulci at 1 mm), so its median says little about how well FLAIR nulls CSF."""
    out = []
    for p in MS_PATIENTS:
        d = f"{MS_DIR}/{p}"
        img = image_of(data, f"{d}/{MS_T1}")
        t1 = np.asarray(img.dataobj, np.float64)
        flair = _load(data, f"{d}/{MS_FLAIR}")
        les = _load(data, f"{d}/{MS_LESION}") > 0.5
        brain = (t1 > 0.01 * np.percentile(t1[t1 > 0], 99)) & (flair > 0)
        cl = kmeans3(t1, brain & ~ndimage.binary_dilation(les, iterations=2))
        inv = np.linalg.inv(img.affine)
        ends = [inv[:3, :3] @ np.asarray(c) + inv[:3, 3] for c in VENTRICLE_BOX_MNI]
        box = np.zeros(t1.shape, bool)
        box[
            tuple(
                slice(int(round(min(a, b))), int(round(max(a, b))) + 1)
                for a, b in zip(*ends, strict=True)
            )
        ] = True
        core = ndimage.binary_erosion(cl == 0) & box
        if core.sum() < 100:
            raise RealDataError(f"{p}: fewer than 100 ventricular CSF voxels found")
        out.append(float(np.median(flair[core])) / float(np.median(flair[cl == 2])))
    return out

"""T2w/FLAIR tissue contrast ratios: the real T2/FLAIR images in the data folder vs the teacher.

Ratios are of medians: GM/WM, CSF/WM, lesion/WM, lesion/GM. Tissue masks of the real images
(none of them has a tissue label map) come from a simple, documented segmentation:

- MS (3 patients, MNI space, brain-extracted T1 + FLAIR, consensus lesion masks) and glioma
  (2 TCGA-LGG cases, brain-extracted T1/T2/FLAIR, BraTS-style automated labels 1 = necrotic /
  non-enhancing core, 2 = oedema, 4 = enhancing): 3-class k-means of the co-registered *T1*
  inside the brain, lesion (dilated 2 voxels) excluded; clusters by T1 centre CSF < GM < WM.
- Stroke T2 (full head, lesion mask): head = T2 > 5 % of its 99th centile, eroded 10 voxels
  (1 mm) to drop scalp and skull, largest component; 3-class k-means of T2 there, lesion
  excluded; clusters by T2 centre WM < GM < CSF.
- Older-adult FLAIR template (MNI 2 mm): tissue = the older-adult GM/WM/CSF priors on the same
  grid, each voxel to its most probable class where that probability is > 0.5.

Synthetic (teacher, 2 mm): masks from its own labels - cortex, eroded cerebral WM, CSF =
ventricles + sulcal CSF, lesions by their pathology labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from sklearn.cluster import KMeans

from brainsynth.common.nifti import load_nifti
from brainsynth.qa.realism.data import MODEL_DIR, DataError, canonical, eroded
from brainsynth.qa.realism.tissue import (
    CORTEX,
    SULCAL_CSF,
    VENTRICLES,
    WM,
    classes_from_freesurfer,
)

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

# synthetic lesion label -> the name used for the real lesions it stands for
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


@dataclass
class Masks:
    gm: NDArray[np.bool_]
    wm: NDArray[np.bool_]
    csf: NDArray[np.bool_]
    lesions: dict[str, NDArray[np.bool_]]


Slices = dict[str, NDArray[np.float32]]  # "case contrast" -> axial display slice (WM units)


def _load(data: Path, rel: str) -> NDArray[np.float64]:
    return np.asarray(_image(data, rel).dataobj, np.float64)


def _image(data: Path, rel: str) -> nib.Nifti1Image:
    p = data / rel
    if not p.is_file():
        raise DataError(f"{p} not found")
    return load_nifti(p)


def display_slice(
    image: NDArray[np.float64], affine: NDArray[np.float64], masks: Masks
) -> NDArray[np.float32]:
    """Axial slice (RAS, rows = posterior->anterior) through the lesions' centre of mass, or
    the WM's, in WM-median units - for the report mosaic only."""
    lesion = np.zeros(image.shape, bool)
    for m in masks.lesions.values():
        lesion |= m
    focus = lesion if lesion.any() else masks.wm
    img = canonical(image / float(np.median(image[masks.wm])), affine)
    foc = np.asarray(canonical(focus.astype(np.uint8), affine)) > 0
    k = int(round(ndimage.center_of_mass(foc)[2]))
    return np.asarray(img[:, :, k].T, np.float32)


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


def real_cases(data: Path, slices: Slices | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def keep(case: str, contrast: str, img: NDArray[np.float64], rel: str, masks: Masks) -> None:
        if slices is not None:
            slices[f"{case} {contrast}"] = display_slice(img, _image(data, rel).affine, masks)

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
        raise DataError(f"{STROKE_T2}: no head found")
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
        raise DataError("FLAIR template and older-adult priors are on different grids")
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


def synthetic_cases(
    model_dir: Path = MODEL_DIR, seed: int = 1, device: str = "numpy", slices: Slices | None = None
) -> list[dict[str, Any]]:
    from brainsynth.teacher.generate import generate

    out: list[dict[str, Any]] = []
    for case, cond in SYNTHETIC_CASES.items():
        vol = generate(
            model_dir,
            cond | {"contrast": "T2w"},
            seed,
            resolution_mm=2.0,
            contrasts=("T2w", "FLAIR"),
            device=device,
        )
        cls = classes_from_freesurfer(vol.labels)
        lesions = {
            name: np.isin(vol.labels, v)
            for name, v in SYNTHETIC_LESIONS.get(cond["pathology"], {}).items()
        }
        masks = Masks(
            gm=cls == CORTEX,
            wm=eroded(cls == WM),
            csf=np.isin(cls, (VENTRICLES, SULCAL_CSF)),
            lesions=lesions,
        )
        for contrast, img in vol.images.items():
            if slices is not None:
                slices[f"synthetic {case} {contrast}"] = display_slice(
                    img.astype(np.float64), np.asarray(vol.affine), masks
                )
            out.append(
                {
                    "case": f"synthetic {case}",
                    "pathology": cond["pathology"],
                    "contrast": contrast,
                    "seed": seed,
                    "conditions": cond,
                }
                | ratios(img.astype(np.float64), masks)
            )
    return out


def compare(real: list[dict[str, Any]], synthetic: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per contrast and ratio: the real range and each synthetic value, inside it or not."""
    rows: list[dict[str, Any]] = []

    def values(cases: list[dict[str, Any]], contrast: str, key: str) -> list[tuple[str, float]]:
        got = []
        for c in cases:
            if c["contrast"] != contrast:
                continue
            if key in ("gmWm", "csfWm"):
                got.append((c["case"], float(c[key])))
            else:
                lesion, ratio = key.split(":")
                if lesion in c["lesions"]:
                    got.append((c["case"], float(c["lesions"][lesion][ratio])))
        return got

    keys = ["gmWm", "csfWm"] + [
        f"{n}:{r}"
        for n in ("ms-lesion", "oedema", "necrotic-core", "enhancing", "infarct")
        for r in ("lesionWm", "lesionGm")
    ]
    for contrast in ("T2w", "FLAIR"):
        for key in keys:
            rv, sv = values(real, contrast, key), values(synthetic, contrast, key)
            if not rv or not sv:
                continue
            lo, hi = min(v for _, v in rv), max(v for _, v in rv)
            for case, v in sv:
                rows.append(
                    {
                        "contrast": contrast,
                        "ratio": key,
                        "realMin": lo,
                        "realMax": hi,
                        "realN": len(rv),
                        "synthetic": v,
                        "syntheticCase": case,
                        "inside": lo <= v <= hi,
                    }
                )
    return rows

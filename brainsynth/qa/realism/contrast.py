"""T2w/FLAIR tissue contrast ratios: the real T2/FLAIR images in the data folder vs the teacher.

Ratios are of medians: GM/WM, CSF/WM, lesion/WM, lesion/GM. The real images are read by
`brainsynth.pipeline.real_contrast` (the same code the T2w/FLAIR calibration uses; its
docstring says how each real case gets its tissue masks).

Synthetic (teacher, 2 mm): the same segmentation as the real MS and glioma cases (5 of the 7
real images) - 3-class k-means of its T1w inside the brain and its CSF, lesions (dilated 2
voxels) excluded (`real_contrast.twin_t1_masks`), on the T1w with the bias field's
systematic part divided out (the real cases' T1s come from other scanners, without IXI's 3 T
central brightening) - and lesions by their pathology labels. Until model 1.11.0 the synthetic
tissue masks came from the labels (cortex, eroded WM, ventricles + sulcal CSF) while the real
ones came from k-means: a label-masked cortex holds its pial partial volume, a k-means GM class
does not, so the two sides measured different things (`labelMasks` keeps those ratios).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from brainsynth.pipeline import real_contrast as rc
from brainsynth.pipeline.real_contrast import (
    SYNTHETIC_CASES,
    Masks,
    image_of,
    ratios,
    synthetic_masks,
    twin_t1_masks,
)
from brainsynth.qa.realism.data import MODEL_DIR, DataError, canonical

Slices = dict[str, NDArray[np.float32]]  # "case contrast" -> axial display slice (WM units)


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


def real_cases(data: Path, slices: Slices | None = None) -> list[dict[str, Any]]:
    """The real cases' ratios (`pipeline.real_contrast`), with display slices when asked."""

    def keep(case: str, contrast: str, img: NDArray[np.float64], rel: str, masks: Masks) -> None:
        if slices is not None:
            slices[f"{case} {contrast}"] = display_slice(img, image_of(data, rel).affine, masks)

    try:
        return rc.real_cases(data, keep)
    except rc.RealDataError as e:
        raise DataError(str(e)) from e


def synthetic_cases(
    model_dir: Path = MODEL_DIR, seed: int = 1, device: str = "numpy", slices: Slices | None = None
) -> list[dict[str, Any]]:
    from brainsynth.model_io import load_model
    from brainsynth.teacher.generate import generate

    _, man = load_model(model_dir)
    out: list[dict[str, Any]] = []
    for case, cond in SYNTHETIC_CASES.items():
        vol = generate(
            model_dir,
            cond | {"contrast": "T2w"},
            seed,
            resolution_mm=2.0,
            contrasts=("T1w", "T2w", "FLAIR"),
            device=device,
        )
        masks = twin_t1_masks(vol, man["appearance"], cond["pathology"])
        by_label = synthetic_masks(vol.labels, cond["pathology"])
        for contrast in ("T2w", "FLAIR"):
            img = vol.images[contrast]
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
                    "labelMasks": ratios(img.astype(np.float64), by_label),
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

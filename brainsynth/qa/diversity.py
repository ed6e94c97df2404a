"""Population diversity: how different subjects are from each other, real vs synthetic
(docs/MODEL.md, "Diversity").

    python -m brainsynth.qa.diversity --data ../shared/data [--subset N] [--write]

Real set: the IXI T1s' DLMUSE label maps (2 mm, with age and sex). Synthetic set: one 2 mm
teacher sample (= the browser's anatomy) per real scan, with that scan's age and sex, healthy,
a random seed — so both sets have the same ages and sexes. A second synthetic set holds
samples of one age and sex (60, female), for the spread among individuals alone.

Both label conventions are mapped explicitly to the same six groups (cortex, cerebral WM,
ventricles, deep GM, hippocampus, cerebellum; `DLMUSE_GROUPS` / `FREESURFER_GROUPS`), every map
is aligned affinely to the model template's brain mask (`pipeline.subjects.align_masks`: brain
masks, moments then a Powell search on an 8 mm sampling) and resampled (nearest) to the 2 mm
output grid, and the similarity of two subjects is the mean Dice over the six groups.
Reported: the median and the quartiles over all pairs, and each subject's nearest-neighbour
Dice.

Target (issue 10): the synthetic all-pairs median within +-0.03 of the real one.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.common.grid import OUTPUT_GRID
from brainsynth.model_io import load_model
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline.subjects import align_masks, sample_nearest
from brainsynth.qa.realism.benchmark import select_subset
from brainsynth.qa.realism.data import read_index

GROUP_NAMES = ("cortex", "wm", "ventricles", "deep-gm", "hippocampus", "cerebellum")
# DLMUSE single-ROI indices (CBICA-NiChart_Project/resources/MUSE/list_MUSE_single.csv)
DLMUSE_GROUPS: tuple[tuple[int, ...], ...] = (
    tuple(range(100, 208)),  # cortical ROIs
    tuple(range(81, 96)),  # lobar WM, fornix, internal capsule, corpus callosum
    (4, 11, 49, 50, 51, 52),  # 3rd, 4th, inferior-lateral and lateral ventricles
    (23, 30, 36, 37, 55, 56, 57, 58, 59, 60),  # accumbens, caudate, pallidum, putamen, thalamus
    (47, 48),  # hippocampus
    (38, 39, 40, 41, 71, 72, 73),  # cerebellar cortex, WM and vermis
)
# FreeSurfer label values (the model's label table)
FREESURFER_GROUPS: tuple[tuple[int, ...], ...] = (
    (3, 42),
    (2, 41),
    (4, 5, 14, 15, 43, 44),
    (10, 11, 12, 13, 26, 49, 50, 51, 52, 58),
    (17, 53),
    (7, 8, 46, 47),
)
# the alignment mask: brain tissue and ventricles (DLMUSE 1 is sulcal CSF: left out; the
# model's 500+ values are extra-cerebral, 700+ lesions)
DLMUSE_BRAIN = [v for v in range(2, 300)]
FREESURFER_BRAIN = [v for v in range(1, 100) if v != 24]
FIXED_AGE, FIXED_SEX = 60.0, "female"


def _lut(groups: tuple[tuple[int, ...], ...]) -> NDArray[np.int8]:
    lut = np.zeros(1024, np.int8)
    for g, values in enumerate(groups, start=1):
        lut[list(values)] = g
    return lut


_DLMUSE_LUT = _lut(DLMUSE_GROUPS)
_FS_LUT = _lut(FREESURFER_GROUPS)


def group_map(labels: NDArray[np.integer[Any]], convention: str) -> NDArray[np.int8]:
    """Label values -> group numbers 1..6 (0: none of the groups)."""
    lut = _DLMUSE_LUT if convention == "dlmuse" else _FS_LUT
    lab = np.asarray(labels).astype(np.int64)
    if lab.size and (lab.min() < 0 or lab.max() >= lut.size):
        raise ValueError(f"label values must lie in [0, {lut.size - 1}]")
    return lut[lab]


def group_dice(a: NDArray[np.int8], b: NDArray[np.int8]) -> NDArray[np.float64]:
    """Dice overlap of each of the six groups of two group maps on one grid (1 where a group
    is in neither map)."""
    d = []
    for g in range(1, len(GROUP_NAMES) + 1):
        x, y = a == g, b == g
        s = int(x.sum()) + int(y.sum())
        d.append(2.0 * float((x & y).sum()) / s if s else 1.0)
    return np.asarray(d)


def mean_dice(a: NDArray[np.int8], b: NDArray[np.int8]) -> float:
    """Mean over the six groups of the Dice overlap of two group maps on one grid."""
    return float(np.mean(group_dice(a, b)))


def reference_mask(model_dir: Path) -> NDArray[np.bool_]:
    """The model template's brain (tissue and ventricles) on its 2 mm grid."""
    model, _ = load_model(model_dir)
    if model.grid.shape != OUTPUT_GRID.shape:
        raise ValueError(f"the model's grid {model.grid.shape} is not the 2 mm output grid")
    values = np.asarray(model.label_values)[model.template]
    return np.isin(values, FREESURFER_BRAIN)


def aligned_groups(
    labels: NDArray[np.integer[Any]],
    affine: NDArray[np.float64],
    convention: str,
    ref_mask: NDArray[np.bool_],
) -> NDArray[np.int8]:
    """One label map, aligned affinely to the reference brain mask (`align_masks`), as groups
    on the 2 mm output grid."""
    lab = np.asarray(labels)
    brain = DLMUSE_BRAIN if convention == "dlmuse" else FREESURFER_BRAIN
    aff = np.asarray(affine, np.float64)
    a, t = align_masks(ref_mask, OUTPUT_GRID, np.isin(lab, brain), aff, maxfev=1000, step=4)
    x = OUTPUT_GRID.world_coords().reshape(3, -1).astype(np.float64)
    y = (a @ x + t[:, None]).reshape((3, *OUTPUT_GRID.shape)).astype(np.float32)
    return group_map(np.asarray(sample_nearest(lab, aff, y)), convention)


def pairwise(maps: list[NDArray[np.int8]]) -> NDArray[np.float64]:
    """Dice of each group between every two maps: [n, n, groups], symmetric, diagonal NaN."""
    n = len(maps)
    m = np.full((n, n, len(GROUP_NAMES)), np.nan)
    for i in range(n):
        for j in range(i + 1, n):
            m[i, j] = m[j, i] = group_dice(maps[i], maps[j])
    return m


def summarise(m: NDArray[np.float64]) -> dict[str, Any]:
    """All-pairs median and quartiles of the mean Dice, each subject's nearest-neighbour
    median, and the all-pairs median per group (which structures are too alike)."""
    mean = m.mean(axis=2)
    iu = np.triu_indices(m.shape[0], 1)
    allp = mean[iu]
    nn = np.nanmax(mean, axis=1)
    return {
        "pairs": int(allp.size),
        "median": round(float(np.median(allp)), 4),
        "q25": round(float(np.percentile(allp, 25)), 4),
        "q75": round(float(np.percentile(allp, 75)), 4),
        "nearestNeighbourMedian": round(float(np.median(nn)), 4),
        "perGroupMedian": {
            g: round(float(np.median(m[iu][:, k])), 4) for k, g in enumerate(GROUP_NAMES)
        },
    }


def _sample_labels(
    model_dir: Path, age: float, sex: str, seed: int
) -> tuple[NDArray[np.int16], NDArray[np.float64]]:
    from brainsynth.teacher.generate import generate

    cond = {"age": float(round(age)), "sex": sex, "pathology": "none", "contrast": "T1w"}
    vol = generate(model_dir, cond, seed, resolution_mm=2.0, contrasts=("T1w",), device="numpy")
    return vol.labels, np.asarray(vol.affine, np.float64)


def evaluate(
    data: Path,
    model_dir: Path = DEFAULT_MODEL_DIR,
    subset: int | None = None,
    n_fixed: int = 12,
    base_seed: int = 20261206,
    log: Any = print,
) -> dict[str, Any]:
    from brainsynth.common.nifti import load_nifti

    t0 = time.perf_counter()
    entries = read_index(data)
    entries = [entries[i] for i in select_subset(len(entries), subset, [e.age for e in entries])]
    ref = reference_mask(model_dir)
    rng = np.random.default_rng(base_seed)
    seeds = rng.integers(0, 2**32, size=len(entries) + n_fixed, dtype=np.uint64)
    real, synth, fixed = [], [], []
    for i, e in enumerate(entries):
        seg = load_nifti(e.seg)
        real.append(aligned_groups(np.asarray(seg.dataobj), seg.affine, "dlmuse", ref))
        lab, aff = _sample_labels(model_dir, e.age, e.sex, int(seeds[i]))
        synth.append(aligned_groups(lab, aff, "freesurfer", ref))
        log(f"[{i + 1}/{len(entries)}] {e.name} age {e.age:.0f} {e.sex}")
    for k in range(n_fixed):
        lab, aff = _sample_labels(model_dir, FIXED_AGE, FIXED_SEX, int(seeds[len(entries) + k]))
        fixed.append(aligned_groups(lab, aff, "freesurfer", ref))
        log(f"[fixed {k + 1}/{n_fixed}]")
    r, s = summarise(pairwise(real)), summarise(pairwise(synth))
    f = summarise(pairwise(fixed)) if n_fixed > 1 else None
    return {
        "method": (__doc__ or "").strip().split("\n\n")[2].replace("\n", " "),
        "command": "python -m brainsynth.qa.diversity --data ../shared/data"
        + (f" --subset {subset}" if subset else ""),
        "groups": list(GROUP_NAMES),
        "nReal": len(real),
        "real": r,
        "syntheticMatched": s,
        "syntheticOneAgeSex": (
            {"conditions": {"age": FIXED_AGE, "sex": FIXED_SEX}, "n": n_fixed} | f
        )
        if f
        else None,
        "medianDifference": round(s["median"] - r["median"], 4),
        "target": "synthetic all-pairs median within +-0.03 of the real one",
        "withinTarget": bool(abs(s["median"] - r["median"]) <= 0.03),
        "wallSeconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--subset", type=int, default=None, help="an age-spread subset of the scans")
    ap.add_argument("--fixed", type=int, default=12, help="samples at one age and sex")
    ap.add_argument("--write", action="store_true", help="store the result in manifest metrics")
    args = ap.parse_args(argv)
    if args.subset is not None and args.subset < 4:
        ap.error("--subset must be at least 4")
    if args.fixed < 0:
        ap.error("--fixed must be >= 0")
    res = evaluate(args.data, args.model, args.subset, args.fixed)
    print(json.dumps(res, indent=1))
    if args.write:
        path = args.model / "manifest.json"
        man = json.loads(path.read_text())
        man.setdefault("metrics", {})["diversity"] = res
        path.write_text(json.dumps(man, indent=1) + "\n")


if __name__ == "__main__":
    main()

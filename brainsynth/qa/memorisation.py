"""Memorisation and diversity (docs/MODEL.md, "Memorisation and diversity").

    python -m brainsynth.qa.memorisation --data ../shared/data

Training subjects are affinely aligned to the template space (as in the pipeline); samples are
drawn in template space (no ICV scaling, same space). For every sample, its highest mean Dice
against any training subject is compared with each training subject's own nearest-neighbour
Dice among the others: a sample closer to a training subject than training subjects are to
each other is flagged. Diversity: mean pairwise Dice among samples with equal conditions.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.anatomy import sample_folded_indices
from brainsynth.common.grid import OUTPUT_GRID
from brainsynth.common.rng import normals
from brainsynth.model_io import cortical_depth_mm, gains_for, load_model
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline.labels import BRAIN_TISSUE
from brainsynth.pipeline.reference import mni_brain_mask
from brainsynth.pipeline.subjects import (
    Subject,
    align_subject,
    load_label_map,
    sample_nearest,
    subject_points,
)
from brainsynth.pipeline.template import REG_GRID

GROUPS: dict[str, list[int]] = {
    "cortex": [3, 42],
    "wm": [2, 41],
    "ventricles": [4, 43, 5, 44],
    "deep-gm": [10, 11, 12, 13, 26, 28, 49, 50, 51, 52, 58, 60],
    "hippocampus": [17, 53],
    "cerebellum": [7, 8, 46, 47],
}


def group_map(values: NDArray[np.int32]) -> NDArray[np.int8]:
    out = np.zeros(values.shape, np.int8)
    for g, labels in enumerate(GROUPS.values(), start=1):
        out[np.isin(values, labels)] = g
    return out


def mean_dice(a: NDArray[np.int8], b: NDArray[np.int8]) -> float:
    d = []
    for g in range(1, len(GROUPS) + 1):
        x, y = a == g, b == g
        s = int(x.sum()) + int(y.sum())
        d.append(2 * float((x & y).sum()) / s if s else 1.0)
    return float(np.mean(d))


def cache_dir() -> Path:
    """Where the training subjects' alignments (12 numbers each, no image data) are kept:
    `$BRAINSYNTH_CACHE/memorisation` (default ~/.cache/brainsynth/memorisation)."""
    root = os.environ.get("BRAINSYNTH_CACHE") or str(Path.home() / ".cache" / "brainsynth")
    return Path(root) / "memorisation"


def _aligned(f: Path, ref: NDArray[np.float32], use_cache: bool) -> Subject:
    """Training label map `f` with its affine alignment to the template (the pipeline's
    `align_subject`, ~40 s at 1 mm; cached by file name, size and mtime)."""
    lab, aff = load_label_map(f)
    st = f.stat()
    cached = cache_dir() / f"{f.name}.{st.st_size}.{int(st.st_mtime)}.json"
    if use_cache and cached.is_file():
        c = json.loads(cached.read_text())
        return Subject(f.stem, lab, aff, np.asarray(c["A"], float), np.asarray(c["t"], float))
    subj = align_subject(f.stem, lab, aff, ref, REG_GRID, BRAIN_TISSUE)
    if use_cache:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_text(json.dumps({"A": subj.A.tolist(), "t": subj.t.tolist()}))
        tmp.replace(cached)
    return subj


@dataclass
class TrainingReference:
    """The training subjects' tissue-group maps on OUTPUT_GRID (template space, after affine
    alignment) and each one's nearest-neighbour Dice among the others."""

    names: list[str]
    maps: list[NDArray[np.int8]]
    nn_dice: list[float]
    ref_mask: NDArray[np.float32]

    @property
    def threshold(self) -> float:
        return float(np.max(self.nn_dice))

    def closest(self, sample: NDArray[np.int8]) -> tuple[float, int]:
        """Highest mean Dice of `sample` against every training subject, and which one."""
        d = [mean_dice(sample, t) for t in self.maps]
        i = int(np.argmax(d))
        return d[i], i


def training_reference(data: Path, use_cache: bool = True) -> TrainingReference:
    """The training subjects of `data/synthseg-label-maps` as in `evaluate`."""
    ref = mni_brain_mask(data)
    x = OUTPUT_GRID.world_coords()
    names, train = [], []
    files = sorted((data / "synthseg-label-maps").glob("training_seg_*.nii.gz"))
    if len(files) < 2:
        raise FileNotFoundError(f"{data / 'synthseg-label-maps'}: fewer than 2 training maps")
    for f in files:
        subj = _aligned(f, ref, use_cache)
        vals = sample_nearest(subj.labels, subj.affine, subject_points(subj, x))
        train.append(group_map(np.asarray(vals, np.int32)))
        names.append(f.stem.removesuffix(".nii"))
    nn_train = [
        max(mean_dice(a, b) for j, b in enumerate(train) if j != i) for i, a in enumerate(train)
    ]
    return TrainingReference(names, train, nn_train, ref)


def aligned_group_map(
    labels: NDArray[np.integer], affine: NDArray[np.float64], ref_mask: NDArray[np.float32]
) -> NDArray[np.int8]:
    """Any FreeSurfer-valued label map, affinely aligned to the template like the training
    subjects, as tissue groups on OUTPUT_GRID."""
    lab = np.asarray(labels, np.int16)
    subj = align_subject("sample", lab, np.asarray(affine, float), ref_mask, REG_GRID, BRAIN_TISSUE)
    vals = sample_nearest(
        subj.labels, subj.affine, subject_points(subj, OUTPUT_GRID.world_coords())
    )
    return group_map(np.asarray(vals, np.int32))


def evaluate(model_dir: Path, data: Path, n_samples: int = 12) -> dict[str, Any]:

    model, man = load_model(model_dir)
    depth = cortical_depth_mm(model_dir, man)
    reference = training_reference(data)
    train = reference.maps
    nn_train = reference.nn_dice
    threshold = reference.threshold
    values = model.label_values
    samples = []
    cond = {"age": 60, "sex": "female", "pathology": "none", "contrast": "T1w"}
    g = gains_for(man, cond)
    k = man["shapeModel"]["components"]
    for i in range(n_samples):
        # the seed's shape latents and size latent (model_io.size_latent: after z_icv), its
        # folding and step 7c as the product samples it; template space (no ICV scale), where
        # the training subjects are aligned
        lat = normals(5000 + i, k + 2)
        z, z_size = lat[:k], float(lat[k + 1])
        idx = sample_folded_indices(model, man, depth, z, g, 5000 + i, 1.0, cond, z_size)
        samples.append(group_map(values[idx]))
    closest = [max(mean_dice(smp, t) for t in train) for smp in samples]
    nearest_ids = {int(np.argmax([mean_dice(smp, t) for t in train])) for smp in samples}
    # Baseline: the population-mean anatomy (z = 0) is close to everyone; a memorised sample
    # would be closer to one subject than the mean anatomy is.
    mean_idx = sample_folded_indices(model, man, None, np.zeros(k), g, 0, local=False)
    mean_anat = group_map(values[mean_idx])
    mean_closest = max(mean_dice(mean_anat, t) for t in train)
    pairwise = [mean_dice(a, b) for i, a in enumerate(samples) for b in samples[i + 1 :]]
    return {
        "method": "mean Dice over cortex, WM, ventricles, deep GM, hippocampus, cerebellum in "
        "template space; training subjects affinely aligned; "
        "samples at age 60, female, z ~ N(0, I), each with its own folding (step 7b, seed "
        "5000 + i) and step 7c with its size latent, in template space (no ICV scale); the "
        "mean-anatomy baseline is unfolded (z = 0, the template's own sulci)",
        "samples": n_samples,
        "perSampleClosestTrainingDice": [round(float(c), 4) for c in closest],
        "trainingNearestNeighbourDice": {
            "median": float(np.median(nn_train)),
            "max": threshold,
        },
        "sampleClosestTrainingDice": {
            "median": float(np.median(closest)),
            "max": float(np.max(closest)),
        },
        "flaggedByTrainingNearestNeighbour": int(sum(c > threshold for c in closest)),
        "meanAnatomyClosestTrainingDice": mean_closest,
        "flaggedAboveMeanAnatomy": int(sum(c > mean_closest for c in closest)),
        "distinctNearestTrainingSubjects": len(nearest_ids),
        "diversityMeanPairwiseDice": float(np.mean(pairwise)),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--samples", type=int, default=12)
    ap.add_argument("--write", action="store_true", help="store the result in manifest metrics")
    args = ap.parse_args(argv)
    res = evaluate(args.model, args.data, args.samples)
    print(json.dumps(res, indent=1))
    if args.write:
        path = args.model / "manifest.json"
        man = json.loads(path.read_text())
        man["metrics"]["memorisation"] = res
        path.write_text(json.dumps(man, indent=1) + "\n")


if __name__ == "__main__":
    main()

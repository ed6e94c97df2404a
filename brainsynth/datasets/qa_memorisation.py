"""Memorisation check of a dataset (part of the QA report, `qa.json` → `memorisation`).

For each subject of a sample (all subjects up to `sample`, else `sample` subjects spread evenly
over the dataset's order), its label map is affinely aligned to the template like the training
subjects (`brainsynth.qa.memorisation.aligned_group_map`) and its highest mean Dice (6 tissue
groups) against every training subject is taken. Rule (docs/DATASETS.md, "Memorisation"):

    a subject is flagged when its closest-training Dice exceeds BOTH
      - the training subjects' own highest nearest-neighbour Dice (`trainingNearestNeighbourMax`:
        no training subject is that close to another one), and
      - the model's mean anatomy (z = 0, healthy) of the subject's sex, at the checked
        subjects' median age of that sex, aligned like the subjects, against its closest
        training subject (`meanAnatomyClosest`): the population mean is close to everyone, so
        only a subject closer than it is memorised-looking.

`status` is "flagged" (with the subject ids) when any subject is flagged, "pass" otherwise, and
"not-checked" (with the reason) when the training data are absent: never a pass by default.

May import `brainsynth.qa.memorisation`, `brainsynth.anatomy`, `brainsynth.model_io`, numpy,
nibabel.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

DEFAULT_SAMPLE = 12  # ~30 s per subject (its affine alignment) on a 2-core CPU
GroupMapFn = Callable[[NDArray[np.int32], NDArray[np.float64]], NDArray[np.int8]]


def pick_sample(n: int, sample: int) -> list[int]:
    """Row positions checked: all when n <= sample, else `sample` spread evenly (first and
    last included)."""
    if sample < 1:
        raise ValueError(f"memorisation sample must be at least 1 (got {sample})")
    if n <= sample:
        return list(range(n))
    return sorted({int(i) for i in np.rint(np.linspace(0, n - 1, sample))})


def not_checked(reason: str) -> dict[str, Any]:
    return {"status": "not-checked", "reason": reason, "flagged": []}


def mean_anatomy_labels(
    model_dir: Path, keys: set[tuple[str, int]]
) -> dict[tuple[str, int], NDArray[np.int32]]:
    """The model's mean anatomy (z = 0), healthy, as FreeSurfer labels on the template grid
    (OUTPUT_GRID, no ICV scaling), for each (sex, age)."""
    from brainsynth.anatomy import sample_label_indices
    from brainsynth.model_io import gains_for, load_model

    model, man = load_model(model_dir)
    k = man["shapeModel"]["components"]
    out = {}
    for sex, age in sorted(keys):
        cond = {"age": age, "sex": sex, "pathology": "none", "contrast": "T1w"}
        idx = sample_label_indices(model, np.zeros(k), gains_for(man, cond), 1.0)
        out[(sex, age)] = np.asarray(model.label_values[idx], np.int32)
    return out


def check(
    out: Path,
    rows: list[dict[str, Any]],
    data: Path | None,
    model_dir: Path,
    sample: int = DEFAULT_SAMPLE,
    reference: Any = None,
    to_template: GroupMapFn | None = None,
) -> dict[str, Any]:
    """The `memorisation` section of qa.json. `reference` (a TrainingReference) and
    `to_template` default to the real training subjects under `data` and the affine
    alignment; tests pass stubs."""
    import nibabel as nib

    from brainsynth.qa import memorisation as mem

    if not rows:
        return not_checked("the dataset has no subjects yet")
    if reference is None:
        if data is None:
            return not_checked("no data folder given (--data or BRAINSYNTH_DATA)")
        if not (Path(data) / "synthseg-label-maps").is_dir():
            return not_checked(
                f"training label maps not found: {Path(data) / 'synthseg-label-maps'}"
            )
        try:
            reference = mem.training_reference(Path(data))
        except (OSError, ValueError) as exc:
            return not_checked(f"training reference unavailable: {exc}")
    if to_template is None:
        ref_mask = reference.ref_mask

        def to_template(lab: NDArray[np.int32], aff: NDArray[np.float64]) -> NDArray[np.int8]:
            return mem.aligned_group_map(lab, aff, ref_mask)

    from brainsynth.common.grid import OUTPUT_GRID

    picked = [rows[i] for i in pick_sample(len(rows), sample)]
    ages: dict[str, int] = {}
    for sex in {str(r["sex"]) for r in picked}:
        ages[sex] = int(round(float(np.median([r["age"] for r in picked if r["sex"] == sex]))))
    # the mean anatomy goes through the same alignment as the subjects (like for like)
    baselines = {
        sex: reference.closest(to_template(lab, OUTPUT_GRID.affine))[0]
        for (sex, _), lab in mean_anatomy_labels(model_dir, set(ages.items())).items()
    }
    nn_max = reference.threshold
    subjects = []
    for r in picked:
        pid = str(r["participant_id"])
        seg = nib.Nifti1Image.from_filename(out / pid / "anat" / f"{pid}_dseg.nii.gz")
        groups = to_template(np.asarray(seg.dataobj, np.int32), np.asarray(seg.affine, float))
        dice, j = reference.closest(groups)
        base = baselines[str(r["sex"])]
        subjects.append(
            {
                "participant_id": pid,
                "closestTrainingDice": round(dice, 4),
                "closestTrainingSubject": reference.names[j],
                "meanAnatomyClosest": round(base, 4),
                "flagged": bool(dice > nn_max and dice > base),
            }
        )
    flagged = [s["participant_id"] for s in subjects if s["flagged"]]
    closest = [s["closestTrainingDice"] for s in subjects]
    return {
        "status": "flagged" if flagged else "pass",
        "flagged": flagged,
        "rule": "flagged when closestTrainingDice > trainingNearestNeighbourMax and > "
        "meanAnatomyClosest (the model's z = 0 anatomy of the subject's sex at the checked "
        "subjects' median age of that sex, aligned like the subjects, vs its closest "
        "training subject)",
        "meanAnatomyAge": ages,
        "method": "mean Dice over cortex, WM, ventricles, deep GM, hippocampus, cerebellum on "
        "the 2 mm template grid; dataset and training label maps affinely aligned to the "
        "template (brainsynth.qa.memorisation)",
        "sampled": len(subjects),
        "of": len(rows),
        "trainingSubjects": len(reference.maps),
        "trainingNearestNeighbourMax": round(nn_max, 4),
        "trainingNearestNeighbourMedian": round(float(np.median(reference.nn_dice)), 4),
        "closestTrainingDice": {
            "median": round(float(np.median(closest)), 4),
            "max": round(float(np.max(closest)), 4),
        },
        "subjects": subjects,
    }

"""Realism of a dataset sample (part of the QA report, `qa.json` → `realism`).

The realism benchmark's per-scan statistics (`brainsynth.qa.realism.stats.measure`, the same
code for real and synthetic scans) on a sample of the dataset's T1w images — healthy subjects
first (the benchmark's real set is healthy), spread evenly over the dataset, at most `sample` —
against the real IXI T1 scans listed in `<data>/ixi-t1-2mm-index.csv`. Each dataset image is
put on the real scans' footing as the benchmark does: 1 mm volumes block-averaged onto the 2 mm
grid, scaled so that the eroded-WM median lands on the real scans' median WM level and stored
as uint8 (`quantise`). Per statistic: real mean ± sd, dataset mean ± sd, and
z = (dataset mean − real mean) / real sd. Skipped, with the reason, when the data are absent.

May import `brainsynth.qa.realism` (data, stats, tissue), numpy, nibabel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_SAMPLE = 8


def not_checked(reason: str) -> dict[str, Any]:
    return {"status": "not-checked", "reason": reason}


def real_reference(data: Path) -> tuple[dict[str, list[float]], float]:
    """Every statistic of every real IXI scan, and the real scans' median WM level."""
    from brainsynth.qa.realism.data import load_real, read_index
    from brainsynth.qa.realism.stats import measure

    values: dict[str, list[float]] = {}
    levels = []
    for entry in read_index(data):
        scan = load_real(entry)
        levels.append(scan.wm_level)
        m = measure(scan.normalised(), scan.classes, scan.spacing, scan.affine)
        for k, v in m.values.items():
            values.setdefault(k, []).append(v)
    return values, float(np.median(levels))


def pick(rows: list[dict[str, Any]], sample: int) -> list[dict[str, Any]]:
    if sample < 1:
        raise ValueError(f"realism sample must be at least 1 (got {sample})")
    pool = [r for r in rows if r["pathology"] == "none"] or rows
    if len(pool) <= sample:
        return pool
    return [pool[int(i)] for i in sorted(set(np.rint(np.linspace(0, len(pool) - 1, sample))))]


def check(
    out: Path,
    rows: list[dict[str, Any]],
    data: Path | None,
    sample: int = DEFAULT_SAMPLE,
    reference: tuple[dict[str, list[float]], float] | None = None,
) -> dict[str, Any]:
    """The `realism` section of qa.json (`reference` defaults to the real scans in `data`)."""
    import nibabel as nib

    from brainsynth.common.tissue import classes_from_freesurfer
    from brainsynth.qa.realism.data import DataError, Scan, quantise, to_2mm
    from brainsynth.qa.realism.stats import STATISTICS, measure

    if not rows:
        return not_checked("the dataset has no subjects yet")
    if reference is None:
        if data is None:
            return not_checked("no data folder given (--data or BRAINSYNTH_DATA)")
        try:
            reference = real_reference(Path(data))
        except (DataError, OSError) as exc:
            return not_checked(f"real IXI scans unavailable: {exc}")
    real, wm_level = reference
    picked = pick(rows, sample)
    measured: dict[str, list[float]] = {}
    for r in picked:
        pid = str(r["participant_id"])
        anat = out / pid / "anat"
        img = nib.Nifti1Image.from_filename(anat / f"{pid}_T1w.nii.gz")
        seg = nib.Nifti1Image.from_filename(anat / f"{pid}_dseg.nii.gz")
        image = np.asarray(img.dataobj, np.float32)
        classes = classes_from_freesurfer(np.asarray(seg.dataobj, np.int32))
        affine = np.asarray(img.affine, np.float64)
        if float(np.sqrt((affine[:3, 0] ** 2).sum())) < 1.5:
            image, classes, affine = to_2mm(image, classes, affine)
        stored = quantise(image, classes, wm_level)
        scan = Scan(pid, "dataset", float(r["age"]), str(r["sex"]), stored, classes, affine)
        m = measure(scan.normalised(), scan.classes, scan.spacing, scan.affine)
        for k, v in m.values.items():
            measured.setdefault(k, []).append(v)
    table: dict[str, dict[str, Any]] = {}
    zvals: dict[str, float] = {}
    for name, (label, unit, group) in STATISTICS.items():
        rv, dv = np.asarray(real[name], float), np.asarray(measured[name], float)
        sd = float(rv.std(ddof=1)) if rv.size > 1 else float("nan")
        z = (float(dv.mean()) - float(rv.mean())) / sd if sd > 0 else None
        if z is not None:
            zvals[name] = z
        table[name] = {
            "label": label,
            "unit": unit,
            "group": group,
            "realMean": round(float(rv.mean()), 5),
            "realSd": round(sd, 5),
            "datasetMean": round(float(dv.mean()), 5),
            "datasetSd": round(float(dv.std(ddof=1)), 5) if dv.size > 1 else None,
            "z": None if z is None else round(z, 3),
        }
    zs = [abs(z) for z in zvals.values()]
    return {
        "status": "measured",
        "subjects": [str(r["participant_id"]) for r in picked],
        "realScans": len(next(iter(real.values()))),
        "realWmLevel": round(wm_level, 2),
        "method": "brainsynth.qa.realism.stats.measure on the T1w images (2 mm, uint8 at the "
        "real scans' median WM level) vs the real IXI T1s; z = (dataset mean - real mean) / "
        "real sd",
        "statistics": table,
        "beyond2Sd": [k for k, z in zvals.items() if abs(z) > 2],
        "medianAbsZ": round(float(np.median(zs)), 3) if zs else None,
    }

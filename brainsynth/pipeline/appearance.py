"""Per-label intensity models for T1w, T2w and FLAIR.

- T1w brain tissue: measured on the 42 real IXI T1 scans through their DLMUSE label maps
  (median and robust SD per tissue class, relative to white matter, and their change with age).
- Everything else (T2w, FLAIR, extra-cerebral tissue, lesions): MR signal equations with literature
  relaxation values at 1.5 T, normalised to white matter; documented as such in MODEL.md.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from brainsynth import contrasts as contrast_modules
from brainsynth import pathologies
from brainsynth.common.labels import LABEL_RANGES, is_pathology
from brainsynth.common.nifti import load_nifti
from brainsynth.pipeline.labels import LabelEntry
from brainsynth.schema import CONTRASTS

# group -> (T1 ms, T2 ms, proton density) — approximate literature values at 1.5 T.
RELAXATION: dict[str, tuple[float, float, float]] = {
    "background": (1.0, 1.0, 0.0),
    "wm": (650, 75, 0.70),
    "cortex": (1100, 95, 0.80),
    "deep-gm": (1000, 85, 0.78),
    "hippocampus": (1150, 100, 0.82),
    "amygdala": (1150, 100, 0.82),
    "cerebellum-gm": (1050, 95, 0.80),
    "cerebellum-wm": (680, 75, 0.70),
    "brainstem": (750, 80, 0.72),
    "ventricle": (4000, 1800, 1.0),
    "csf": (4000, 1800, 1.0),
    "vessel": (1200, 50, 0.15),
    "eye": (4000, 1500, 1.0),
    "muscle": (870, 47, 0.75),
    "soft": (900, 60, 0.70),
    "air": (1.0, 1.0, 0.0),
    "fat": (260, 80, 0.90),
    "dura": (1000, 60, 0.50),
    "bone": (1000, 5, 0.05),
    "marrow": (350, 90, 0.70),
    "other": (900, 80, 0.75),
}
# pathology label value -> relaxation, from each pathology module's labels
PATHOLOGY_RELAXATION: dict[int, tuple[float, float, float]] = {
    lab.value: lab.relaxation for lab in pathologies.all_labels()
}


def _signal(contrast: str, t1: float, t2: float, pd: float) -> float:
    """The contrast module's signal equation (brainsynth/contrasts/<id>.py)."""
    return contrast_modules.get(contrast).signal(t1, t2, pd)


# DLMUSE single-ROI name fragments -> our tissue group (first match wins)
_MUSE_GROUPS = [
    ("Ventricle", "ventricle"),
    ("Cerebellum_WM", "cerebellum-wm"),
    ("CerebellumExterior", "cerebellum-gm"),
    ("Cerebellar", "cerebellum-gm"),
    ("BrainStem", "brainstem"),
    ("Hippocampus", "hippocampus"),
    ("Amygdala", "amygdala"),
    ("Thalamus", "deep-gm"),
    ("Caudate", "deep-gm"),
    ("Putamen", "deep-gm"),
    ("Pallidum", "deep-gm"),
    ("Accumbens", "deep-gm"),
    ("WM", "wm"),
    ("CorpusCallosum", "wm"),
    ("Fornix", "wm"),
    ("InternalCapsule", "wm"),
    ("CSF", "csf"),
]


def _muse_group(name: str) -> str:
    for frag, group in _MUSE_GROUPS:
        if frag in name:
            return group
    return "cortex"


def measure_ixi_t1(data: Path) -> dict[str, dict[str, float]]:
    """Per tissue group: median ratio to WM, robust SD ratio, slope of the ratio per decade."""
    names: dict[int, str] = {}
    with (data / "CBICA-NiChart_Project/resources/MUSE/list_MUSE_single.csv").open() as f:
        for row in csv.DictReader(f):
            names[int(row["Index"])] = row["Name"]
    rows: list[tuple[float, dict[str, tuple[float, float]]]] = []
    with (data / "ixi-t1-2mm-index.csv").open() as f:
        for row in csv.DictReader(f):
            img = np.asarray(load_nifti(data / row["t1_path"]).dataobj, np.float32)
            seg = np.asarray(load_nifti(data / row["dlmuse_seg_path"]).dataobj).astype(int)
            groups: dict[str, list[NDArray[np.float32]]] = {}
            for idx in np.unique(seg):
                if idx == 0 or idx not in names:
                    continue
                groups.setdefault(_muse_group(names[idx]), []).append(img[seg == idx])
            # At 2 mm the lobar WM regions carry partial volume with cortex: the 75th centile of
            # WM voxels is a better estimate of pure white matter than their median.
            wm = float(np.percentile(np.concatenate(groups["wm"]), 75))
            stats = {}
            for g, vals in groups.items():
                v = np.concatenate(vals) / wm
                q1, q3 = np.percentile(v, [25, 75])
                stats[g] = (float(np.median(v)), float((q3 - q1) / 1.349))
            rows.append((float(row["age"]), stats))
    ages = np.array([a for a, _ in rows])
    out: dict[str, dict[str, float]] = {}
    for g in {k for _, s in rows for k in s}:
        sel = [i for i, (_, s) in enumerate(rows) if g in s]
        med = np.array([rows[i][1][g][0] for i in sel])
        sd = np.array([rows[i][1][g][1] for i in sel])
        slope = float(np.polyfit(ages[sel], med, 1)[0]) * 10 if len(sel) > 2 else 0.0
        out[g] = {
            "mean": float(np.median(med)),
            "sd": float(np.median(sd)),
            "slopePerDecade": slope,
            "n": len(sel),
        }
    return out


def appearance_tables(
    labels: list[LabelEntry], ixi: dict[str, dict[str, float]]
) -> dict[str, object]:
    contrasts: dict[str, dict[str, list[float]]] = {}
    slopes: list[float] = []
    for c in CONTRASTS:
        measured = contrast_modules.get(c).measured_on_ixi_t1
        wm_signal = _signal(c, *RELAXATION["wm"])
        means, sds = [], []
        for lab in labels:
            rel = PATHOLOGY_RELAXATION.get(lab["value"]) or RELAXATION.get(
                lab["group"], RELAXATION["other"]
            )
            m = _signal(c, *rel) / wm_signal
            sd = 0.04 * m
            g = lab["group"]
            if measured and g in ixi and not is_pathology(lab["value"], LABEL_RANGES):
                m, sd = ixi[g]["mean"], min(ixi[g]["sd"], 0.08)
                if g == "wm":  # pure white matter is the reference
                    m = 1.0
            if measured and g == "csf":  # DLMUSE has no sulcal CSF label: use ventricles
                m, sd = ixi["ventricle"]["mean"], min(ixi["ventricle"]["sd"], 0.08)
            means.append(round(float(m), 4))
            sds.append(round(float(max(sd, 0.01)), 4))
        contrasts[c] = {"mean": means, "sd": sds}
    for lab in labels:
        g = lab["group"]
        slopes.append(
            round(ixi[g]["slopePerDecade"], 5)
            if g in ixi and not is_pathology(lab["value"], LABEL_RANGES)
            else 0.0
        )
    return {
        "contrasts": contrasts,
        "ageSlopePerDecade": {
            c: {"mean": slopes} for c in CONTRASTS if contrast_modules.get(c).measured_on_ixi_t1
        },
        "partialVolumeSigmaVoxels": 0.6,
        "textureSigmaVoxels": 1.0,
        "biasFieldStrength": 0.12,
        "snr": 30,
        "measured": {"ixiT1": ixi},
    }

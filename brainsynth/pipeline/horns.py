"""Add step 7c (temporal horns, brainsynth/horns.py) to a model folder.

    python -m brainsynth.pipeline.horns [--model public/models/brainsynth-shape-v1]

Writes the manifest's `horns`: per sex and year of age (20-90), the factor f that takes the
model's own inferior-horn volume (steps 1-7, exact sampler, both sides) to the normative
median's change relative to 45 (`normative_table.csv`, DLMUSE):
f(age) = [N(age) / N(45)] / [M(age) / M(45)], where M(age) / M(45) is the model's own change,
the geometric mean over the mean individual (z = 0) and 7 random ones (the factor must hold
for random subjects, not only at z = 0), sampled every 10 years and at 45 and smoothed by a
quadratic in age through its log (the slit's voxel count jumps from age to age); and the
Alzheimer's factor A = 2 M_healthy / M_AD at 75 (female, severity 1, the Alzheimer's gains
applied; geometric mean over the same individuals), so that severity 1 doubles the horns of
the same individual (moderate-to-severe Alzheimer's disease vs age-matched controls: the
model card's picture).
Re-running does not touch steps 1-7b, the gains or the student (the step acts on labels).
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from brainsynth.anatomy import icv_scale, sample_label_indices
from brainsynth.model_io import gains_for, latents, load_model
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.schema import validate_manifest

AGES = list(range(20, 91))
KNOTS = list(range(20, 91, 10)) + [45]
KNOTS.sort()
INDIVIDUALS = 7  # random individuals besides the mean one
SEED = 20261206
SEXES = ("female", "male")
HORN_VALUES = (5, 44)
AD_TARGET = 2.0  # inferior horns x2 at severity 1 (MODEL.md, Alzheimer's disease)
AD_AGE = 75


def normative_horns(model_dir: Path) -> dict[str, dict[int, float]]:
    """Normative median inferior-horn volume (mL) per sex and year, from the model's table."""
    out: dict[str, dict[int, float]] = {s: {} for s in SEXES}
    with (model_dir / "normative_table.csv").open() as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        for row in rows:
            out[row["sex"]][int(row["age"])] = float(row["inf-lat-ventricles"])
    return out


def model_horn_voxels(man: dict[str, Any], model: Any, cond: dict[str, Any], seed: int) -> int:
    """Inferior-horn voxels (both sides) of individual `seed` (-1: the mean individual, z = 0)
    at these conditions, steps 1-7 with the exact sampler."""
    k = int(man["shapeModel"]["components"])
    z, z_icv = (np.zeros(k), 0.0) if seed < 0 else latents(man, seed)
    idx = sample_label_indices(model, z, gains_for(man, cond), icv_scale(man, cond["sex"], z_icv))
    values = model.label_values[idx]
    return int(np.isin(values, HORN_VALUES).sum())


def horn_parameters(model_dir: Path, log: Any = print) -> dict[str, Any]:
    model, man = load_model(model_dir)
    norm = normative_horns(model_dir)
    seeds = [-1, *(int(s) for s in np.random.default_rng(SEED).integers(1, 2**31, INDIVIDUALS))]
    factor: dict[str, list[float]] = {}
    sampled: dict[str, Any] = {}
    ages = np.asarray(AGES, np.float64)
    for sex in SEXES:
        counts = np.array(
            [
                [
                    model_horn_voxels(man, model, {"age": a, "sex": sex, "pathology": "none"}, s)
                    for a in KNOTS
                ]
                for s in seeds
            ],
            np.float64,
        )
        if counts.min() <= 0:
            raise ValueError(f"an individual has no inferior horns at some age ({sex})")
        sampled[sex] = counts.astype(int).tolist()
        # each individual's own change relative to 45, averaged (geometric mean) over the
        # individuals, then smoothed by a quadratic in age (the slit's voxel count jumps)
        i45 = KNOTS.index(45)
        log_ratio = np.log(counts / counts[:, i45 : i45 + 1]).mean(axis=0)
        coef = np.polyfit(np.asarray(KNOTS, np.float64), log_ratio, 2)
        trend = np.exp(np.polyval(coef, ages) - np.polyval(coef, 45.0))
        n45 = norm[sex][45]
        factor[sex] = [round((norm[sex][a] / n45) / float(trend[i]), 4) for i, a in enumerate(AGES)]
        log(f"  {sex}: mean change of the horns vs 45 at {KNOTS}: {np.exp(log_ratio).round(2)}")
    healthy = [
        model_horn_voxels(man, model, {"age": AD_AGE, "sex": "female", "pathology": "none"}, s)
        for s in seeds
    ]
    ad = [
        model_horn_voxels(
            man,
            model,
            {"age": AD_AGE, "sex": "female", "pathology": "alzheimers", "adSeverity": 1.0},
            s,
        )
        for s in seeds
    ]
    ad_change = float(np.exp(np.mean(np.log(np.asarray(ad, float) / np.asarray(healthy, float)))))
    return {
        "ages": AGES,
        "factor": factor,
        "adFactor": round(AD_TARGET / ad_change, 4),
        "source": (
            "brainsynth.pipeline.horns: normative inferior-horn volume relative to 45 "
            "(normative_table.csv) over the model's own (mean change of the mean individual and "
            f"{INDIVIDUALS} random ones); Alzheimer's: x{AD_TARGET:g} at severity 1 "
            f"({AD_AGE} y, female)"
        ),
        "sampledVoxels": {
            "knots": KNOTS,
            "seeds": seeds,
            **sampled,
            "adHealthy": healthy,
            "adSeverity1": ad,
        },
    }


def add_horns(model_dir: Path, log: Any = print) -> dict[str, Any]:
    params = horn_parameters(model_dir, log)
    path = model_dir / "manifest.json"
    man = json.loads(path.read_text())
    man["horns"] = params
    validate_manifest(man)
    path.write_text(json.dumps(man, indent=1) + "\n")
    return params


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    a = ap.parse_args(argv)
    if not (a.model / "manifest.json").is_file():
        ap.error(f"{a.model} has no manifest.json (build the model first)")
    p = add_horns(a.model)
    print(json.dumps({k: p[k] for k in ("adFactor", "sampledVoxels")}))


if __name__ == "__main__":
    main()

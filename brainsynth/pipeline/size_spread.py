"""Fit the spread of head size (`calibration.icvLogSd`) to the normative spread of brain volume.

    python -m brainsynth.pipeline.size_spread --data ../shared/data [--model DIR]
        [--individuals 40]

A random individual's brain is the shape model's (latents z, its folding, its step 7c size)
scaled to a head of ICV `icvMl[sex] * exp(icvLogSd * z_icv)` (MODEL_FORMAT §3, step 5): its
brain volume varies with the shape *and* with the head. The first model took icvLogSd = 0.08
from the literature, on top of the shape model's own variation, so the model's people varied
more in size than real ones (measured, 40 individuals at 45: brain-volume log-sd ~0.085 expected,
normative 0.072-0.076; the share of samples inside the normative 25-75 band of the regional
volumes was 0.38, real people 0.50).

Fit: the target is the normative between-subject log-sd of total brain volume (NiChart DLMUSE
centiles, `TotalBrain`, cognitively normal adults, by sex, ages 40-90 every 5 years: log-sd =
ln(centile_75 / centile_25) / (2 * 0.6745), a normal's interquartile range). The model's own
log-sd without the head-size term (z_icv = 0) is measured on `--individuals` random individuals
(their latents, folding and size latent; steps 1-7c exact on the 2 mm grid) at ages 45, 60 and
75, per sex: the brain is every region of brain tissue (cortex, cerebral WM, deep GM,
hippocampus, amygdala, cerebellum, brainstem: DLMUSE's TotalBrain, without ventricles and
CSF). The head-size term is independent of the shape and scales every volume by the same
factor, so the two variances add:

    icvLogSd = sqrt(max(mean(target^2) - mean(shape^2), 0))   (means over sexes and ages)

Written into the manifest's `calibration.icvLogSd`, with what it was fitted on in
`calibration.icvLogSdFit`. Run it before `pipeline.sizing` (whose individual ventricle spread is
the normative one less the model's own, which includes the head-size term).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from brainsynth.anatomy import icv_scale, region_volumes, sample_folded_indices
from brainsynth.model_io import cortical_depth_mm, gains_for, latents, load_model, size_latent
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline.normative import AGES, CENTILES, spread_log_sd
from brainsynth.schema import validate_manifest

SEED = 20261206  # the individuals' seeds (not the QA's: seeds 7000+ check the fit)
INDIVIDUALS = 40
TARGET_AGES = tuple(range(40, 91, 5))
MODEL_AGES = (45, 60, 75)
SEXES = ("female", "male")
# the model's regions of brain tissue (DLMUSE TotalBrain: grey and white matter, cerebellum,
# brainstem; no ventricles, no CSF)
BRAIN_REGIONS = (
    "cortex",
    "cerebral-wm",
    "deep-gm",
    "hippocampus",
    "amygdala",
    "cerebellum",
    "brainstem",
)


def normative_log_sd(data: Path) -> dict[str, dict[int, float]]:
    """sex -> age -> log-sd of total brain volume from the normative 25th/75th centiles
    (`normative.spread_log_sd` of DLMUSE's TotalBrain)."""
    path = data / CENTILES
    if not path.is_dir():
        raise FileNotFoundError(f"{path} not found (is --data the shared data folder?)")
    try:
        spread = spread_log_sd(data, {"brain": ["TotalBrain"]})
    except KeyError as e:
        raise ValueError(f"{path}: no TotalBrain centiles for {e}") from None
    ages = [int(a) for a in AGES]
    out: dict[str, dict[int, float]] = {}
    for sex, regions in spread.items():
        out[sex] = {a: float(regions["brain"][ages.index(a)]) for a in TARGET_AGES}
        bad = [a for a, v in out[sex].items() if not v > 0]
        if bad:
            raise ValueError(f"{path}: {sex} TotalBrain centiles not ordered at ages {bad}")
    return out


def brain_volume(volumes: dict[str, float]) -> float:
    return float(sum(volumes[r] for r in BRAIN_REGIONS))


def model_log_sd(
    model_dir: Path, individuals: int, log: Any = print
) -> dict[str, dict[int, float]]:
    """sex -> age -> log-sd of the model's brain volume over random individuals without the
    head-size term (z_icv = 0): the shape model's, folding's and step 7c's own spread."""
    if individuals < 2:
        raise ValueError("at least 2 individuals are needed for a spread")
    model, man = load_model(model_dir)
    depth = cortical_depth_mm(model_dir, man)
    seeds = [int(s) for s in np.random.default_rng(SEED).integers(1, 2**31, individuals)]
    out: dict[str, dict[int, float]] = {}
    for sex in SEXES:
        scale = icv_scale(man, sex, 0.0)
        out[sex] = {}
        for age in MODEL_AGES:
            cond = {"age": float(age), "sex": sex, "pathology": "none"}
            gains = gains_for(man, cond)
            logs = []
            for seed in seeds:
                z, _ = latents(man, seed)
                idx = sample_folded_indices(
                    model, man, depth, z, gains, seed, scale, cond, size_latent(man, seed)
                )
                logs.append(math.log(brain_volume(region_volumes(model, idx))))
            out[sex][age] = float(np.std(logs, ddof=1))
            log(f"  {sex} {age}: the model's own brain-volume log-sd {out[sex][age]:.4f}")
    return out


def fit(target: dict[str, dict[int, float]], shape: dict[str, dict[int, float]]) -> float:
    """icvLogSd from the two spreads (module docstring)."""
    t2 = float(np.mean([v * v for s in target.values() for v in s.values()]))
    s2 = float(np.mean([v * v for s in shape.values() for v in s.values()]))
    return math.sqrt(max(t2 - s2, 0.0))


def fit_model(
    model_dir: Path, data: Path, individuals: int = INDIVIDUALS, log: Any = print
) -> dict[str, Any]:
    target = normative_log_sd(data)
    shape = model_log_sd(model_dir, individuals, log)
    value = fit(target, shape)
    path = model_dir / "manifest.json"
    man = json.loads(path.read_text())
    cal = man["calibration"]
    previous = cal.get("icvLogSdFit", {}).get("previous", cal["icvLogSd"])
    cal["icvLogSd"] = round(value, 4)
    cal["icvLogSdFit"] = {
        "source": "brainsynth.pipeline.size_spread: NiChart DLMUSE centiles (TotalBrain, CN, "
        "SBIA licence) and the model's own spread without the head-size term",
        "targetLogSd": {s: round(float(np.mean(list(v.values()))), 4) for s, v in target.items()},
        "targetAges": list(TARGET_AGES),
        "shapeLogSd": {s: round(float(np.mean(list(v.values()))), 4) for s, v in shape.items()},
        "shapeAges": list(MODEL_AGES),
        "individuals": individuals,
        "previous": previous,
    }
    validate_manifest(man)
    path.write_text(json.dumps(man, indent=1) + "\n")
    log(f"icvLogSd {previous} -> {cal['icvLogSd']}")
    return dict(cal["icvLogSdFit"], icvLogSd=cal["icvLogSd"])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the shared data folder")
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--individuals", type=int, default=INDIVIDUALS)
    a = ap.parse_args(argv)
    if not a.data.is_dir():
        ap.error(f"{a.data} is not a folder (is --data the shared data folder?)")
    if not (a.model / "manifest.json").is_file():
        ap.error(f"{a.model} has no manifest.json (build the model first)")
    if a.individuals < 2:
        ap.error("--individuals must be at least 2")
    print(json.dumps(fit_model(a.model, a.data, a.individuals)))


if __name__ == "__main__":
    main()

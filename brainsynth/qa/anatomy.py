"""Conditioning of random subjects, with their own folding (issue 10's anatomy targets).

    python -m brainsynth.qa.anatomy [--seeds 50] [--ages 40,45,...,90] [--write]

For each sex, `seeds` random individuals (latents and folding from seed 7000 + i) are sampled
at every age (steps 1-7 exact, 7b folding, 7c temporal horns, ICV scaling; no pathology, no
contrast). Per region:
- the mean over seeds of each subject's volume ratio to its own volume at 45, against the
  normative median ratio (target: within 5 % at every age 40-90);
- the spread of absolute volumes across seeds at an age (coefficient of variation), beside the
  normative 25-75 band's width relative to the median where the dataset QA's centile bands
  (`brainsynth/datasets/centile_band.csv`) have the region, and the fraction of samples whose
  ratio to the normative median falls inside that band (real people: 50 %).
The calibration itself (pipeline.report) is at z = 0 without folding; this is the check that
the population drawn in the app follows the normative data.

Alzheimer's disease (`--ad-ages`, default 65, 75, 85): the same seeds at severity 1 against
themselves healthy at the same age, per region: the mean, smallest and largest volume ratio,
beside the model card's change at severity 1 (hippocampus -25 %, amygdala -20 %, inferior
horns x2, lateral ventricles x1.4, cortex -5 %).
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.anatomy import icv_scale, region_volumes, sample_folded_indices
from brainsynth.common.rng import normals
from brainsynth.model_io import cortical_depth_mm, gains_for, load_model
from brainsynth.pathologies.alzheimers import SEVERITY1_CHANGE
from brainsynth.paths import DEFAULT_MODEL_DIR

DEFAULT_AGES = (40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90)
DEFAULT_AD_AGES = (65, 75, 85)
# the model card's Alzheimer's picture at severity 1 (docs/MODEL.md, Method 6): volume ratio
# to the same individual healthy
AD_TARGETS = SEVERITY1_CHANGE
BAND_FILE = Path(__file__).resolve().parents[1] / "datasets" / "centile_band.csv"


def normative(model_dir: Path) -> dict[str, dict[int, dict[str, float]]]:
    rows = [r for r in (model_dir / "normative_table.csv").read_text().splitlines()]
    data = [r for r in rows if r and not r.startswith("#")]
    out: dict[str, dict[int, dict[str, float]]] = {}
    for row in csv.DictReader(data):
        sex = row.pop("sex")
        age = int(float(row.pop("age")))
        out.setdefault(sex, {})[age] = {k: float(v) for k, v in row.items()}
    return out


def bands() -> dict[tuple[str, str, int], tuple[float, float]]:
    """(sex, region, age) -> (25th, 75th centile) / median, where the dataset QA has them."""
    out: dict[tuple[str, str, int], tuple[float, float]] = {}
    if not BAND_FILE.is_file():
        return out
    lines = [ln for ln in BAND_FILE.read_text().splitlines() if ln and not ln.startswith("#")]
    for row in csv.DictReader(lines):
        try:
            key = (row["sex"], row["region"], int(float(row["age"])))
            out[key] = (float(row["ratio25"]), float(row["ratio75"]))
        except (KeyError, ValueError):
            continue
    return out


def population_fraction(
    volumes: NDArray[np.float64],
    z_icv: NDArray[np.float64],
    icv_log_sd: float,
    band: tuple[float, float],
    n_heads: int = 201,
) -> float:
    """The share inside `band` (ratios to the median) of the population these subjects stand
    for: each subject's head-size factor exp(icv_log_sd z_icv) divided out (step 5 scales every
    volume by it exactly, up to voxels) and replaced by every head size of a population (n_heads
    normal quantiles). The subjects' own head sizes are a sample (50 seeds: z_icv sd 1.15, not
    1) whose chance spread would otherwise move the share; their shapes stay as drawn."""
    shape = np.log(np.asarray(volumes, np.float64)) - icv_log_sd * np.asarray(z_icv, np.float64)
    q = NormalDist().inv_cdf
    heads = np.array([q((j + 0.5) / n_heads) for j in range(n_heads)]) * icv_log_sd
    pop = (shape[:, None] + heads[None, :]).ravel()
    rel = np.exp(pop - np.median(pop))
    return float(np.mean((rel >= band[0]) & (rel <= band[1])))


def _volumes(
    model: Any,
    man: dict[str, Any],
    depth: Any,
    z: Any,
    seed: int,
    scale: float,
    z_size: float,
    cond: dict[str, Any],
) -> dict[str, float]:
    """Regional volumes of one subject (steps 1-7, 7b, 7c with its size latent) at the
    conditions."""
    idx = sample_folded_indices(
        model, man, depth, z, gains_for(man, cond), seed, scale, cond, z_size
    )
    return region_volumes(model, idx)


def evaluate(
    model_dir: Path,
    n_seeds: int = 50,
    ages: tuple[int, ...] = DEFAULT_AGES,
    folding: bool = True,
    ad_ages: tuple[int, ...] = DEFAULT_AD_AGES,
) -> dict[str, Any]:
    model, man = load_model(model_dir)
    depth = cortical_depth_mm(model_dir, man) if folding else None
    norm = normative(model_dir)
    band = bands()
    icv_sd = float(man["calibration"]["icvLogSd"])
    k = man["shapeModel"]["components"]
    regions = [r for r in model.region_names if r in next(iter(norm["female"].values()))]
    if 45 not in ages:
        ages = tuple(sorted({*ages, 45}))
    rows: list[dict[str, Any]] = []
    ad_rows: list[dict[str, Any]] = []
    # z, z_icv, the size latent (model_io.size_latent) of each seed, the same for both sexes
    lats = [normals(7000 + s, k + 2) for s in range(n_seeds)]
    z_icvs = [float(lat[k]) for lat in lats]
    for sex in ("female", "male"):
        vols: dict[int, list[dict[str, float]]] = {a: [] for a in ages}
        ad_vols: dict[int, list[tuple[dict[str, float], dict[str, float]]]] = {
            a: [] for a in ad_ages
        }
        for s, lat in enumerate(lats):
            seed = 7000 + s
            z, z_icv = lat[:k], z_icvs[s]
            subject = (model, man, depth, z, seed, icv_scale(man, sex, z_icv), float(lat[k + 1]))
            healthy: dict[int, dict[str, float]] = {}
            for age in ages:
                healthy[age] = _volumes(*subject, {"age": age, "sex": sex, "pathology": "none"})
                vols[age].append(healthy[age])
            for age in ad_ages:
                cond = {"age": age, "sex": sex, "pathology": "none"}
                h = healthy[age] if age in healthy else _volumes(*subject, cond)
                ad = _volumes(*subject, {**cond, "pathology": "alzheimers", "adSeverity": 1.0})
                ad_vols[age].append((h, ad))
        for age in ad_ages:
            for r in AD_TARGETS:
                ad_ratio = np.array([a[r] / h[r] for h, a in ad_vols[age]])
                ad_row: dict[str, Any] = {
                    "sex": sex,
                    "age": age,
                    "region": r,
                    "meanRatio": round(float(ad_ratio.mean()), 4),
                    "minRatio": round(float(ad_ratio.min()), 4),
                    "maxRatio": round(float(ad_ratio.max()), 4),
                }
                if r in AD_TARGETS:
                    ad_row["target"] = AD_TARGETS[r]
                ad_rows.append(ad_row)
        for age in ages:
            for r in regions:
                ratio = [v[r] / v45[r] for v, v45 in zip(vols[age], vols[45], strict=True)]
                n_ratio = norm[sex][age][r] / norm[sex][45][r]
                absolute = np.array([v[r] for v in vols[age]])
                row: dict[str, Any] = {
                    "sex": sex,
                    "age": age,
                    "region": r,
                    "meanRatioTo45": round(float(np.mean(ratio)), 4),
                    "normativeRatioTo45": round(n_ratio, 4),
                    "error": round(float(np.mean(ratio)) / n_ratio - 1, 4),
                    "cv": round(float(absolute.std() / absolute.mean()), 4),
                }
                b = band.get((sex, r, age))
                if b:
                    rel = absolute / np.median(absolute)
                    row["normativeBand"] = [round(b[0], 3), round(b[1], 3)]
                    row["fractionInBand"] = round(float(np.mean((rel >= b[0]) & (rel <= b[1]))), 3)
                    row["fractionInBandPopulation"] = round(
                        population_fraction(absolute, np.asarray(z_icvs), icv_sd, b), 3
                    )
                rows.append(row)
    errs = [abs(r["error"]) for r in rows if r["age"] != 45]
    by_region = {
        r: max(abs(x["error"]) for x in rows if x["region"] == r and x["age"] != 45)
        for r in regions
    }
    in_band = [r["fractionInBand"] for r in rows if "fractionInBand" in r]
    in_band_pop = [r["fractionInBandPopulation"] for r in rows if "fractionInBand" in r]
    alzheimers: dict[str, Any] = {
        "method": "the same seeds at Alzheimer's severity 1 vs healthy, same age and sex: "
        "volume ratio per region (mean, min, max over seeds); target: the model card's change",
        "ages": list(ad_ages),
        "meanRatioRange": {
            r: [
                min(x["meanRatio"] for x in ad_rows if x["region"] == r),
                max(x["meanRatio"] for x in ad_rows if x["region"] == r),
            ]
            for r in AD_TARGETS
        }
        if ad_rows
        else {},
        "targets": AD_TARGETS,
        "rows": ad_rows,
    }
    return {
        "method": "random subjects (latents and folding of seeds 7000+i), ICV-scaled, steps 1-7 "
        "+ 7b + 7c (label-level sizing of every structure in the manifest's sizing, with each "
        "subject's size latent); "
        "each subject's regional volume ratio to itself at 45, mean over seeds, vs the "
        "normative median ratio; spread of absolute volumes across seeds",
        "seeds": n_seeds,
        "folding": depth is not None,
        "ages": list(ages),
        "maxAbsError": round(max(errs), 4),
        "maxAbsErrorByRegion": {k2: round(v, 4) for k2, v in by_region.items()},
        "target": 0.05,
        "medianFractionInNormativeBand": round(float(np.median(in_band)), 3) if in_band else None,
        "medianFractionInNormativeBandPopulation": (
            round(float(np.median(in_band_pop)), 3) if in_band_pop else None
        ),
        # the head-size latents of these seeds: their SD scales the volumes' spread (and so the
        # share inside the band) by chance; a population has SD 1
        "zIcvSampleSd": round(float(np.std(z_icvs, ddof=1)), 3) if len(z_icvs) > 1 else None,
        "rows": rows,
        "alzheimers": alzheimers,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--ages", default=",".join(map(str, DEFAULT_AGES)))
    ap.add_argument("--no-folding", action="store_true", help="steps 1-7 only (comparison)")
    ap.add_argument(
        "--ad-ages",
        default=",".join(map(str, DEFAULT_AD_AGES)),
        help="ages of the Alzheimer's severity-1 report ('' for none)",
    )
    ap.add_argument("--write", action="store_true", help="store in manifest metrics.anatomy")
    args = ap.parse_args(argv)
    if args.seeds < 2:
        raise SystemExit("--seeds must be at least 2")
    try:
        ages = tuple(int(a) for a in args.ages.split(","))
    except ValueError:
        raise SystemExit(
            f"--ages must be comma-separated whole years (got {args.ages!r})"
        ) from None
    try:
        ad_ages = tuple(int(a) for a in args.ad_ages.split(",") if a.strip())
    except ValueError:
        raise SystemExit(
            f"--ad-ages must be comma-separated whole years (got {args.ad_ages!r})"
        ) from None
    if any(not 20 <= a <= 90 for a in ages):
        raise SystemExit(f"--ages must lie within the model's 20-90 years (got {args.ages!r})")
    if any(not 20 <= a <= 90 for a in ad_ages):
        raise SystemExit(
            f"--ad-ages must lie within the model's 20-90 years (got {args.ad_ages!r})"
        )
    res = evaluate(args.model, args.seeds, ages, folding=not args.no_folding, ad_ages=ad_ages)
    summary = {k: v for k, v in res.items() if k not in ("rows", "alzheimers")}
    summary["alzheimers"] = {k: v for k, v in res["alzheimers"].items() if k != "rows"}
    print(json.dumps(summary, indent=1))
    for r in res["rows"]:
        print(
            f"  {r['sex']:6} {r['age']} {r['region']:24} ratio {r['meanRatioTo45']:.3f} "
            f"vs {r['normativeRatioTo45']:.3f} ({100 * r['error']:+.1f} %) cv {r['cv']:.3f}"
            + (
                f" in 25-75 band {r['fractionInBand']:.2f}"
                f" (population {r['fractionInBandPopulation']:.2f})"
                if "fractionInBand" in r
                else ""
            )
        )
    for r in res["alzheimers"]["rows"]:
        target = f" (target {r['target']:.2f})" if "target" in r else ""
        print(
            f"  AD sev. 1 {r['sex']:6} {r['age']} {r['region']:24} x{r['meanRatio']:.3f} "
            f"[{r['minRatio']:.3f}-{r['maxRatio']:.3f}]{target}"
        )
    if args.write:
        path = args.model / "manifest.json"
        man = json.loads(path.read_text())
        # the Alzheimer's rows are few (sex x age x region): kept; the age rows are not
        man.setdefault("metrics", {})["anatomy"] = {k: v for k, v in res.items() if k != "rows"}
        path.write_text(json.dumps(man, indent=1) + "\n")


if __name__ == "__main__":
    main()

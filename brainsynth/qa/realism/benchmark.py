"""The benchmark run: measure the real set and its synthetic twins, compare, classify."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth import __version__
from brainsynth.qa.realism import classify, contrast
from brainsynth.qa.realism.data import MODEL_DIR, Scan, load_real, read_index, synthetic_twin
from brainsynth.qa.realism.stats import STATISTICS, Measured, histogram_distance, measure

AGE_NEIGHBOURS = 5  # real scans nearest in age used as the histogram reference
SET_LABELS = {"synthetic-2mm": "2 mm teacher (= browser)", "synthetic-1mm": "1 mm teacher → 2 mm"}


@dataclass
class ScanResult:
    scan: Scan
    measured: Measured
    w1: float = float("nan")  # median W1 to the age-matched real scans


@dataclass
class Results:
    real: list[ScanResult]
    synthetic: dict[str, list[ScanResult]]  # kind -> twins, row i is the twin of real[i]
    summary: dict[str, Any] = field(default_factory=dict)
    contrast_slices: contrast.Slices = field(default_factory=dict)  # T2w/FLAIR mosaic only


def _progress(msg: str) -> None:
    print(msg, flush=True)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def select_subset(n_total: int, subset: int | None, ages: list[float]) -> list[int]:
    """All scans, or `subset` of them spread evenly over the age range (sorted by age)."""
    if subset is None or subset >= n_total:
        return list(range(n_total))
    if subset < 4:
        raise ValueError(f"subset must be at least 4 (got {subset})")
    by_age = np.argsort(ages)
    pick = np.unique(np.rint(np.linspace(0, n_total - 1, subset)).astype(int))
    return sorted(int(by_age[i]) for i in pick)


def age_matched_w1(target: ScanResult, reals: list[ScanResult], exclude: int) -> float:
    """Median W1 of `target`'s brain histogram to the AGE_NEIGHBOURS real scans nearest in age,
    excluding real scan `exclude` (itself, or the twin's real scan)."""
    others = [i for i in range(len(reals)) if i != exclude]
    others.sort(key=lambda i: abs(reals[i].scan.age - target.scan.age))
    ref = others[:AGE_NEIGHBOURS]
    return float(
        np.median(
            [
                histogram_distance(
                    target.measured.brain_intensities, reals[i].measured.brain_intensities
                )
                for i in ref
            ]
        )
    )


def matrix(results: list[ScanResult], names: list[str]) -> NDArray[np.float64]:
    return np.array([[r.measured.values[n] for n in names] for r in results], np.float64)


def z_score(value: float, real: NDArray[np.float64]) -> float | None:
    """(value - real mean) / real sd; None where the real values are all equal (no spread to
    measure against) and the value differs, 0 where it does not."""
    sd = float(real.std(ddof=1)) if real.size > 1 else 0.0
    if sd > 0:
        return (value - float(real.mean())) / sd
    return 0.0 if value == float(real.mean()) else None


def compare_statistics(
    real: list[ScanResult], synthetic: dict[str, list[ScanResult]]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in [*STATISTICS, "histogramW1"]:
        rv = np.array([r.w1 if name == "histogramW1" else r.measured.values[name] for r in real])
        row: dict[str, Any] = {
            "realMean": float(rv.mean()),
            "realSd": float(rv.std(ddof=1)),
            "realMedian": float(np.median(rv)),
        }
        for kind, rs in synthetic.items():
            sv = np.array([r.w1 if name == "histogramW1" else r.measured.values[name] for r in rs])
            row[kind] = {
                "mean": float(sv.mean()),
                "sd": float(sv.std(ddof=1)) if sv.size > 1 else 0.0,
                "median": float(np.median(sv)),
                "z": z_score(float(sv.mean()), rv),
            }
        out[name] = row
    return out


def run(
    data: Path,
    subset: int | None = None,
    teacher_1mm: bool = False,
    base_seed: int = 20261202,
    model_dir: Path = MODEL_DIR,
    device: str = "numpy",
    t2_flair: bool = True,
    chance_repeats: int = 10,
    log: Any = _progress,
) -> Results:
    t0 = time.perf_counter()
    entries = read_index(data)
    chosen = select_subset(len(entries), subset, [e.age for e in entries])
    entries = [entries[i] for i in chosen]
    seeds = np.random.default_rng(base_seed).integers(0, 2**32, size=len(entries), dtype=np.uint64)
    kinds = ["synthetic-2mm"] + (["synthetic-1mm"] if teacher_1mm else [])
    real: list[ScanResult] = []
    synthetic: dict[str, list[ScanResult]] = {k: [] for k in kinds}
    timing = {"real": 0.0} | {k: 0.0 for k in kinds}
    for i, e in enumerate(entries):
        t = time.perf_counter()
        r = load_real(e)
        real.append(ScanResult(r, measure(r.normalised(), r.classes, r.spacing, r.affine)))
        timing["real"] += time.perf_counter() - t
        for kind in kinds:
            t = time.perf_counter()
            s = synthetic_twin(
                r, int(seeds[i]), 1.0 if kind == "synthetic-1mm" else 2.0, model_dir, device
            )
            synthetic[kind].append(
                ScanResult(s, measure(s.normalised(), s.classes, s.spacing, s.affine))
            )
            timing[kind] += time.perf_counter() - t
        log(f"[{i + 1}/{len(entries)}] {e.name} age {e.age:.0f} {e.sex}")
    for i, rr in enumerate(real):
        rr.w1 = age_matched_w1(rr, real, i)
        for kind in kinds:
            synthetic[kind][i].w1 = age_matched_w1(synthetic[kind][i], real, i)
    t = time.perf_counter()
    names = list(STATISTICS)
    appearance = [n for n in names if STATISTICS[n][2] == "appearance"]
    x_real = matrix(real, names)
    classifiers: dict[str, Any] = {
        "features": names,
        "appearanceFeatures": appearance,
        "method": classify.__doc__.strip().split("\n\n")[0] if classify.__doc__ else "",
    }
    for kind in kinds:
        x_syn = matrix(synthetic[kind], names)
        classifiers[kind] = {
            "allStatistics": classify.real_vs_synthetic(x_real, x_syn),
            "appearanceOnly": classify.real_vs_synthetic(
                matrix(real, appearance), matrix(synthetic[kind], appearance)
            ),
        }
    classifiers["chanceControl"] = {
        "allStatistics": classify.chance_control(x_real, chance_repeats),
        "appearanceOnly": classify.chance_control(matrix(real, appearance), chance_repeats),
    }
    timing["classifiers"] = time.perf_counter() - t
    t2: dict[str, Any] | None = None
    slices: contrast.Slices = {}
    if t2_flair:
        t = time.perf_counter()
        log("T2w/FLAIR contrast ratios")
        rc = contrast.real_cases(data, slices)
        sc = contrast.synthetic_cases(model_dir, device=device, slices=slices)
        rows = contrast.compare(rc, sc)
        t2 = {
            "method": contrast.__doc__.strip() if contrast.__doc__ else "",
            "real": rc,
            "synthetic": sc,
            "comparison": rows,
            "insideRealRange": sum(r["inside"] for r in rows),
            "ratiosCompared": len(rows),
        }
        timing["t2Flair"] = time.perf_counter() - t
    from brainsynth.model_io import load_model

    _, man = load_model(model_dir)
    summary: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "label": "the model as it is now",
        "model": {"id": man["id"], "version": man["version"]},
        "softwareVersion": __version__,
        "gitCommit": _git_commit(),
        "command": "python -m brainsynth.qa.realism --data ../shared/data"
        + (f" --subset {subset}" if subset else "")
        + (" --teacher-1mm" if teacher_1mm else ""),
        "nReal": len(real),
        "sets": {k: SET_LABELS[k] for k in kinds},
        "baseSeed": base_seed,
        "scans": [
            {"name": r.scan.name, "age": r.scan.age, "sex": r.scan.sex, "seed": int(seeds[i])}
            for i, r in enumerate(real)
        ],
        "histogramReference": (
            f"median W1 to the {AGE_NEIGHBOURS} real scans nearest in age "
            "(excluding the scan itself / the twin's real scan)"
        ),
        "statistics": compare_statistics(real, synthetic),
        "statisticLabels": {
            k: {"label": v[0], "unit": v[1], "group": v[2]} for k, v in STATISTICS.items()
        }
        | {
            "histogramW1": {
                "label": "whole-brain histogram W1 to age-matched real scans (median)",
                "unit": "WM",
                "group": "appearance",
            }
        },
        "classifiers": classifiers,
        "t2Flair": t2,
        "perScan": {
            "real": [r.measured.values | {"histogramW1": r.w1} for r in real],
            **{
                k: [r.measured.values | {"histogramW1": r.w1} for r in rs]
                for k, rs in synthetic.items()
            },
        },
        "wallSeconds": timing | {"total": time.perf_counter() - t0},
    }
    return Results(real, synthetic, summary, slices)

"""Fit the subject's texture gain (`appearance.textureGain`) *through the renderer* to the 42
real IXI T1s: how the fine-scale texture's amplitude changes with age and varies between people.

    python -m brainsynth.pipeline.texture_gain_fit --data ../shared/data [--model DIR] [--twins 16]

Why: the real scans' fine-scale residual - the image minus its Gaussian blur (sigma 1 voxel),
over the WM median - grows with age, by about 6 % a decade in the white matter (the cortex and
deep grey matter alike: the tissue's signal falls with age against a noise and texture that do
not), and it varies between scans of one age by about 11 % (SD of its log about the age line).
The renderer's texture had one amplitude per label for everyone: its twins' residual was flat
with age and 8 x less varied, and the realism benchmark's statistics that follow the fine scale
(the WM and cortex gradients, the high/low-frequency power, the GM/WM edge width, the image
isosurface) neither aged nor varied like the real ones. The gain multiplies every label's SD
(MODEL_FORMAT §5 step 1): g = exp(perDecade * (age - 45) / 10 + logSd * e + offset), e ~ N(0, 1)
per seed.

Measurement, identical on both sides (`fine_residual`): per scan, the robust SD (1.4826 MAD) of
that residual in the cerebral white matter eroded by two voxels (one left the GM/WM edge's blur
in it); tissue classes from the DLMUSE labels (real) or the model's labels (twins)
(`common.tissue`). Real: the least-squares slope of
its log on age (per decade) and the residual SD of the log about that line.

Fit:
- perDecade: paired twins - `--twins` / 2 seeds, each rendered at 30 and 70, the same subject
  at both ages - give the rendered slope of the log residual; `perDecade += real - rendered`,
  `ROUNDS` rounds re-rendered (exact for the texture's share of the residual, so it converges in
  two or three);
- logSd: `--twins` twins at the real scans' ages (`render_fit.twins`, an age-spread subset)
  with logSd = 0 give the spread that anatomy and seed alone make (residual SD about the
  rendered age line); the gain's log is independent of them, so
  logSd = sqrt(real^2 - rendered^2) (0 if the twins already spread as much), then a check
  render with it;
- offset: the label SDs were measured on the real scans as a population (`appearance_fit`'s WM
  texture, the head's layers) or are fitted at the twins' ages after this step (`render_fit`),
  so the gain must average 1 over the real scans: offset = -log(mean over the real scans of
  exp(perDecade * (age - 45) / 10)) - logSd^2 / 2 (E exp(logSd e) = exp(logSd^2 / 2)). Without
  it the mean gain over the 42 real ages (mean 55.7 years) was 1.10: rendered WM 10 % rougher.
Runs before `render_fit`, which fits the tissues' SDs at its twins' ages with the gain in place.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from brainsynth.common.tissue import WM, classes_from_dlmuse, classes_from_freesurfer
from brainsynth.pipeline.age_fit import subjects as paired_subjects
from brainsynth.pipeline.render_fit import (
    MAD_TO_SD,
    ixi_scans,
    scratch_model,
    sex_of,
    twin_fit_args,
    twin_volumes,
    twins,
)
from brainsynth.schema import validate_manifest

AGES = (30.0, 70.0)  # the paired twins' ages: inside the real scans' range (23-74)
ROUNDS = 3
HP_SIGMA = 1.0  # voxels: the residual is the image minus its Gaussian blur of this width
ERODE = 2  # voxels of WM erosion: one left the GM/WM edge's blur in the residual
BASE_SEED = 20261208
PER_DECADE_RANGE = (-0.5, 0.5)  # the schema's bounds
LOG_SD_MAX = 1.0

Log = Callable[[str], None]


def fine_residual(img: NDArray[np.floating[Any]], classes: NDArray[np.integer[Any]]) -> float:
    """Robust SD of (image - its Gaussian blur) in the cerebral WM eroded by `ERODE` voxels
    (so the blur does not reach across the GM/WM edge), over the WM median."""
    wm = ndimage.binary_erosion(classes == WM, iterations=ERODE)
    if wm.sum() < 100:
        raise ValueError("fewer than 100 eroded white-matter voxels: not a brain scan")
    x = np.asarray(img, np.float64)
    ref = float(np.median(x[wm]))
    if not np.isfinite(ref) or ref <= 0:
        raise ValueError(f"white-matter median must be positive (got {ref})")
    hp = (x - ndimage.gaussian_filter(x, HP_SIGMA))[wm] / ref
    return MAD_TO_SD * float(np.median(np.abs(hp - np.median(hp))))


def age_line(ages: list[float], values: list[float]) -> dict[str, float]:
    """Least-squares line of log(value) on age in decades: its slope, the residual SD about it
    (n - 2 degrees of freedom) and the slope's standard error."""
    if len(ages) != len(values) or len(ages) < 3:
        raise ValueError("need at least 3 (age, value) pairs")
    a = np.asarray(ages, np.float64) / 10.0
    y = np.log(np.asarray(values, np.float64))
    x = np.c_[np.ones_like(a), a]
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    sd = float(np.sqrt(float(resid @ resid) / (len(a) - 2)))
    se = sd / float(np.sqrt(((a - a.mean()) ** 2).sum()))
    return {"slope": float(coef[1]), "residualSd": sd, "se": se, "n": float(len(a))}


def added_log_sd(real_sd: float, rendered_sd: float) -> float:
    """The independent log-normal spread that brings `rendered_sd` to `real_sd` (0 if none)."""
    return float(np.sqrt(max(real_sd**2 - rendered_sd**2, 0.0)))


def real_rows(data: Path, log: Log = print) -> list[dict[str, Any]]:
    out = []
    for row, t1, seg in ixi_scans(data):
        img = np.asarray(t1.dataobj, np.float32)
        out.append(
            {
                "age": float(row["age"]),
                "sex": sex_of(row["sex"]),
                "residual": fine_residual(img, classes_from_dlmuse(seg)),
            }
        )
    log(f"  measured {len(out)} real scans")
    return out


def rendered(model_dir: Path, subjects: list[tuple[float, str, int]]) -> list[float]:
    return [
        fine_residual(vol.images["T1w"], classes_from_freesurfer(vol.labels))
        for vol in twin_volumes(model_dir, subjects)
    ]


def mean_offset(ages: list[float], per_decade: float, log_sd: float) -> float:
    """The log gain's constant that makes the gain average 1 over subjects of `ages`."""
    trend = np.exp(per_decade * (np.asarray(ages, np.float64) - 45) / 10)
    return float(-np.log(trend.mean()) - log_sd**2 / 2)


def with_gain(
    man: dict[str, Any], per_decade: float, log_sd: float, offset: float = 0.0
) -> dict[str, Any]:
    m: dict[str, Any] = json.loads(json.dumps(man))
    m["appearance"]["textureGain"] = {
        "perDecade": round(float(per_decade), 5),
        "logSd": round(float(log_sd), 5),
        "offset": round(float(offset), 5),
        "source": "pipeline.texture_gain_fit: the fine-scale residual in the eroded WM of the "
        "42 IXI T1s (its log's slope on age, its spread about that line), through the renderer",
    }
    return m


def fit(model_dir: Path, data: Path, n_twins: int = 16, log: Log = print) -> dict[str, Any]:
    path = model_dir / "manifest.json"
    man = json.loads(path.read_text())
    real = real_rows(data, log)
    target = age_line([r["age"] for r in real], [r["residual"] for r in real])
    log(
        f"  real: {target['slope']:+.4f} log per decade (se {target['se']:.4f}), spread "
        f"{target['residualSd']:.4f}"
    )
    # the same subjects at two ages: their texture and noise cancel, so half as many suffice
    pairs = paired_subjects(max(4, n_twins // 2), BASE_SEED)
    spread_twins = twins(real, n_twins)
    history: list[dict[str, float]] = []
    with scratch_model(model_dir) as work:

        def paired_slope(per_decade: float) -> float:
            (work / "manifest.json").write_text(json.dumps(with_gain(man, per_decade, 0.0)))
            young = rendered(work, [(AGES[0], sex, s) for sex, s in pairs])
            old = rendered(work, [(AGES[1], sex, s) for sex, s in pairs])
            d = np.log(np.asarray(old)) - np.log(np.asarray(young))
            return float(d.mean()) / ((AGES[1] - AGES[0]) / 10.0)

        def spread(per_decade: float, log_sd: float) -> dict[str, float]:
            (work / "manifest.json").write_text(json.dumps(with_gain(man, per_decade, log_sd)))
            vals = rendered(work, spread_twins)
            return age_line([t[0] for t in spread_twins], vals) | {"median": float(np.median(vals))}

        per_decade = 0.0
        slope = paired_slope(per_decade)
        history.append({"perDecade": per_decade, "renderedSlope": slope})
        for r in range(ROUNDS):
            per_decade = float(np.clip(per_decade + target["slope"] - slope, *PER_DECADE_RANGE))
            slope = paired_slope(per_decade)
            history.append({"perDecade": per_decade, "renderedSlope": slope})
            log(f"  round {r + 1}: perDecade {per_decade:+.4f}, rendered slope {slope:+.4f}")
        without = spread(per_decade, 0.0)
        log_sd = min(added_log_sd(target["residualSd"], without["residualSd"]), LOG_SD_MAX)
        check = spread(per_decade, log_sd)
        log(
            f"  spread about the age line: real {target['residualSd']:.4f}; rendered "
            f"{without['residualSd']:.4f} without the gain's spread, {check['residualSd']:.4f} "
            f"with logSd {log_sd:.4f}"
        )
    offset = mean_offset([r["age"] for r in real], per_decade, log_sd)
    log(f"  offset {offset:+.4f}: the gain averages 1 over the real scans' ages")
    fitted = with_gain(man, per_decade, log_sd, offset)
    man["appearance"]["textureGain"] = fitted["appearance"]["textureGain"]
    man["appearance"].setdefault("measured", {})["textureGainFit"] = {
        "method": "pipeline.texture_gain_fit: robust SD of (image - Gaussian blur, sigma 1 "
        "voxel) in the eroded WM over the WM median; real: log slope on age and residual SD "
        "(42 IXI T1s); rendered: the same subjects at "
        f"{AGES[0]:g} and {AGES[1]:g} (slope), twins at the real ages (spread)",
        "real": {k: round(v, 5) for k, v in target.items()},
        "realScans": len(real),
        "pairedTwins": [list(p) for p in pairs],
        "spreadTwins": [list(t) for t in spread_twins],
        "rounds": [{k: round(v, 5) for k, v in h.items()} for h in history],
        "spreadWithoutGain": {k: round(v, 5) for k, v in without.items()},
        "spreadWithGain": {k: round(v, 5) for k, v in check.items()},
    }
    validate_manifest(man)
    path.write_text(json.dumps(man, indent=1) + "\n")
    return dict(man["appearance"]["measured"]["textureGainFit"])


def main(argv: list[str] | None = None) -> None:
    a = twin_fit_args(__doc__, argv, default_twins=16)
    res = fit(a.model, a.data, a.twins)
    print(json.dumps({k: res[k] for k in ("real", "spreadWithoutGain", "spreadWithGain")}))


if __name__ == "__main__":
    main()

"""Fit the thickness of the head's layers over the cranial vault — the skull and the scalp — to
the 42 real IXI T1s: their typical thickness and how much it varies between people.

    python -m brainsynth.pipeline.head_layers --data ../shared/data [--model DIR] [--twins 12]

Why: the head's layers are the template's, scaled with the head (step 5). Measured with the
vault profile (`common.head_profile`: median intensity per bin of normalised depth t between the
brain, t = 0, and the skin, t = 1), the template's skull reached t ~ 0.47 where the real one ends
at ~ 0.40, and its bright scalp layer (labelled soft tissue, 507) spanned three bins where the
real one spans two; every synthetic head had the same proportions (the benchmark's depth of the
brightest layer was 0.65 for all 42 twins; real 0.55 +- 0.08).

Model: two structures of step 7c (MODEL_FORMAT.md §3) act on the label map after the brain's:
`skull` (515) exchanges voxels with the scalp's soft tissue (507) on its outer side, and `scalp`
(the outer, darker layer, 511) with the same soft tissue on its inner side. Each has a constant
factor f (its volume over the template's); the skull also an individual factor exp(s z) with
its own size latent (`latent` 1: independent of the ventricles'; latent 2 is the scalp's, for
when it gets one). The skull shrinking by a layer moves the bright layer inwards; the outer
layer growing narrows it from outside.

Measurement, the same on both sides: per profile, the *inner edge* t_in of the bright layer
(where the profile, rising from the skull's darkest bin to the brightest, crosses halfway, by
linear interpolation between bin centres) and its *outer edge* t_out (falling from the brightest
bin to the darkest bin outside it, halfway). Real: per scan (DLMUSE brain). Synthetic: the 2 mm
teacher's healthy twins (`render_fit.twins`).

Fit:
1. The skull's factor: Newton steps on the twins' mean t_in (rendered without the individual
   term) against the real scans' mean; the slope by a finite difference (`STEP`), each step
   clipped to `MAX_STEP`, `ROUNDS` rounds.
2. The scalp's factor: of `SCALP_GRID`, the one whose twins' mean profile is closest (RMS) to
   the real median profile from the real peak outwards. Not by its edge: at 2 mm the bright
   layer is one or two voxels thick, and growing the outer layer into it mostly dims it (its
   half-level edge hardly moves: tried first, the Newton steps ran away).
3. The skull's individual log-sd: the real between-scan variance of t_in less the twins' own
   (their shape and head size, at the fitted factors), over the slope squared. The scalp gets
   no individual term (its edge is no handle on it; the twins' own spread of t_out is near the
   real one).
4. A check render with the individual term: means, SDs and age slopes of t_in and t_out.

The head's intensities are fitted afterwards (`head_fit`, on the new layers); the edges are
half-level crossings, so they depend little on the layers' intensities. Idempotent: every run
replaces the two structures. Runs after `pipeline.sizing` (which keeps them) and before
`head_fit`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

from brainsynth.pipeline.head_fit import real_profiles, synthetic_profiles
from brainsynth.pipeline.render_fit import scratch_model, twin_fit_args, twins
from brainsynth.schema import validate_manifest

# (region, label value, its partner, size latent): the structures this module owns
LAYERS = (("skull", 515, 507, 1), ("scalp", 511, 507, 2))
REGIONS = tuple(r for r, *_ in LAYERS)
STEP = 0.15  # log-factor step of the finite-difference slope
MAX_STEP = 0.5  # largest Newton step in log f
LOG_F_RANGE = (-1.2, 1.2)
ROUNDS = 2
SCALP_GRID = (1.0, 1.3, 1.6, 2.0)  # the outer layer's factor: the candidates
DEFAULT_TWINS = 12
MIN_CONTRAST = 0.05  # x WM: a bright layer at most this much above its neighbours is no layer

Log = Callable[[str], None]


def _crossing(p: NDArray[np.float64], start: int, stop: int, level: float, rising: bool) -> float:
    """Normalised depth where the profile first crosses `level` going outwards from bin `start`
    to bin `stop` (linear between bin centres); NaN when it does not."""
    for k in range(start + 1, stop + 1):
        a, b = p[k - 1], p[k]
        if not (np.isfinite(a) and np.isfinite(b)):
            return float("nan")
        if (b >= level) if rising else (b <= level):
            frac = 0.0 if b == a else (level - a) / (b - a)
            return float((k - 1 + 0.5 + frac) / len(p))
    return float("nan")


def layer_edges(prof: NDArray[np.float64]) -> tuple[float, float]:
    """(t_in, t_out): the bright scalp layer's inner and outer half-level edges on a vault
    profile (module docstring); NaN where the profile lacks the layer."""
    p = np.asarray(prof, np.float64)
    n = len(p)
    inner = p[: n // 2]
    if not np.isfinite(inner).any():
        return float("nan"), float("nan")
    i0 = int(np.nanargmin(inner))
    after = p[i0 + 1 :]
    if not np.isfinite(after).any():
        return float("nan"), float("nan")
    i1 = i0 + 1 + int(np.nanargmax(after))
    if p[i1] - p[i0] < MIN_CONTRAST:
        return float("nan"), float("nan")
    t_in = _crossing(p, i0, i1, 0.5 * (p[i0] + p[i1]), rising=True)
    outside = p[i1 + 1 :]
    if not np.isfinite(outside).any():
        return t_in, float("nan")
    i2 = i1 + 1 + int(np.nanargmin(outside))
    if p[i1] - p[i2] < MIN_CONTRAST:
        return t_in, float("nan")
    t_out = _crossing(p, i1, i2, 0.5 * (p[i1] + p[i2]), rising=False)
    return t_in, t_out


def edges_of(profiles: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    """[n, 2] edges (t_in, t_out) of each profile."""
    return np.array([layer_edges(p) for p in profiles], np.float64).reshape(-1, 2)


def layer_structures(
    ages: list[float], log_f: NDArray[np.float64], log_sd: NDArray[np.float64] | None
) -> list[dict[str, Any]]:
    """The two step 7c structures: constant factor exp(log_f) per layer, individual log-sd
    (absent when `log_sd` is None or a layer's is 0: every individual at the typical
    thickness)."""
    out = []
    for k, ((region, value, partner, latent), lf) in enumerate(zip(LAYERS, log_f, strict=True)):
        row = [round(float(np.exp(lf)), 5)] * len(ages)
        entry: dict[str, Any] = {
            "region": region,
            "labels": [{"value": value, "partners": [partner]}],
            "partialLayer": "smooth",
            "factor": {"female": row, "male": list(row)},
        }
        if log_sd is not None and log_sd[k] > 0:
            sd_row = [round(float(log_sd[k]), 5)] * len(ages)
            entry["individualLogSd"] = {"female": sd_row, "male": list(sd_row)}
            entry["latent"] = latent
        out.append(entry)
    return out


def with_layers(man: dict[str, Any], structures: list[dict[str, Any]]) -> dict[str, Any]:
    """A copy of `man` whose step 7c ends with `structures` (any earlier head layers dropped)."""
    out = json.loads(json.dumps(man))
    sizing = out.get("sizing")
    if not sizing:
        raise ValueError("the model has no step 7c `sizing` (run pipeline.sizing first)")
    kept = [s for s in sizing["structures"] if s["region"] not in REGIONS]
    sizing["structures"] = kept + structures
    return out


def added_log_sd(
    real_var: NDArray[np.float64], own_var: NDArray[np.float64], jac: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Per layer, the individual log-sd s >= 0 with J^2 s^2 ~ real variance - own variance (the
    two edges' variances; independent latents, so their variances add)."""
    gap = np.maximum(np.asarray(real_var) - np.asarray(own_var), 0.0)
    s2, _ = optimize.nnls(np.asarray(jac) ** 2, gap)
    return np.sqrt(s2)


def _summary(
    e: NDArray[np.float64], ages: NDArray[np.float64] | None = None
) -> dict[str, list[float]]:
    """Mean and SD of each edge; with `ages`, also its least-squares slope per decade."""
    out = {
        "mean": [round(float(v), 4) for v in np.nanmean(e, axis=0)],
        "sd": [round(float(v), 4) for v in np.nanstd(e, axis=0, ddof=1)],
    }
    if ages is not None:
        out["slopePerDecade"] = [
            round(float(np.polyfit(np.asarray(ages) / 10.0, e[:, k], 1)[0]), 4)
            for k in range(e.shape[1])
        ]
    return out


def fit(
    model_dir: Path, data: Path, n_twins: int = DEFAULT_TWINS, log: Log = print
) -> dict[str, Any]:
    path = model_dir / "manifest.json"
    man = json.loads(path.read_text())
    ages = [float(a) for a in man["sizing"]["ages"]] if man.get("sizing") else []
    real = real_profiles(data, log)
    real_e = edges_of([r["profile"] for r in real])
    ok = np.isfinite(real_e).all(axis=1)
    if ok.sum() < 3:
        raise ValueError(f"only {int(ok.sum())} real vault profiles have both layer edges")
    real_e = real_e[ok]
    real_ages = np.array([r["age"] for r in real], np.float64)[ok]
    target = real_e.mean(axis=0)
    real_var = real_e.var(axis=0, ddof=1)
    subjects = twins(real, n_twins)
    previous = {s["region"]: s for s in man.get("sizing", {}).get("structures", [])}
    log_f = np.array(
        [np.log(previous[r]["factor"]["female"][0]) if r in previous else 0.0 for r in REGIONS]
    )
    real_median = np.nanmedian([r["profile"] for r in real], axis=0)
    outer = slice(int(np.nanargmax(real_median)), None)  # the real peak and the bins outside it
    history: list[dict[str, Any]] = []
    with scratch_model(model_dir) as work:

        def render(
            lf: NDArray[np.float64], sd: NDArray[np.float64] | None
        ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
            """The twins' edges [n, 2] and their mean profile."""
            trial = with_layers(man, layer_structures(ages, lf, sd))
            (work / "manifest.json").write_text(json.dumps(trial))
            profiles = synthetic_profiles(work, subjects)
            e = edges_of(profiles)
            if not np.isfinite(e[:, 0]).all():
                raise ValueError(f"a twin's vault profile lacks the skull's edge: {e.round(3)}")
            return e, np.nanmean(profiles, axis=0)

        def note(
            lf: NDArray[np.float64], e: NDArray[np.float64], prof: NDArray[np.float64]
        ) -> None:
            rms = float(np.sqrt(np.nanmean((prof[outer] - real_median[outer]) ** 2)))
            history.append(
                {"logFactor": lf.round(4).tolist(), **_summary(e), "outerRms": round(rms, 4)}
            )
            log(
                f"  factors {np.exp(lf).round(3).tolist()}: edges "
                f"{np.nanmean(e, axis=0).round(3).tolist()} (real {target.round(3).tolist()}), "
                f"outer profile rms {rms:.3f}"
            )

        # 1. the skull's factor: Newton steps on the mean inner edge
        cur, prof = render(log_f, None)
        note(log_f, cur, prof)
        step = np.array([STEP, 0.0])
        e2, p2 = render(log_f + step, None)
        note(log_f + step, e2, p2)
        slope = float((e2[:, 0].mean() - cur[:, 0].mean()) / STEP)
        if slope <= 0.01:
            raise ValueError(f"the skull's factor does not move the inner edge (slope {slope})")
        for _ in range(ROUNDS):
            delta = float(np.clip((target[0] - cur[:, 0].mean()) / slope, -MAX_STEP, MAX_STEP))
            log_f = np.clip(log_f + np.array([delta, 0.0]), *LOG_F_RANGE)
            cur, prof = render(log_f, None)
            note(log_f, cur, prof)
        # 2. the scalp's factor: the outer profile closest to the real median's, on a grid (its
        # half-level edge hardly moves: growing the outer layer into a 1-2 voxel bright layer
        # mostly dims it, so the edge is no handle on it)
        best = (float(np.sqrt(np.nanmean((prof[outer] - real_median[outer]) ** 2))), log_f, cur)
        for f in SCALP_GRID:
            lf = np.array([log_f[0], np.log(f)])
            if np.isclose(lf[1], log_f[1]):
                continue
            e, pr = render(lf, None)
            note(lf, e, pr)
            rms = float(np.sqrt(np.nanmean((pr[outer] - real_median[outer]) ** 2)))
            if rms < best[0]:
                best = (rms, lf, e)
        _, log_f, cur = best
        # 3. the skull's individual spread: the real variance of the inner edge less the twins'
        own_var = np.nanvar(cur, axis=0, ddof=1)
        log_sd = np.array(
            [float(added_log_sd(real_var[:1], own_var[:1], np.array([[slope]]))[0]), 0.0]
        )
        check, _ = render(log_f, log_sd)
    man = with_layers(man, layer_structures(ages, log_f, log_sd))
    result = {
        "method": "pipeline.head_layers: the skull's factor by Newton steps on the mean inner "
        "half-level edge of the bright scalp layer on the vault profile (common.head_profile; "
        "real IXI T1s vs the 2 mm teacher's healthy twins), the scalp's by the outer profile "
        "(the real peak outwards) closest to the real median's on a grid, the skull's "
        "individual log-sd from the real variance of the inner edge less the twins' own",
        "edges": ["tIn", "tOut"],
        "real": {**_summary(real_e, real_ages), "scans": int(ok.sum())},
        "realMedianProfile": [round(float(v), 4) for v in real_median],
        "skullSlope": round(slope, 4),
        "twins": [list(t) for t in subjects],
        "rounds": history,
        "ownSd": [round(float(v), 4) for v in np.sqrt(own_var)],
        "factor": {r: round(float(np.exp(v)), 4) for r, v in zip(REGIONS, log_f, strict=True)},
        "individualLogSd": {r: round(float(v), 4) for r, v in zip(REGIONS, log_sd, strict=True)},
        "check": _summary(check, np.array([t[0] for t in subjects], np.float64)),
    }
    man["sizing"]["headLayersFit"] = result
    validate_manifest(man)
    path.write_text(json.dumps(man, indent=1) + "\n")
    return result


def main(argv: list[str] | None = None) -> None:
    a = twin_fit_args(__doc__, argv, DEFAULT_TWINS)
    res = fit(a.model, a.data, a.twins)
    print(json.dumps({k: res[k] for k in ("real", "factor", "individualLogSd", "check")}, indent=1))


if __name__ == "__main__":
    main()

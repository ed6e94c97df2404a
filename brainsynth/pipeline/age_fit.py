"""Fit the T1w tissue contrast's change with age *through the renderer* to the 42 real IXI T1s.

    python -m brainsynth.pipeline.age_fit --data ../shared/data [--model DIR] [--twins 6]

Why: the T1w age slopes (`appearance.ageSlopePerDecade.T1w`, mean += slope * (age - 45) / 10)
were the slopes of the label medians measured on the real scans (`appearance.measure_ixi_t1`).
Those medians already hold the real scans' partial volume, which grows with age as the cortex
thins and the sulci and ventricles widen; the renderer adds its own (the partial-volume blur,
the pial rows, step 7b's sulcal CSF) on top, on an anatomy that ages too. Rendered, the slopes
made the cortex darken against the white matter with age (GM/WM -0.005 per decade, a 70-year-old
twin 2.4 real sd below the real scans) where the real scans' GM/WM barely moves (+0.001 per
decade): the real tissue contrast itself falls with age (white matter's T1 lengthens), and the
real partial volume hides it. A closed loop gives the tissues the slopes whose *rendered* ratios
age like the real ones.

Measurement, identical on both sides (`render_fit.measure`): per scan, each tissue group's
median over the eroded cerebral WM's median (cortex, deep GM, hippocampus, amygdala, cerebellar
GM and WM, brainstem, ventricles). Real: the least-squares slope of each ratio on age over the
42 scans (per decade, with its standard error). Synthetic: `--twins` seeds (sexes alternating),
each rendered by the 2 mm teacher at `AGES` (30 and 70, inside the real range) - the same
subject at two ages, so the slope is the subject's own and the seeds' texture and noise cancel.

Fit: per group, `slope <- slope + (real - synthetic) * gain`, gain = the group's table mean over
its rendered ratio (the renderer's partial volume scales a change of the mean), for every label
of the group; the sulcal CSF, which has no real measurement of its own, takes the ventricles'
fitted slope (CSF is CSF); `ROUNDS` rounds re-rendered.
White matter's own slope is kept: it is the reference of every ratio. Head and lesion labels
keep theirs (0). Runs before `render_fit` (which fits the levels at the twins' ages with these
slopes); T2w/FLAIR have no age slope (too few real images to measure one), T1c derives its own
from T1w's (`glioma_fit`).

Idempotent: the fitted labels' slopes before the first fit are kept in
`appearance.measured.ageFit.base` and every run starts from them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.pipeline.render_fit import (
    DEEP_STRUCTURES,
    FOLLOW,
    GROUPS,
    group_lut,
    groups_of,
    measure,
    real_rows,
    scratch_model,
    twin_fit_args,
    twin_volumes,
)
from brainsynth.schema import validate_manifest

AGES = (30.0, 70.0)  # the twins' two ages: inside the real scans' range (23-74)
ROUNDS = 3  # the rendered slope is nearly linear in the table's (the cortex's damped by its
# depth rows, which mix it toward WM): three steps converge to within its real standard error
BASE_SEED = 20261207
SLOPE_RANGE = (-0.05, 0.05)  # per decade, WM units: a guard against a degenerate measurement

Log = Callable[[str], None]
# render_fit's groups with the deep grey nuclei together (their slopes are one, as the label
# table's group; `measure` reports the nuclei's union as "deep-gm" on either side)
AGE_GROUPS = (*(g for g in GROUPS if g not in DEEP_STRUCTURES), "deep-gm")


def real_slopes(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per group: the least-squares slope of its ratio on age, per decade, and its standard
    error, over the real scans that have the group."""
    out: dict[str, dict[str, float]] = {}
    for g in AGE_GROUPS:
        pts = [(float(r["age"]), float(r[g])) for r in rows if g in r and np.isfinite(r[g])]
        if len(pts) < 3:
            continue
        a = np.array([p[0] for p in pts]) / 10.0
        y = np.array([p[1] for p in pts])
        x = np.c_[np.ones_like(a), a]
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        resid = y - x @ coef
        s2 = float(resid @ resid) / (len(pts) - 2)
        se = float(np.sqrt(s2 / float(((a - a.mean()) ** 2).sum())))
        out[g] = {"slope": float(coef[1]), "se": se, "n": float(len(pts))}
    return out


def paired_slopes(
    young: list[dict[str, float]], old: list[dict[str, float]], ages: tuple[float, float] = AGES
) -> dict[str, float]:
    """Per group: the mean over subjects of (ratio at ages[1] - ratio at ages[0]) per decade
    (`young[i]` and `old[i]` are the same subject)."""
    if len(young) != len(old) or not young:
        raise ValueError("need the same subjects at both ages")
    decades = (ages[1] - ages[0]) / 10.0
    out: dict[str, float] = {}
    for g in AGE_GROUPS:
        d = [(o[g] - y[g]) / decades for y, o in zip(young, old, strict=True) if g in y and g in o]
        if d:
            out[g] = float(np.mean(d))
    return out


def mean_ratio(rows: list[dict[str, float]]) -> dict[str, float]:
    return {g: float(np.mean([r[g] for r in rows if g in r])) for g in AGE_GROUPS}


def group_of(entry: dict[str, Any]) -> str | None:
    """The fitted group a label's slope belongs to (None: not fitted)."""
    v, g = int(entry["value"]), str(entry["group"])
    g = FOLLOW.get(g, g)
    return g if 0 < v < 500 and g in AGE_GROUPS else None


def follows(entry: dict[str, Any]) -> bool:
    """A label without a real measurement of its own (sulcal CSF): it takes its group's slope."""
    return str(entry["group"]) in FOLLOW


def subjects(n: int, base_seed: int = BASE_SEED) -> list[tuple[str, int]]:
    """(sex, seed) of n subjects to render at two ages: sexes alternating, fixed seeds (this
    module's and `texture_gain_fit`'s paired twins)."""
    seeds = np.random.default_rng(base_seed).integers(0, 2**31, size=n)
    return [("female" if i % 2 == 0 else "male", int(s)) for i, s in enumerate(seeds)]


def with_slopes(man: dict[str, Any], slopes: NDArray[np.float64]) -> dict[str, Any]:
    m: dict[str, Any] = json.loads(json.dumps(man))
    m["appearance"]["ageSlopePerDecade"]["T1w"]["mean"] = [round(float(s), 5) for s in slopes]
    return m


def fit(model_dir: Path, data: Path, n_twins: int = 6, log: Log = print) -> dict[str, Any]:
    path = model_dir / "manifest.json"
    man = json.loads(path.read_text())
    app = man["appearance"]
    table = app.get("ageSlopePerDecade", {}).get("T1w", {}).get("mean")
    if not table:
        raise ValueError(f"{path}: the model has no T1w age slopes to fit")
    labels = man["labels"]
    fitted = [(i, group_of(e)) for i, e in enumerate(labels)]
    fitted_idx = [i for i, g in fitted if g]
    values = [int(labels[i]["value"]) for i in fitted_idx]
    previous = app.get("measured", {}).get("ageFit", {})
    stored = previous.get("base", {})
    slopes = np.array(table, np.float64)
    if stored.get("labels") == values:  # start again from the slopes before the first fit
        slopes[fitted_idx] = stored["slope"]
    base = [float(slopes[i]) for i in fitted_idx]
    t1_means = app["contrasts"]["T1w"]["mean"]

    real = real_rows(data, log)
    target = real_slopes(real)
    log(
        "  real slopes per decade: "
        + ", ".join(f"{g} {v['slope']:+.4f}" for g, v in target.items())
    )
    subj = subjects(n_twins)
    lut = group_lut(labels)
    history: list[dict[str, Any]] = []
    with scratch_model(model_dir) as work:

        def render(s: NDArray[np.float64]) -> tuple[dict[str, float], dict[str, float]]:
            (work / "manifest.json").write_text(json.dumps(with_slopes(man, s)))
            rows = {
                age: [
                    measure(vol.images["T1w"], groups_of(lut, vol.labels))
                    for vol in twin_volumes(work, [(age, sex, seed) for sex, seed in subj])
                ]
                for age in AGES
            }
            both = rows[AGES[0]] + rows[AGES[1]]
            return paired_slopes(rows[AGES[0]], rows[AGES[1]]), mean_ratio(both)

        syn, level = render(slopes)
        history.append({"synthetic": syn})
        for r in range(ROUNDS):
            step: dict[str, float] = {}
            for g, t in target.items():
                if g in syn and level.get(g, 0) > 0:
                    own = [i for i, gg in fitted if gg == g and not follows(labels[i])]
                    mean_g = float(np.mean([t1_means[i] for i in own]))
                    step[g] = (t["slope"] - syn[g]) * mean_g / level[g]
            for i, grp in fitted:
                if grp in step and not follows(labels[i]):
                    slopes[i] = float(np.clip(slopes[i] + step[grp], *SLOPE_RANGE))
            for i, grp in fitted:  # CSF is CSF: the sulcal CSF ages like the ventricles
                if follows(labels[i]):
                    own = [slopes[j] for j, gg in fitted if gg == grp and not follows(labels[j])]
                    slopes[i] = float(np.mean(own)) if own else slopes[i]
            syn, level = render(slopes)
            history.append({"step": step, "synthetic": syn})
            log(
                f"  round {r + 1}: "
                + ", ".join(
                    f"{g} real {target[g]['slope']:+.4f} synthetic {syn[g]:+.4f}"
                    for g in target
                    if g in syn
                )
            )
    app["ageSlopePerDecade"]["T1w"]["mean"] = [round(float(s), 5) for s in slopes]
    app.setdefault("measured", {})["ageFit"] = {
        "method": "pipeline.age_fit: per tissue group, the least-squares slope on age of its "
        "median over the eroded-WM median on the real IXI T1s vs the same subjects rendered by "
        f"the 2 mm teacher at ages {AGES[0]:g} and {AGES[1]:g}; slope += (real - synthetic) x "
        "table mean / rendered ratio, re-rendered each round",
        "real": {g: {k: round(v, 5) for k, v in t.items()} for g, t in target.items()},
        "realScans": len(real),
        "synthetic": {g: round(v, 5) for g, v in syn.items()},
        "ages": list(AGES),
        "twins": [list(s) for s in subj],
        "rounds": [
            {k: {g: round(v, 5) for g, v in d.items()} for k, d in h.items()} for h in history
        ],
        "base": {"labels": values, "slope": base},
    }
    validate_manifest(man)
    path.write_text(json.dumps(man, indent=1) + "\n")
    return dict(app["measured"]["ageFit"])


def main(argv: list[str] | None = None) -> None:
    a = twin_fit_args(__doc__, argv)
    res = fit(a.model, a.data, a.twins)
    print(json.dumps({k: res[k] for k in ("real", "synthetic")}, indent=1))


if __name__ == "__main__":
    main()

"""The QA report of a dataset: `qa/qa.json` (numbers) and `qa/report.html` (the same, with
plots), linked from the manifest's meta table.

- Covariates as asked (the spec) vs as generated (the manifest): age, sex, pathology shares.
- Regional volumes against the model's normative table (`normative_table.csv` beside the
  manifest: the median by age and sex — it holds no other centiles, so the report plots the
  median curve and gives the spread of generated/median ratios; no band is invented).
- Pathology as asked vs generated: each parameter's asked range and realised values, measured
  lesion volumes, stroke territories.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from brainsynth.datasets import bids
from brainsynth.datasets.spec import Spec


def _normative(model_dir: Path) -> list[dict[str, Any]]:
    file = model_dir / "normative_table.csv"
    if not file.is_file():
        return []
    lines = [ln for ln in file.read_text().splitlines() if ln and not ln.startswith("#")]
    return [
        {k: (v if k == "sex" else float(v)) for k, v in row.items()}
        for row in csv.DictReader(lines)
    ]


def _stats(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    a = np.asarray(values, float)
    q = np.percentile(a, [0, 5, 50, 95, 100])
    return {
        "n": int(a.size),
        "mean": round(float(a.mean()), 4),
        "min": round(float(q[0]), 4),
        "p5": round(float(q[1]), 4),
        "median": round(float(q[2]), 4),
        "p95": round(float(q[3]), 4),
        "max": round(float(q[4]), 4),
    }


def compute(
    spec: Spec,
    model: dict[str, Any],
    rows: list[dict[str, Any]],
    model_dir: Path,
    out: Path | None = None,
) -> dict[str, Any]:
    n = len(rows)
    ages = [float(r["age"]) for r in rows]
    sexes = Counter(str(r["sex"]) for r in rows)
    kinds = Counter(str(r["pathology"]) for r in rows)
    covariates = {
        "subjects": {"asked": spec.count, "generated": n},
        "age": {
            "asked": {
                "min": spec.age_min,
                "max": spec.age_max,
                "distribution": spec.age_distribution,
                "mean": spec.age_mean
                if spec.age_mean is not None
                else (spec.age_min + spec.age_max) / 2,
            },
            "generated": _stats(ages),
        },
        "femaleFraction": {
            "asked": spec.female_fraction,
            "generated": round(sexes.get("female", 0) / n, 4) if n else None,
        },
        "pathology": {
            a.type: {
                "asked": a.fraction,
                "generated": round(kinds.get(a.type, 0) / n, 4) if n else None,
            }
            for a in spec.pathology
        },
    }
    # regional volumes vs the normative median (same age rounded, same sex)
    table = _normative(model_dir)
    by_key = {(r["sex"], int(r["age"])): r for r in table}
    regions: dict[str, Any] = {}
    healthy = [r for r in rows if r["pathology"] == "none"]
    for name in [c for c in (table[0] if table else {}) if c not in ("sex", "age")]:
        col = bids.volume_column(name)
        ratios = []
        for r in healthy:
            ref = by_key.get((r["sex"], int(round(float(r["age"])))))
            if ref and r.get(col) and ref[name]:
                ratios.append(float(r[col]) / float(ref[name]))
        regions[name] = {"generatedOverNormativeMedian": _stats(ratios)}
    # pathology: parameters asked vs generated, measured lesion volumes
    pathology: dict[str, Any] = {}
    for arm in spec.pathology:
        sub = [r for r in rows if r["pathology"] == arm.type]
        params = {}
        for name, rule in arm.parameters.items():
            got = [r["conditions"].get(name) for r in sub]
            if isinstance(rule, dict) and "min" in rule:
                params[name] = {"asked": rule, "generated": _stats([float(g) for g in got])}
            else:
                params[name] = {"asked": rule, "generated": dict(Counter(map(str, got)))}
        info: dict[str, Any] = {"subjects": len(sub), "parameters": params}
        info["measuredLesionMl"] = _stats(
            [float(r["lesion_ml"]) for r in sub if r.get("lesion_ml") is not None]
        )
        if arm.type == "ms":
            err = [
                float(r["pathology_details"].get("realisedLoadMl", 0))
                - float(r["pathology_details"].get("targetLoadMl", 0))
                for r in sub
            ]
            info["realisedMinusTargetLoadMl"] = _stats(err)
        if arm.type == "stroke":
            info["territories"] = dict(
                Counter(str(r["pathology_details"].get("territory")) for r in sub)
            )
        pathology[arm.type] = info
    return {
        "dataset": spec.name,
        "diversity": diversity(out, rows) if out is not None else None,
        "specSha256": spec.digest,
        "model": {"id": model.get("id"), "version": model.get("version")},
        "covariates": covariates,
        "regionalVolumes": regions,
        "pathology": pathology,
        "notes": [
            "normative_table.csv holds the median by age and sex only: the report compares "
            "healthy subjects' volumes with that median (ratio statistics), no centile band.",
            "diversity: mean Dice of 6 tissue groups (brainsynth.qa.memorisation) between "
            "healthy subjects of the same sex, on a sample; 1 = identical anatomy.",
            "realism and memorisation statistics are not part of this report yet.",
        ],
    }


def diversity(out: Path, rows: list[dict[str, Any]], sample: int = 8) -> dict[str, Any] | None:
    """Pairwise similarity among healthy subjects of the same sex (a sample of each sex)."""
    import nibabel as nib

    from brainsynth.qa.memorisation import group_map, mean_dice

    dice = []
    for sex in ("female", "male"):
        pick = [r for r in rows if r["pathology"] == "none" and r["sex"] == sex][:sample]
        maps = []
        for r in pick:
            pid = r["participant_id"]
            seg = nib.Nifti1Image.from_filename(out / pid / "anat" / f"{pid}_dseg.nii.gz")
            maps.append(group_map(np.asarray(seg.get_fdata(), np.int32)))
        dice += [mean_dice(a, b) for i, a in enumerate(maps) for b in maps[i + 1 :]]
    if not dice:
        return None
    return {"pairs": len(dice), "meanDiceSameSexHealthy": _stats(dice)}


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def _plots(spec: Spec, rows: list[dict[str, Any]], model_dir: Path) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist([float(r["age"]) for r in rows], bins=20, range=(spec.age_min, spec.age_max), alpha=0.7)
    ax.set_xlabel("age (years)")
    ax.set_ylabel("subjects")
    ax.set_title(
        f"age as generated (asked: {spec.age_distribution} {spec.age_min:g}-{spec.age_max:g})"
    )
    out.append(("Age", _png(fig)))
    plt.close(fig)
    table = _normative(model_dir)
    names = [c for c in (table[0] if table else {}) if c not in ("sex", "age")]
    if names:
        cols = 4
        fig, axes = plt.subplots(
            (len(names) + cols - 1) // cols,
            cols,
            figsize=(12, 2.6 * ((len(names) + cols - 1) // cols)),
        )
        for ax, name in zip(np.ravel(axes), names, strict=False):
            for sex, colour in (("female", "tab:red"), ("male", "tab:blue")):
                ref = [r for r in table if r["sex"] == sex]
                ax.plot([r["age"] for r in ref], [r[name] for r in ref], color=colour, lw=1)
                pts = [r for r in rows if r["sex"] == sex and r["pathology"] == "none"]
                col = bids.volume_column(name)
                ax.scatter(
                    [float(r["age"]) for r in pts],
                    [float(r.get(col) or 0) for r in pts],
                    s=6,
                    color=colour,
                    alpha=0.6,
                )
            ax.set_title(name, fontsize=9)
        for ax in np.ravel(axes)[len(names) :]:
            ax.axis("off")
        fig.suptitle(
            "healthy subjects (points) vs normative median (lines; red female, blue male), mL"
        )
        out.append(("Regional volumes", _png(fig)))
        plt.close(fig)
    lesions = [r for r in rows if r["pathology"] != "none"]
    if lesions:
        fig, ax = plt.subplots(figsize=(5, 3))
        kinds = sorted({r["pathology"] for r in lesions})
        ax.boxplot([[float(r["lesion_ml"]) for r in lesions if r["pathology"] == k] for k in kinds])
        ax.set_xticks(range(1, len(kinds) + 1), kinds)
        ax.set_ylabel("measured pathology volume (mL)")
        out.append(("Pathology volumes", _png(fig)))
        plt.close(fig)
    return out


def write_report(
    out: Path,
    spec: Spec,
    model: dict[str, Any],
    rows: list[dict[str, Any]],
    models_dir: Path | None = None,
) -> dict[str, Any]:
    model_dir = Path(models_dir or "public/models") / str(model.get("id"))
    data = compute(spec, model, rows, model_dir, Path(out))
    folder = Path(out) / bids.QA_DIR
    folder.mkdir(parents=True, exist_ok=True)
    bids.write_json(folder / "qa.json", data)
    try:
        plots = _plots(spec, rows, model_dir) if rows else []
    except ImportError:  # matplotlib is optional (extra `datasets`): numbers only
        plots = []
        data["notes"].append("plots need matplotlib (pip install 'brainsynth[datasets]')")
    body = "".join(
        f"<h2>{html.escape(t)}</h2><img alt='{html.escape(t)}' src='data:image/png;base64,{b}'>"
        for t, b in plots
    )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>QA: {html.escape(spec.name)}</title></head><body>"
        f"<h1>QA report: {html.escape(spec.name)}</h1>"
        f"<p>{len(rows)} subjects, model {html.escape(str(model.get('id')))} "
        f"{html.escape(str(model.get('version')))}, spec sha256 {spec.digest}</p>"
        f"{body}<h2>Numbers</h2><pre>{html.escape(json.dumps(data, indent=1))}</pre>"
        "</body></html>"
    )
    bids.atomic_write(folder / "report.html", page.encode())
    return data

"""The QA report of a dataset: `qa/qa.json` (numbers) and `qa/report.html` (the same, with
plots), linked from the manifest's meta table.

- Covariates as asked (the spec) vs as generated (the manifest): age, sex, pathology shares.
- Regional volumes against the model's normative table (`normative_table.csv` beside the
  manifest: the median by age and sex; the spread of generated/median ratios) and, for the
  regions that are one DLMUSE region, the 25-75 centile band (`centiles.py`) with the share of
  subjects inside it.
- Pathology as asked vs generated: each parameter's asked range and realised values, measured
  lesion volumes, stroke territories.
- Memorisation (`qa_memorisation.py`) and realism (`qa_realism.py`) of a sample, when a data
  folder is given (`QaOptions.data`); otherwise each says why it was not checked.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from brainsynth.datasets import bids, centiles, qa_memorisation, qa_realism
from brainsynth.datasets.spec import Spec


@dataclass(frozen=True)
class QaOptions:
    """What the report checks beyond the manifest: `data` is the real-data folder
    (../shared/data) for memorisation and realism (None: both "not-checked")."""

    data: Path | None = None
    memorisation_sample: int = qa_memorisation.DEFAULT_SAMPLE
    realism_sample: int = qa_realism.DEFAULT_SAMPLE
    refuse_memorised: bool = False


def default_data() -> Path | None:
    """$BRAINSYNTH_DATA, if set."""
    env = os.environ.get("BRAINSYNTH_DATA")
    return Path(env) if env else None


class Refused(RuntimeError):
    """The dataset failed a QA rule it was asked to enforce (`refuse_memorised`)."""


def refusal(data: dict[str, Any]) -> str | None:
    """The reason to refuse a dataset whose report is `data`, or None. Not checked is a
    reason too: refusing on memorisation must not pass a dataset it could not check."""
    mem = data.get("memorisation") or {}
    if mem.get("status") == "not-checked":
        return f"memorisation was not checked ({mem.get('reason')})"
    if mem.get("status") == "flagged":
        return (
            f"memorisation check flagged {len(mem['flagged'])} subject(s) "
            f"({', '.join(mem['flagged'])}): closer to a training subject than training "
            "subjects are to each other and than the model's mean anatomy (qa/qa.json)"
        )
    return None


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


def _in_band(
    healthy: list[dict[str, Any]],
    by_key: dict[tuple[str, int], dict[str, Any]],
    band: dict[tuple[str, int, str], tuple[float, float]],
    name: str,
) -> dict[str, Any]:
    """Share of healthy subjects (ages the band covers) inside the normative median x the
    DLMUSE 25-75 centile ratios (centiles.py)."""
    col = bids.volume_column(name)
    inside = total = 0
    for r in healthy:
        key = (str(r["sex"]), int(round(float(r["age"]))))
        ref, ratio = by_key.get(key), band.get((*key, name))
        if ref is None or ratio is None or r.get(col) is None:
            continue
        total += 1
        inside += int(ref[name] * ratio[0] <= float(r[col]) <= ref[name] * ratio[1])
    return {
        "subjects": total,
        "insideFraction": round(inside / total, 4) if total else None,
        "expectedForTheReference": 0.5,
    }


def compute(
    spec: Spec,
    model: dict[str, Any],
    rows: list[dict[str, Any]],
    model_dir: Path,
    out: Path | None = None,
    options: QaOptions | None = None,
) -> dict[str, Any]:
    opts = options or QaOptions()
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
    band = centiles.load()
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
        if any(k[2] == name for k in band):
            regions[name]["band25to75"] = _in_band(healthy, by_key, band, name)
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
        "memorisation": qa_memorisation.check(
            out, rows, opts.data, model_dir, opts.memorisation_sample
        )
        if out is not None
        else qa_memorisation.not_checked("no dataset folder"),
        "realism": qa_realism.check(out, rows, opts.data, opts.realism_sample)
        if out is not None
        else qa_realism.not_checked("no dataset folder"),
        "notes": [
            "normative_table.csv holds the median by age and sex: the report compares healthy "
            "subjects' volumes with it (ratio statistics); regions that are one DLMUSE region "
            "(cerebral-wm, deep-gm, cerebellum, brainstem) also get the 25-75 centile band, "
            "ages 40-90 (brainsynth/datasets/centile_band.csv, ratios derived from NiChart "
            "DLMUSE centiles), and the share of subjects inside it (0.5 for the reference "
            "population; DLMUSE and FreeSurfer region definitions differ).",
            "diversity: mean Dice of 6 tissue groups (brainsynth.qa.memorisation) between "
            "healthy subjects of the same sex, on a sample; 1 = identical anatomy.",
            "memorisation and realism cover a sample of subjects (see their 'sampled' / "
            "'subjects'); 'not-checked' says why they were not run.",
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
        band = centiles.load()
        for ax, name in zip(np.ravel(axes), names, strict=False):
            for sex, colour in (("female", "tab:red"), ("male", "tab:blue")):
                ref = [r for r in table if r["sex"] == sex]
                ax.plot([r["age"] for r in ref], [r[name] for r in ref], color=colour, lw=1)
                inb = [r for r in ref if (sex, int(r["age"]), name) in band]
                if inb:
                    ratio = [band[(sex, int(r["age"]), name)] for r in inb]
                    ax.fill_between(
                        [r["age"] for r in inb],
                        [r[name] * q[0] for r, q in zip(inb, ratio, strict=True)],
                        [r[name] * q[1] for r, q in zip(inb, ratio, strict=True)],
                        color=colour,
                        alpha=0.15,
                        lw=0,
                    )
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
            "healthy subjects (points) vs normative median (lines; red female, blue male) and "
            "DLMUSE 25-75 centile band (shaded, single-region rows, ages 40-90), mL"
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
    options: QaOptions | None = None,
) -> dict[str, Any]:
    """Write qa/qa.json and qa/report.html; raises Refused (after writing them) when
    `options.refuse_memorised` and the memorisation check flagged subjects."""
    opts = options or QaOptions()
    model_dir = Path(models_dir or "public/models") / str(model.get("id"))
    data = compute(spec, model, rows, model_dir, Path(out), opts)
    reason = refusal(data)
    data["refused"] = bool(opts.refuse_memorised and reason)
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
        f"{body}{_memorisation_html(data['memorisation'])}{_realism_html(data['realism'])}"
        f"<h2>Numbers</h2><pre>{html.escape(json.dumps(data, indent=1))}</pre>"
        "</body></html>"
    )
    bids.atomic_write(folder / "report.html", page.encode())
    if data["refused"] and reason:
        raise Refused(f"dataset refused: {reason}")
    return data


def _memorisation_html(mem: dict[str, Any]) -> str:
    e = html.escape
    if mem["status"] == "not-checked":
        return f"<h2>Memorisation</h2><p>Not checked: {e(mem['reason'])}</p>"
    rows = "".join(
        f"<tr><td>{e(s['participant_id'])}</td><td>{s['closestTrainingDice']:.4f}</td>"
        f"<td>{e(s['closestTrainingSubject'])}</td><td>{s['meanAnatomyClosest']:.4f}</td>"
        f"<td>{'FLAGGED' if s['flagged'] else ''}</td></tr>"
        for s in mem["subjects"]
    )
    flagged = ", ".join(mem["flagged"]) or "none"
    return (
        f"<h2>Memorisation: {e(mem['status'])}</h2>"
        f"<p>{mem['sampled']} of {mem['of']} subjects vs {mem['trainingSubjects']} training "
        f"subjects; training nearest-neighbour Dice max {mem['trainingNearestNeighbourMax']:.4f}"
        f" (median {mem['trainingNearestNeighbourMedian']:.4f}). Flagged: {e(flagged)}.</p>"
        f"<p>Rule: {e(mem['rule'])}.</p>"
        "<table border='1'><tr><th>subject</th><th>closest training Dice</th>"
        "<th>training subject</th><th>mean anatomy's closest</th><th></th></tr>"
        f"{rows}</table>"
    )


def _realism_html(real: dict[str, Any]) -> str:
    e = html.escape
    if real["status"] == "not-checked":
        return f"<h2>Realism</h2><p>Not checked: {e(real['reason'])}</p>"

    def f(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.4g}"

    rows = "".join(
        f"<tr><td>{e(t['label'])}</td><td>{e(t['unit'])}</td>"
        f"<td>{f(t['realMean'])} ± {f(t['realSd'])}</td>"
        f"<td>{f(t['datasetMean'])} ± {f(t['datasetSd'])}</td><td>{f(t['z'])}</td></tr>"
        for t in real["statistics"].values()
    )
    return (
        f"<h2>Realism</h2><p>{len(real['subjects'])} dataset T1w images vs "
        f"{real['realScans']} real IXI T1s; {e(real['method'])}. |z| &gt; 2: "
        f"{e(', '.join(real['beyond2Sd']) or 'none')}.</p>"
        "<table border='1'><tr><th>statistic</th><th>unit</th><th>real mean ± sd</th>"
        f"<th>dataset mean ± sd</th><th>z</th></tr>{rows}</table>"
    )

"""Report: realism.json (every figure), report.md + report.html with plots, the manifest entry.

The plots and the slice mosaic are report artifacts under the output folder (git-ignored):
the mosaic shows real IXI slices, which must never be committed into the repository.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402

from brainsynth.common.head_profile import N_BINS  # noqa: E402
from brainsynth.common.tissue import brain_mask  # noqa: E402
from brainsynth.qa.realism.benchmark import SET_LABELS, Results, ScanResult  # noqa: E402
from brainsynth.qa.realism.data import canonical  # noqa: E402
from brainsynth.qa.realism.stats import HIGH_BAND, LOW_BAND, SLOPE_BAND, spectrum_centres  # noqa: E402

WINDOW = (0.0, 1.5)  # display window in WM units, the same for every panel
COLOURS = {"real": "0.35", "synthetic-2mm": "tab:red", "synthetic-1mm": "tab:blue"}


def _fmt(v: float, digits: int = 3) -> str:
    if not math.isfinite(v):
        return "n/a"
    return f"{v:.{digits}g}" if abs(v) >= 100 else f"{v:.{digits}f}"


def z_text(z: float | None) -> str:
    return "real sd 0" if z is None else f"{z:+.1f}"


def statistics_table(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    kinds = list(summary["sets"])
    head = ["statistic", "real mean ± sd"] + [f"{SET_LABELS[k]}: mean (z)" for k in kinds]
    rows = []
    for name, row in summary["statistics"].items():
        lab = summary["statisticLabels"][name]
        unit = f" [{lab['unit']}]" if lab["unit"] else ""
        cells = [f"{lab['label']}{unit}", f"{_fmt(row['realMean'])} ± {_fmt(row['realSd'])}"]
        cells += [f"{_fmt(row[k]['mean'])} ({z_text(row[k]['z'])})" for k in kinds]
        rows.append(cells)
    return head, rows


def classifier_table(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    c = summary["classifiers"]
    kinds = list(summary["sets"])
    head = (
        ["classifier", "features"]
        + [f"real vs {SET_LABELS[k]}" for k in kinds]
        + ["chance control (random halves of the real set): mean [min–max]"]
    )
    rows = []
    for feats, flabel in (
        ("allStatistics", f"all {len(c['features'])}"),
        ("appearanceOnly", f"appearance {len(c['appearanceFeatures'])}"),
    ):
        for name in ("logistic", "rbfSvm", "randomForest"):
            ch = c["chanceControl"][feats][name]
            rows.append(
                [name, flabel]
                + [f"{c[k][feats][name]:.2f}" for k in kinds]
                + [f"{ch['mean']:.2f} [{ch['min']:.2f}–{ch['max']:.2f}]"]
            )
    return head, rows


def contrast_table(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    head = ["contrast", "ratio", "real range (n)", "synthetic case", "synthetic", "inside"]
    rows = []
    for r in (summary.get("t2Flair") or {}).get("comparison", []):
        rows.append(
            [
                r["contrast"],
                r["ratio"],
                f"{r['realMin']:.2f}–{r['realMax']:.2f} ({r['realN']})",
                r["syntheticCase"],
                f"{r['synthetic']:.2f}",
                "yes" if r["inside"] else "no",
            ]
        )
    return head, rows


def real_contrast_table(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    head = ["case", "contrast", "segmentation", "GM/WM", "CSF/WM", "lesion/WM, lesion/GM"]
    rows = []
    t2 = summary.get("t2Flair") or {}
    for c in t2.get("real", []) + t2.get("synthetic", []):
        les = "; ".join(
            f"{k} {v['lesionWm']:.2f}, {v['lesionGm']:.2f}" for k, v in c["lesions"].items()
        )
        rows.append(
            [
                c["case"],
                c["contrast"],
                c.get("segmentation", "own labels"),
                f"{c['gmWm']:.2f}",
                f"{c['csfWm']:.2f}",
                les or "–",
            ]
        )
    return head, rows


def markdown_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def html_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def plot_histograms(res: Results, path: Path) -> None:
    bins = np.linspace(0, 1.6, 41)  # 0.04 wide: wider than every scan's quantisation step
    fig, ax = plt.subplots(figsize=(7, 4))
    for kind, scans in [("real", res.real), *res.synthetic.items()]:
        for i, r in enumerate(scans):
            h, _ = np.histogram(r.measured.brain_intensities, bins, density=True)
            ax.plot(
                0.5 * (bins[1:] + bins[:-1]),
                h,
                color=COLOURS[kind],
                lw=0.6,
                alpha=0.5,
                label=(SET_LABELS.get(kind, kind) if i == 0 else None),
            )
    ax.set_xlabel("intensity / eroded-WM median (brain mask)")
    ax.set_ylabel("density")
    ax.set_title("Whole-brain T1w intensity histograms")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_spectra(res: Results, path: Path) -> None:
    f = spectrum_centres()
    fig, ax = plt.subplots(figsize=(7, 4))
    for kind, scans in [("real", res.real), *res.synthetic.items()]:
        for i, r in enumerate(scans):
            s = r.measured.spectrum
            ax.loglog(
                f[1:],
                s[1:],
                color=COLOURS[kind],
                lw=0.6,
                alpha=0.5,
                label=(SET_LABELS.get(kind, kind) if i == 0 else None),
            )
    for band, c in ((SLOPE_BAND, "0.9"), (LOW_BAND, "#dde8f5"), (HIGH_BAND, "#f5e6dd")):
        ax.axvspan(*band, color=c, alpha=0.4, zorder=0)
    ax.set_xlabel("spatial frequency (cycles/voxel, 2 mm voxels)")
    ax.set_ylabel("radially averaged power")
    ax.set_title(f"Brain power spectra (grey band: slope fit {SLOPE_BAND[0]}–{SLOPE_BAND[1]})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_z(summary: dict[str, Any], path: Path) -> None:
    names = list(summary["statistics"])
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(names) + 1.2))
    for j, kind in enumerate(summary["sets"]):
        z = [summary["statistics"][n][kind]["z"] for n in names]
        z = [np.nan if v is None else float(np.clip(v, -30, 30)) for v in z]
        ax.barh(
            np.arange(len(names)) + 0.4 * j,
            z,
            height=0.4,
            color=COLOURS[kind],
            label=SET_LABELS[kind],
        )
    ax.axvspan(-1, 1, color="0.85", zorder=0)
    ax.set_yticks(np.arange(len(names)) + 0.2, names)
    ax.invert_yaxis()
    ax.set_xlabel("z = (synthetic − real mean) / real sd, clipped to ±30 (grey: target ±1)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _slices(r: ScanResult) -> tuple[np.ndarray, np.ndarray]:
    s = r.scan
    img = canonical(s.normalised(), s.affine)
    brain = np.asarray(canonical(brain_mask(s.classes).astype(np.uint8), s.affine)) > 0
    c = np.rint(ndimage.center_of_mass(brain)).astype(int)
    return img[:, :, c[2]].T, img[:, c[1], :].T


def plot_mosaic(res: Results, path: Path, n_subjects: int = 4) -> None:
    """Real and synthetic axial and coronal slices through each brain's centre, same window."""
    order = np.argsort([r.scan.age for r in res.real])
    pick = [
        int(order[i])
        for i in np.unique(
            np.rint(np.linspace(0, len(order) - 1, min(n_subjects, len(order)))).astype(int)
        )
    ]
    sets = [("real IXI", res.real)] + [(SET_LABELS[k], v) for k, v in res.synthetic.items()]
    fig, axes = plt.subplots(
        len(pick), 2 * len(sets), figsize=(2.2 * 2 * len(sets), 2.4 * len(pick)), squeeze=False
    )
    for row, i in enumerate(pick):
        for j, (label, scans) in enumerate(sets):
            ax_img, cor_img = _slices(scans[i])
            for k, (img, view) in enumerate(((ax_img, "axial"), (cor_img, "coronal"))):
                ax = axes[row, 2 * j + k]
                ax.imshow(
                    img,
                    cmap="gray",
                    vmin=WINDOW[0],
                    vmax=WINDOW[1],
                    origin="lower",
                    interpolation="nearest",
                )
                ax.set_xticks([])
                ax.set_yticks([])
                if row == 0:
                    ax.set_title(f"{label}\n{view}", fontsize=8)
                if j == 0 and k == 0:
                    ax.set_ylabel(
                        f"age {res.real[i].scan.age:.0f} {res.real[i].scan.sex}", fontsize=8
                    )
    fig.suptitle(f"T1w, window {WINDOW[0]}–{WINDOW[1]} × WM median (every panel)", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(path, dpi=100)
    plt.close(fig)


METHOD = (
    "python -m brainsynth.qa.realism (docs/MODEL.md, Realism benchmark): the real IXI T1s "
    "(2 mm, DLMUSE labels) vs one synthetic twin each (same age and sex, healthy, random seed), "
    "quantised like the real files; z = (synthetic mean - real mean) / real sd; classifiers "
    "leave-one-pair-out on the standardised statistics."
)
STYLE = (
    "body{font-family:sans-serif;max-width:1200px;margin:auto}"
    "table{border-collapse:collapse;font-size:13px}"
    "td,th{border:1px solid #ccc;padding:2px 6px}img{max-width:100%}"
)
CONTRAST_WINDOWS = {"T2w": (0.0, 3.5), "FLAIR": (0.0, 2.2)}  # WM units
CONTRAST_ROWS = (  # (row title, real slice key or None, synthetic slice key)
    ("FLAIR, healthy", "older-adult FLAIR template FLAIR", "synthetic healthy FLAIR"),
    ("FLAIR, MS", "MS patient07 FLAIR", "synthetic ms FLAIR"),
    ("T2w, glioma", "glioma TCGA-DU-7294 T2w", "synthetic glioma T2w"),
    ("FLAIR, glioma", "glioma OtherEXampleFromTCIA FLAIR", "synthetic glioma FLAIR"),
    ("T2w, stroke", "stroke T2 (neurolabusc tutorial) T2w", "synthetic stroke T2w"),
    ("FLAIR, stroke", None, "synthetic stroke FLAIR"),
    ("T2w, healthy", None, "synthetic healthy T2w"),
)


def plot_contrast_mosaic(slices: dict[str, np.ndarray], path: Path) -> bool:
    """Real vs synthetic T2w/FLAIR axial slices through the lesion, same window per contrast."""
    rows = [r for r in CONTRAST_ROWS if r[2] in slices]
    if not rows:
        return False
    fig, axes = plt.subplots(len(rows), 2, figsize=(5.2, 2.5 * len(rows)), squeeze=False)
    for i, (title, real_key, syn_key) in enumerate(rows):
        win = CONTRAST_WINDOWS[title.split(",")[0]]
        for j, key in enumerate((real_key, syn_key)):
            ax = axes[i, j]
            ax.set_xticks([])
            ax.set_yticks([])
            if key is None or key not in slices:
                ax.text(0.5, 0.5, "no real image", ha="center", va="center", fontsize=8)
            else:
                ax.imshow(slices[key], cmap="gray", vmin=win[0], vmax=win[1], origin="lower")
            ax.set_title(f"{title}: {'real' if j == 0 else 'synthetic'}\n{key or ''}", fontsize=7)
    fig.suptitle("T2w window 0-3.5, FLAIR 0-2.2 x WM median", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def plot_vault_profiles(res: Results, path: Path) -> None:
    """The head's layers above the brain: every scan's vault profile (thin) and each set's
    median (thick), T1w over the eroded-WM median against normalised depth brain -> skin."""
    t = (np.arange(N_BINS) + 0.5) / N_BINS
    fig, ax = plt.subplots(figsize=(7, 4))
    for kind, scans in [("real", res.real), *res.synthetic.items()]:
        profiles = np.array([r.measured.vault_profile for r in scans])
        for p in profiles:
            ax.plot(t, p, color=COLOURS[kind], lw=0.5, alpha=0.3)
        ax.plot(
            t,
            np.nanmedian(profiles, axis=0),
            color=COLOURS[kind],
            lw=2.5,
            label=f"{SET_LABELS.get(kind, kind)} (median of {len(scans)})",
        )
    ax.set_xlabel("normalised depth t above the brain (0 = brain surface, 1 = skin)")
    ax.set_ylabel("T1w / eroded-WM median (bin median)")
    ax.set_title("Head over the vault: CSF, skull, scalp layers (common.head_profile)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


FIGURES = {
    "histograms": "histograms.png",
    "spectra": "spectra.png",
    "headProfile": "head-profile.png",
    "z": "z-scores.png",
    "mosaic": "mosaic-t1w.png",
    "mosaicT2Flair": "mosaic-t2-flair.png",
}


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON-serialisable: {type(o)}")


def headline(summary: dict[str, Any]) -> dict[str, Any]:
    """The compact figures for the manifest's metrics.realism (and summary.json)."""
    stats = {
        name: {"realMean": round(r["realMean"], 4), "realSd": round(r["realSd"], 4)}
        | {
            k: {
                "mean": round(r[k]["mean"], 4),
                "z": None if r[k]["z"] is None else round(r[k]["z"], 2),
            }
            for k in summary["sets"]
        }
        for name, r in summary["statistics"].items()
    }
    c = summary["classifiers"]
    t2 = summary.get("t2Flair")
    out: dict[str, Any] = {
        "date": summary["date"],
        "label": summary["label"],
        "modelVersion": summary["model"]["version"],
        "gitCommit": summary["gitCommit"],
        "command": summary["command"],
        "method": METHOD,
        "nReal": summary["nReal"],
        "sets": summary["sets"],
        "statistics": stats,
        "classifierAccuracy": {k: c[k] for k in summary["sets"]}
        | {
            "chanceControl": {
                f: {
                    n: round(v["mean"], 3)
                    for n, v in c["chanceControl"][f].items()
                    if n != "repeats"
                }
                for f in ("allStatistics", "appearanceOnly")
            }
        },
    }
    if t2:
        out["t2FlairContrast"] = {
            "insideRealRange": t2["insideRealRange"],
            "ratiosCompared": t2["ratiosCompared"],
            "rows": [
                {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}
                for r in t2["comparison"]
            ],
        }
    return out


def write(res: Results, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    s = res.summary
    paths = {k: out / v for k, v in FIGURES.items()}
    plot_histograms(res, paths["histograms"])
    plot_spectra(res, paths["spectra"])
    plot_vault_profiles(res, paths["headProfile"])
    plot_z(s, paths["z"])
    plot_mosaic(res, paths["mosaic"])
    if not plot_contrast_mosaic(res.contrast_slices, paths["mosaicT2Flair"]):
        del paths["mosaicT2Flair"]
    (out / "realism.json").write_text(json.dumps(s, indent=1, default=_json_default))
    (out / "summary.json").write_text(json.dumps(headline(s), indent=1, default=_json_default))
    tables = [
        ("Statistics (T1w)", statistics_table(s)),
        ("Real vs synthetic classifiers (leave-one-pair-out accuracy)", classifier_table(s)),
    ]
    if s.get("t2Flair"):
        tables += [
            ("T2w/FLAIR contrast ratios: synthetic vs the real range", contrast_table(s)),
            ("T2w/FLAIR contrast ratios per case", real_contrast_table(s)),
        ]
    title = f"Realism benchmark — {s['model']['id']} {s['model']['version']}, {s['date']}"
    intro = (
        f"{s['label']}. {s['nReal']} real IXI T1 scans vs one synthetic twin each "
        f"({', '.join(s['sets'].values())}). Command: `{s['command']}`. "
        f"Wall time {s['wallSeconds']['total']:.0f} s. z = (synthetic mean − real mean) / real sd. "
        "The mosaic shows real image slices: a report artifact, never to be committed."
    )
    md = [f"# {title}", "", intro, ""]
    hb = [f"<h1>{html.escape(title)}</h1>", f"<p>{html.escape(intro)}</p>"]
    for name, (head, rows) in tables:
        md += [f"## {name}", "", markdown_table(head, rows), ""]
        hb += [f"<h2>{html.escape(name)}</h2>", html_table(head, rows)]
    figs = {k: p.name for k, p in paths.items()}
    md += ["## Figures", ""] + [f"![{k}]({v})" for k, v in figs.items()]
    hb += ["<h2>Figures</h2>"] + [f'<p><img src="{v}" alt="{k}"></p>' for k, v in figs.items()]
    (out / "report.md").write_text("\n".join(md) + "\n")
    (out / "model-card-section.md").write_text(model_card_section(s))
    page_head = f"<meta charset='utf-8'><title>{html.escape(title)}</title><style>{STYLE}</style>"
    body = "".join(hb)
    (out / "report.html").write_text(
        f"<!doctype html><html><head>{page_head}</head><body>{body}</body></html>\n"
    )
    return paths | {
        "json": out / "realism.json",
        "md": out / "report.md",
        "html": out / "report.html",
        "summary": out / "summary.json",
        "modelCard": out / "model-card-section.md",
    }


def compact_contrast_table(summary: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """One row per (contrast, ratio): the real range and every synthetic case's value."""
    head = ["contrast", "ratio", "real range (n cases)", "synthetic (case: value, * = outside)"]
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in (summary.get("t2Flair") or {}).get("comparison", []):
        grouped.setdefault((r["contrast"], r["ratio"]), []).append(r)
    rows = []
    for (c, ratio), rs in grouped.items():
        syn = ", ".join(
            f"{r['syntheticCase'].removeprefix('synthetic ')} {r['synthetic']:.2f}"
            + ("" if r["inside"] else "*")
            for r in rs
        )
        rows.append(
            [c, ratio, f"{rs[0]['realMin']:.2f}–{rs[0]['realMax']:.2f} ({rs[0]['realN']})", syn]
        )
    return head, rows


def model_card_section(summary: dict[str, Any]) -> str:
    """The tables of docs/MODEL.md's "Realism benchmark" section, from this run."""
    s = summary
    w = s["wallSeconds"]
    parts = [
        f"Measured {s['date']} on `{s['model']['id']}` {s['model']['version']} "
        f"(git {s['gitCommit']}), {s['nReal']} real scans: **{s['label']}**. "
        f"`{s['command']}`: {w['total']:.0f} s wall "
        f"({', '.join(f'{k} {v:.0f} s' for k, v in w.items() if k != 'total')}).",
        "",
        markdown_table(*statistics_table(s)),
        "",
        "Leave-one-pair-out accuracy, real vs synthetic (chance control: random halves of the "
        "real set):",
        "",
        markdown_table(*classifier_table(s)),
    ]
    if s.get("t2Flair"):
        t2 = s["t2Flair"]
        parts += [
            "",
            f"T2w/FLAIR contrast ratios (medians; {t2['insideRealRange']} of "
            f"{t2['ratiosCompared']} synthetic ratios inside the real range):",
            "",
            markdown_table(*compact_contrast_table(s)),
        ]
    return "\n".join(parts) + "\n"


def update_manifest(model_dir: Path, summary: dict[str, Any]) -> None:
    """Set metrics.realism (only that key), keeping the file's 1-space indent, no newline."""
    p = model_dir / "manifest.json"
    man = json.loads(p.read_text())
    man.setdefault("metrics", {})["realism"] = headline(summary)
    p.write_text(json.dumps(man, indent=1, default=_json_default) + "\n")

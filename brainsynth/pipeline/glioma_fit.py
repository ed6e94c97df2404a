"""Calibrate the glioma's appearance (labels 711/712/713) and the post-contrast T1 (T1c) on the
two real TCGA-LGG cases of BrainLesion-tutorials (T1, T1c, T2, FLAIR + automated BraTS labels:
1 necrosis / non-enhancing core, 2 oedema, 4 enhancing tumour).

    python -m brainsynth.pipeline.glioma_fit --data ../shared/data [--model DIR] [--dry-run]
    python -m brainsynth.pipeline.glioma_fit --reapply   # from the stored ratios, no data read

Measurement, per case (1 mm, skull-stripped, co-registered; labels = `fusion/simple`):
- normal-appearing brain = the brain mask eroded by 3 voxels minus the tumour dilated by 10
  voxels; its tissues by 3-class k-means on standardised (log T1, log T2) (CSF: low T1/high T2,
  GM, WM), each class eroded by one voxel ("pure");
- per contrast: median of each tumour class and of GM/CSF divided by the median of the pure
  normal-appearing WM (NAWM), and the robust SD (IQR/1.349) of each tumour class / NAWM median.
Only these ratios are kept (`pathology.glioma.appearance.measured`); the images never leave
the data folder.

Model (`apply`, idempotent: everything is recomputed from the stored ratios and the T1w table):
- T1w, T2w, FLAIR: the mean of 711 (core), 712 (rim), 713 (oedema) = the median over cases of
  the class ratio (BraTS 1, 4, 2); SD likewise from the robust SDs (at most 0.3 of the mean).
- T1c = a pre-contrast T1-weighted image of the T1c acquisition times a per-label contrast-agent
  uptake: `T1c[l] = h(T1w[l]) * (1 + u[l])`. `h` maps a T1w ratio to the T1c acquisition's
  pre-contrast ratio, piecewise linear through (0, 0) and the healthy (CSF, GM, WM) pairs (median
  over cases of T1 and T1c ratios; the last slope continued above WM). Healthy brain behind an
  intact blood-brain barrier has u = 0; tumour classes get the u that reproduces their measured
  T1c ratio (clamped to >= 0): the rim enhances, necrosis and oedema barely; extra-axial
  vascular tissue without a barrier (dura, vessels) gets the literature-style UPTAKE_EXTRA.
  SDs: the T1w SD scaled with the mean (tumour: the measured T1c robust SD).
  `ageSlopePerDecade.T1c` = the T1w slopes times h's local slope (healthy tissue ages alike).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from brainsynth.common.nifti import load_nifti
from brainsynth.pathologies.glioma import OEDEMA_FACTOR, SHAPE
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.schema import load_conditions_schema, validate_manifest

CASES = ("TCGA-DU-7294", "OtherEXampleFromTCIA")
FOLDER = "BrainLesion-tutorials/BraTS-Toolkit/data"
SEQUENCES = {"T1w": "t1", "T1c": "t1c", "T2w": "t2", "FLAIR": "fla"}
CLASSES = {"core": 1, "oedema": 2, "rim": 4}  # BraTS label of each of our tumour labels
LABEL_OF = {"core": 711, "rim": 712, "oedema": 713}
MIN_VOXELS = 50
SD_CAP = 0.3
# uptake of extra-axial tissue without a blood-brain barrier (dura enhances, vessels are
# bright with gadolinium): literature-style values, not measured here
UPTAKE_EXTRA = {"dura": 1.0, "vessel": 1.5}
PROVENANCE = {
    "source": "BrainLesion tutorials (BraTS-Toolkit data): TCIA TCGA-LGG cases TCGA-DU-7294 and "
    "TCGA-FG-6692 (T1, T1c, T2, FLAIR; automated BraTS labels)",
    "licence": "TCIA CC BY 3.0 (images); Apache-2.0 (repository)",
    "use": "glioma label intensities per contrast and the T1c healthy/tumour ratios "
    "(median ratios to normal-appearing white matter only; no image is shipped)",
}


def _load(path: Path) -> NDArray[np.float32]:
    return np.asarray(load_nifti(path).dataobj, np.float32)


def _kmeans3(x: NDArray[np.float64]) -> NDArray[np.int64]:
    """3 classes on standardised (log T1, log T2): 0 CSF, 1 GM, 2 WM (deterministic init)."""
    c = np.array([[-2.5, 2.5], [-0.3, 0.3], [1.0, -1.0]])
    a = np.zeros(len(x), np.int64)
    for _ in range(40):
        a = np.argmin(((x[:, None, :] - c[None]) ** 2).sum(2), 1)
        c = np.array([x[a == k].mean(0) if (a == k).any() else c[k] for k in range(3)])
    return a


def measure_case(folder: Path, case: str) -> dict[str, Any]:
    base = folder / case / f"{case}_brainles"
    img = {c: _load(base / "raw_bet" / f"{case}_{s}_bet.nii.gz") for c, s in SEQUENCES.items()}
    seg = _load(base / "fusion" / "simple.nii.gz").astype(np.int16)
    brain = np.logical_and.reduce([v > 0 for v in img.values()])
    brain = ndimage.binary_erosion(brain, iterations=3)
    far = brain & ~ndimage.binary_dilation(seg > 0, iterations=10)
    feats = np.stack([np.log(img["T1w"][far]), np.log(img["T2w"][far])], 1).astype(np.float64)
    feats = (feats - np.median(feats, 0)) / feats.std(0)
    cls = np.zeros(seg.shape, np.int8)
    cls[far] = _kmeans3(feats) + 1
    pure = {k: ndimage.binary_erosion(cls == i + 1) for i, k in enumerate(("csf", "gm", "wm"))}
    out: dict[str, Any] = {"voxels": {k: int(v.sum()) for k, v in pure.items()}}
    out["voxels"].update({k: int((seg == v).sum()) for k, v in CLASSES.items()})
    for c, v in img.items():
        wm = float(np.median(v[pure["wm"]]))
        r: dict[str, Any] = {
            "gm": round(float(np.median(v[pure["gm"]])) / wm, 4),
            "csf": round(float(np.median(v[pure["csf"]])) / wm, 4),
        }
        for k, lab in CLASSES.items():
            sel = v[seg == lab] / wm
            if sel.size >= MIN_VOXELS:
                q1, q3 = np.percentile(sel, [25, 75])
                r[k] = round(float(np.median(sel)), 4)
                r[k + "Sd"] = round(float((q3 - q1) / 1.349), 4)
        out[c] = r
    return out


def measure(data: Path) -> dict[str, Any]:
    folder = data / FOLDER
    return {
        "cases": {case: measure_case(folder, case) for case in CASES},
        "segmentation": "fusion/simple",
    }


def _median(measured: dict[str, Any], contrast: str, key: str) -> float | None:
    vals = [m[contrast][key] for m in measured["cases"].values() if key in m[contrast]]
    return float(np.median(vals)) if vals else None


def t1c_map(measured: dict[str, Any]) -> tuple[list[float], list[float]]:
    """Knots of h: (0, 0) and the healthy (T1w ratio, T1c ratio) pairs CSF, GM, WM (medians
    over cases)."""
    xs = [0.0, _median(measured, "T1w", "csf"), _median(measured, "T1w", "gm"), 1.0]
    ys = [0.0, _median(measured, "T1c", "csf"), _median(measured, "T1c", "gm"), 1.0]
    return [float(x or 0) for x in xs], [float(y or 0) for y in ys]


def h_of(t: float, xs: list[float], ys: list[float]) -> tuple[float, float]:
    """h(t) and its slope: linear between the knots (the first is (0, 0)), last slope above."""
    for i in range(1, len(xs)):
        if t <= xs[i] or i == len(xs) - 1:
            s = (ys[i] - ys[i - 1]) / (xs[i] - xs[i - 1])
            return ys[i - 1] + s * (t - xs[i - 1]), s
    raise AssertionError  # pragma: no cover


def apply(man: dict[str, Any], measured: dict[str, Any]) -> dict[str, Any]:
    """Write the calibrated tumour means and the T1c table into `man` (in place); returns the
    summary stored under `pathology.glioma.appearance`."""
    labels = man["labels"]
    app = man["appearance"]
    idx = {int(e["value"]): i for i, e in enumerate(labels)}
    ratios: dict[str, dict[str, float]] = {}
    for c in ("T1w", "T2w", "FLAIR", "T1c"):
        ratios[c] = {}
        for k in (*CLASSES, "gm", "csf"):
            m = _median(measured, c, k)
            if m is not None:
                ratios[c][k] = round(m, 4)
            s = _median(measured, c, k + "Sd")
            if s is not None:
                ratios[c][k + "Sd"] = round(s, 4)
    for c in ("T1w", "T2w", "FLAIR"):
        table = app["contrasts"][c]
        for k, value in LABEL_OF.items():
            if value in idx and k in ratios[c]:
                m = ratios[c][k]
                table["mean"][idx[value]] = round(m, 4)
                table["sd"][idx[value]] = round(min(ratios[c].get(k + "Sd", 0.05), SD_CAP * m), 4)
    xs, ys = t1c_map(measured)
    t1 = app["contrasts"]["T1w"]
    uptake: list[float] = []
    means: list[float] = []
    sds: list[float] = []
    for i, e in enumerate(labels):
        pre, _ = h_of(float(t1["mean"][i]), xs, ys)
        if e["group"] == "background" or t1["mean"][i] == 0:
            pre = 0.0
        u = UPTAKE_EXTRA.get(str(e["group"]), 0.0)
        sd = float(t1["sd"][i]) * (pre / t1["mean"][i] if t1["mean"][i] else 1.0)
        cls = next((k for k, v in LABEL_OF.items() if v == e["value"]), None)
        if cls is not None and cls in ratios["T1c"] and pre > 0:
            u = max(ratios["T1c"][cls] / pre - 1.0, 0.0)
            sd = min(ratios["T1c"].get(cls + "Sd", sd), SD_CAP * pre * (1 + u))
        uptake.append(round(u, 4))
        means.append(round(pre * (1 + u), 4))
        sds.append(round(max(sd, 0.005) if pre > 0 else sd, 4))  # air keeps its SD 0
    app["contrasts"]["T1c"] = {"mean": means, "sd": sds}
    slope = app.get("ageSlopePerDecade", {}).get("T1w", {}).get("mean")
    if slope:
        app["ageSlopePerDecade"]["T1c"] = {
            "mean": [
                round(float(s) * h_of(float(t1["mean"][i]), xs, ys)[1], 5)
                for i, s in enumerate(slope)
            ]
        }
    summary = {
        "ratiosToNawm": ratios,
        "t1cPrecontrastMap": {"t1w": [round(x, 4) for x in xs], "t1c": [round(y, 4) for y in ys]},
        "uptake": {str(e["value"]): uptake[i] for i, e in enumerate(labels) if uptake[i] > 0},
        "measured": measured,
        "source": "brainsynth.pipeline.glioma_fit",
    }
    glioma = man["pathology"]["glioma"]
    # the shape model's parameters (brainsynth/pathologies/glioma.py, MODEL_FORMAT §4)
    glioma.update({**SHAPE, "oedemaFactor": OEDEMA_FACTOR})
    glioma["appearance"] = summary
    prov = [p for p in man.get("provenance", []) if p.get("source") != PROVENANCE["source"]]
    man["provenance"] = [*prov, dict(PROVENANCE)]
    # the manifest embeds the conditions schema verbatim (T1c is one of its contrasts)
    man["conditionsSchema"] = load_conditions_schema()
    return summary


def fit_model(model_dir: Path, data: Path, log: Any = print) -> dict[str, Any]:
    measured = measure(data)
    path = model_dir / "manifest.json"
    man = json.loads(path.read_text())
    summary = apply(man, measured)
    validate_manifest(man)
    path.write_text(json.dumps(man, indent=1) + "\n")
    log(f"glioma/T1c ratios to NAWM: {summary['ratiosToNawm']}")
    return summary


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--dry-run", action="store_true", help="measure and print, change nothing")
    ap.add_argument("--reapply", action="store_true", help="re-apply the stored ratios")
    args = ap.parse_args(argv)
    path = args.model / "manifest.json"
    if not path.is_file():
        raise SystemExit(f"{args.model} has no manifest.json")
    man = json.loads(path.read_text())
    if "glioma" not in man.get("pathology", {}):
        raise SystemExit(f"{path} has no pathology.glioma section")
    if args.reapply:
        stored = man["pathology"]["glioma"].get("appearance", {}).get("measured")
        if not stored:
            raise SystemExit(f"{path} holds no glioma ratios to re-apply: run without --reapply")
        measured = stored
    else:
        if not (args.data / FOLDER).is_dir():
            raise SystemExit(f"{args.data} has no {FOLDER} (the shared data folder?)")
        measured = measure(args.data)
    summary = apply(man, measured)
    print(json.dumps({k: summary[k] for k in ("ratiosToNawm", "uptake")}, indent=1))
    if args.dry_run:
        return
    validate_manifest(man)
    path.write_text(json.dumps(man, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

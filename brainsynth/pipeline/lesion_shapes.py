"""Lesion shape and location statistics from the real lesion masks, written into a model folder
in place (idempotent; brainsynth/pipeline/build.py runs it too):

    python -m brainsynth.pipeline.lesion_shapes --data ../shared/data [--model public/models/...]

Stroke (SOOP, OpenNeuro ds004889, 1,449 acute lesion masks in MNI; BSD-2 repository):
- each mask's dominant territory (ACA/MCA/PCA x side of the arterial atlas, `territories()`),
  and its size as the fraction of that territory it covers (`pathology.stroke.source`);
- `strokeLogFrequency` (uint8, 2 mm): per voxel, how often the *territorial* strokes (those
  covering >= 5 % of their dominant territory) of the voxel's own territory cover it, relative
  to that territory's maximum, stored as 40 ln((f + 0.01) / 0.01) (0..185). An aggregate over
  hundreds of masks (smoothed, sigma 1 voxel), never a single mask.
MS (Lesjak et al. 2017, 30 patients, CC-BY):
- the share of lesions that are infratentorial (most of the lesion in template brainstem /
  cerebellum) and juxtacortical (centroid within one 2 mm voxel of template cortex), measured
  on the MNI masks against the model's template labels (`pathology.ms.locationShares`);
- the share of T1 "black holes" (lesion median T1 below the cortex's, lesions >= 0.05 mL) on the
  3 patients with T1 + FLAIR (`pathology.ms.blackHoleFraction`).
It also appends the new pathology labels (702, 722) to the label table when missing and writes
their appearance (signal equations, brainsynth/pipeline/appearance.py) into every contrast.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from brainsynth import contrasts as contrast_modules
from brainsynth import pathologies
from brainsynth.common.grid import OUTPUT_GRID, to_file_order
from brainsynth.common.nifti import load_nifti
from brainsynth.model_io import read_volume
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline.appearance import RELAXATION
from brainsynth.pipeline.lesions import resample_to_grid, territories, territory_atlas
from brainsynth.pipeline.model_folder import write_gzip
from brainsynth.schema import validate_manifest

LOG_FREQUENCY_FILE = "stroke_log_frequency.u8.gz"
LOG_UNITS = 40.0  # stored value per natural-log unit
FREQUENCY_FLOOR = 0.01  # relative frequency added before the log
TERRITORIAL_MIN_FRACTION = 0.05  # strokes covering less of their territory are lacunar/small
SOOP = "neurolabusc-StrokeOutcomeOptimizationProjectDemo/NIfTI"
MS_MNI = "muschellij2-open_ms_data/cross_sectional/MNI"
INFRATENTORIAL_GROUPS = ("brainstem", "cerebellum-wm", "cerebellum-gm")

# Shape parameters of the stroke drawing (MODEL_FORMAT.md §4), chosen by looking at the result
STROKE_SHAPE: dict[str, float] = {
    "fieldSpacingVoxels": 8,  # lattice of the smooth random field, template voxels (16 mm)
    "fieldAmplitude": 60.0,  # field weight in stored log-frequency units (1.5 ln units)
    "rimMm": 2.0,  # gliosis band along surviving tissue
}

PROVENANCE = [
    {
        "source": "Stroke Outcome Optimization Project (SOOP, OpenNeuro ds004889): 1,449 acute "
        "stroke lesion masks in MNI (neurolabusc/StrokeOutcomeOptimizationProjectDemo)",
        "licence": "BSD-2 (repository); OpenNeuro ds004889",
        "use": "stroke lesion-frequency map per arterial territory (aggregate of the territorial "
        "strokes) and stroke-size distribution",
    },
    {
        "source": "Open MS data (Lesjak et al. 2017): lesion masks of 30 patients, T1/FLAIR of 3",
        "licence": "CC-BY",
        "use": "MS lesion location shares (juxtacortical, infratentorial) and T1 black-hole "
        "fraction",
    },
]


def stroke_statistics(
    data: Path, terr2: NDArray[np.uint8]
) -> tuple[NDArray[np.uint8], dict[str, Any]]:
    base = data / SOOP
    img, lut = territory_atlas(data)
    codes = lut[np.clip(np.asarray(img.dataobj).astype(np.int64), 0, 255)]
    tv = np.bincount(codes.ravel(), minlength=7)
    acc = np.zeros((7, *codes.shape), np.float32)
    fractions: dict[int, list[float]] = {c: [] for c in range(1, 7)}
    files = sorted(base.glob("bwsrsub-*_lesion.nii.gz"))
    unassigned = 0
    for f in files:
        m = np.asarray(load_nifti(f).dataobj) > 0
        c = np.bincount(codes[m], minlength=7)
        if c[1:].sum() == 0:
            unassigned += 1
            continue
        d = 1 + int(np.argmax(c[1:]))
        frac = float(c[d]) / float(tv[d])
        fractions[d].append(frac)
        if frac >= TERRITORIAL_MIN_FRACTION:
            acc[d][m] += 1
    out = np.zeros(OUTPUT_GRID.shape, np.float32)
    names = {1: "ACA-left", 2: "ACA-right", 3: "MCA-left", 4: "MCA-right", 5: "PCA-left"}
    names[6] = "PCA-right"
    per: dict[str, Any] = {}
    for code in range(1, 7):
        fr = np.asarray(fractions[code])
        n_terr = int((fr >= TERRITORIAL_MIN_FRACTION).sum())
        if n_terr:
            freq = resample_to_grid(nib.Nifti1Image(acc[code] / n_terr, img.affine), OUTPUT_GRID)
            freq = ndimage.gaussian_filter(freq, 1.0)
            inside = terr2 == code
            peak = max(float(freq[inside].max()), 1e-6)
            out[inside] = freq[inside] / peak
        q = np.percentile(fr, [10, 25, 50, 75, 90]) if fr.size else np.zeros(5)
        pos = fr[fr > 0]
        per[names[code]] = {
            "strokes": int(fr.size),
            "territorialStrokes": n_terr,
            "fractionPercentiles10_25_50_75_90": [round(float(v), 4) for v in q],
            "logFractionMean": round(float(np.log(pos).mean()), 4) if pos.size else None,
            "logFractionSd": round(float(np.log(pos).std()), 4) if pos.size else None,
        }
    stored = np.round(LOG_UNITS * np.log((np.clip(out, 0, 1) + FREQUENCY_FLOOR) / FREQUENCY_FLOOR))
    stats = {
        "masks": len(files),
        "withoutTerritory": unassigned,
        "territorialMinFraction": TERRITORIAL_MIN_FRACTION,
        "logFrequencyUnits": LOG_UNITS,
        "frequencyFloor": FREQUENCY_FLOOR,
        "byTerritory": per,
    }
    return np.clip(stored, 0, 255).astype(np.uint8), stats


def _groups_on_grid(man: dict[str, Any], folder: Path) -> NDArray[np.str_]:
    template = read_volume(folder, man["arrays"]["templateLabels"]).astype(np.int64)
    groups = np.array([str(e["group"]) for e in man["labels"]])
    out: NDArray[np.str_] = groups[template]
    return out


def _to_grid_index(img: nib.Nifti1Image, ijk: NDArray[np.int64]) -> NDArray[np.int64]:
    inv = np.linalg.inv(OUTPUT_GRID.affine) @ img.affine
    q = np.rint(inv[:3, :3] @ ijk.T + inv[:3, 3:4]).astype(np.int64)
    out: NDArray[np.int64] = np.clip(q, 0, np.asarray(OUTPUT_GRID.shape)[:, None] - 1)
    return out


def ms_location_shares(data: Path, groups: NDArray[np.str_]) -> dict[str, Any]:
    infra = np.isin(groups, INFRATENTORIAL_GROUPS)
    near_cortex = ndimage.binary_dilation(groups == "cortex")  # 6-neighbourhood, 2 mm
    counts = {"cerebral": 0, "juxtacortical": 0, "infratentorial": 0}
    for f in sorted((data / MS_MNI).glob("patient*/GOLD_STANDARD*MNI.nii.gz")):
        img = load_nifti(f)
        lab, _ = ndimage.label(np.asarray(img.dataobj) > 0.5)
        vox_ml = float(abs(np.linalg.det(img.affine[:3, :3]))) / 1000.0
        for i, sl in enumerate(ndimage.find_objects(lab)):
            ijk = np.argwhere(lab[sl] == i + 1) + np.array([s.start for s in sl])
            if len(ijk) * vox_ml < 0.05:  # as ms_statistics: invisible at 2 mm
                continue
            q = _to_grid_index(img, ijk)
            c = _to_grid_index(img, np.rint(ijk.mean(0, keepdims=True)).astype(np.int64))[:, 0]
            if infra[q[0], q[1], q[2]].mean() > 0.5:
                counts["infratentorial"] += 1
            elif near_cortex[c[0], c[1], c[2]]:
                counts["juxtacortical"] += 1
            else:
                counts["cerebral"] += 1
    total = max(sum(counts.values()), 1)
    return {
        "lesions": counts,
        "juxtacortical": round(counts["juxtacortical"] / total, 4),
        "infratentorial": round(counts["infratentorial"] / total, 4),
    }


def ms_black_holes(data: Path, groups: NDArray[np.str_]) -> dict[str, Any]:
    """Lesions (>= 0.05 mL) whose median T1 lies below the median of the cortex (eroded template
    cortex) on the 3 patients with T1: the share of T1-hypointense 'black holes'."""
    holes = total = 0
    ratios: list[dict[str, float]] = []
    for d in sorted((data / MS_MNI).glob("patient*")):
        t1f = sorted(d.glob("T1*MNI.nii.gz"))
        flf = sorted(d.glob("FLAIR*MNI.nii.gz"))
        if not t1f or not flf:
            continue
        img = load_nifti(next(d.glob("GOLD_STANDARD*MNI.nii.gz")))
        m = np.asarray(img.dataobj) > 0.5
        t1 = np.asarray(load_nifti(t1f[0]).dataobj, np.float32)
        fl = np.asarray(load_nifti(flf[0]).dataobj, np.float32)
        ijk = np.indices(m.shape).reshape(3, -1).T
        q = _to_grid_index(img, ijk)
        g = groups[q[0], q[1], q[2]].reshape(m.shape)
        wm = ndimage.binary_erosion(g == "wm", iterations=2)
        wm &= ~ndimage.binary_dilation(m, iterations=2) & (fl > 0)
        gm = ndimage.binary_erosion(g == "cortex") & (fl > 0)
        wm_t1, wm_fl = float(np.median(t1[wm])), float(np.median(fl[wm]))
        gm_t1 = float(np.median(t1[gm])) / wm_t1
        lab, n = ndimage.label(m)
        sizes = np.bincount(lab.ravel())[1:]
        med = np.asarray(ndimage.median(t1, lab, np.arange(1, n + 1))) / wm_t1
        big = sizes * float(abs(np.linalg.det(img.affine[:3, :3]))) / 1000 >= 0.05
        holes += int((med[big] < gm_t1).sum())
        total += int(big.sum())
        ratios.append(
            {
                "flairLesionToWm": round(float(np.median(fl[m])) / wm_fl, 3),
                "t1LesionToWm": round(float(np.median(t1[m])) / wm_t1, 3),
                "t1CortexToWm": round(gm_t1, 3),
                "flairCortexToWm": round(float(np.median(fl[gm])) / wm_fl, 3),
            }
        )
    return {
        "fraction": round(holes / max(total, 1), 4),
        "blackHoles": holes,
        "lesions": total,
        "patients": ratios,
    }


def _append_labels(man: dict[str, Any]) -> list[int]:
    """Pathology labels the modules declare but the table lacks, appended (new indices)."""
    have = {int(e["value"]) for e in man["labels"]}
    added = []
    for lab in pathologies.all_labels():
        if lab.value in have:
            continue
        man["labels"].append(
            {
                "index": len(man["labels"]),
                "value": lab.value,
                "name": lab.name,
                "rgb": list(lab.rgb),
                "group": "pathology",
            }
        )
        added.append(lab.value)
    return added


def _pathology_appearance(man: dict[str, Any]) -> None:
    """The MS and stroke labels' mean/sd in every contrast from its relaxation (signal equations,
    relative to white matter, as appearance_tables does); other per-label arrays padded."""
    app = man["appearance"]
    rel = {
        lab.value: lab.relaxation for pid in ("ms", "stroke") for lab in pathologies.get(pid).labels
    }
    n = len(man["labels"])
    # contrasts with a signal module first; one without (none in this code) copies T1w's values
    order = sorted(app["contrasts"], key=lambda c: c not in contrast_modules.REGISTRY)
    for c in order:
        table = app["contrasts"][c]
        for key in ("mean", "sd"):
            table[key] += [0.0] * (n - len(table[key]))
        known = c in contrast_modules.REGISTRY
        wm = contrast_modules.get(c).signal(*RELAXATION["wm"]) if known else 1.0
        for e in man["labels"]:
            if e["value"] not in rel:
                continue
            i = e["index"]
            if not known:
                table["mean"][i] = app["contrasts"]["T1w"]["mean"][i]
                table["sd"][i] = app["contrasts"]["T1w"]["sd"][i]
                continue
            m = contrast_modules.get(c).signal(*rel[e["value"]]) / wm
            table["mean"][i] = round(float(m), 4)
            table["sd"][i] = round(float(max(0.04 * m, 0.01)), 4)
    for table in app.get("ageSlopePerDecade", {}).values():
        table["mean"] += [0.0] * (n - len(table["mean"]))
    # the fits' per-label starting points (appearance_fit, render_fit) follow the label table:
    # a re-run of those steps starts from these lesion values (they leave lesion labels as
    # they are)
    measured = app.get("measured", {})
    fit = measured.get("ixiFit", {})
    if isinstance(fit.get("baseSd"), list):
        _follow(man, fit["baseSd"], app["contrasts"]["T1w"]["sd"], rel)
    render = measured.get("renderFit", {})
    if isinstance(render.get("baseMean"), list):
        _follow(man, render["baseMean"], app["contrasts"]["T1w"]["mean"], rel)
    for c, base in (render.get("baseMeans") or {}).items():
        if c in app["contrasts"] and isinstance(base, list):
            _follow(man, base, app["contrasts"][c]["mean"], rel)


def _follow(
    man: dict[str, Any], base: list[float], table: list[float], own: dict[int, Any]
) -> None:
    """Pad a per-label list to the label table and copy `table`'s values for our labels."""
    base += table[len(base) :]
    for e in man["labels"]:
        if e["value"] in own:
            base[e["index"]] = table[e["index"]]


def update_model(model_dir: Path, data: Path) -> dict[str, Any]:
    man: dict[str, Any] = json.loads((model_dir / "manifest.json").read_text())
    _append_labels(man)
    _pathology_appearance(man)
    terr2 = territories(data)
    stored, stroke_stats = stroke_statistics(data, terr2)
    write_gzip(model_dir / LOG_FREQUENCY_FILE, to_file_order(stored))
    man["arrays"]["strokeLogFrequency"] = {
        "file": LOG_FREQUENCY_FILE,
        "dtype": "uint8",
        "shape": list(OUTPUT_GRID.shape),
    }
    stroke = man["pathology"].setdefault("stroke", {})
    stroke.update(STROKE_SHAPE)
    stroke["source"] = stroke_stats
    groups = _groups_on_grid(man, model_dir)
    shares = ms_location_shares(data, groups)
    holes = ms_black_holes(data, groups)
    ms = man["pathology"].setdefault("ms", {})
    ms["locationShares"] = {
        "juxtacortical": shares["juxtacortical"],
        "infratentorial": shares["infratentorial"],
    }
    ms["blackHoleFraction"] = holes["fraction"]
    ms["siteFloor"] = 0.02
    ms.setdefault("source", {})["locations"] = shares
    ms["source"]["blackHoles"] = holes
    prov = man.setdefault("provenance", [])
    for p in PROVENANCE:
        prov[:] = [q for q in prov if q.get("source") != p["source"]]
        prov.append(p)
    validate_manifest(man)
    (model_dir / "manifest.json").write_text(json.dumps(man, indent=1) + "\n")
    return man


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = ap.parse_args(argv)
    if not (args.model / "manifest.json").is_file():
        raise SystemExit(f"{args.model} has no manifest.json")
    if not (args.data / SOOP).is_dir():
        raise SystemExit(f"{args.data} has no {SOOP}")
    man = update_model(args.model, args.data)
    st, ms = man["pathology"]["stroke"], man["pathology"]["ms"]
    print(
        json.dumps(
            {
                "strokeTerritories": {
                    k: v["fractionPercentiles10_25_50_75_90"]
                    for k, v in st["source"]["byTerritory"].items()
                },
                "msLocationShares": ms["locationShares"],
                "msBlackHoleFraction": ms["blackHoleFraction"],
                "msSource": {k: ms["source"][k] for k in ("locations", "blackHoles")},
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()

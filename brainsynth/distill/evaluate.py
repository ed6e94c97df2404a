"""Fidelity of the shipped student against the teacher, for the same (z, conditions).

`python -m brainsynth.distill.evaluate --config brainsynth/distill/config.json`

Reads the student from the model folder (the dequantised weights the browser uses), then on
held-out pairs (the `test` split: seeds never used in training):
- label maps at 2 mm, student vs teacher: Dice of cortex, cerebral WM, lateral ventricles,
  hippocampus; regional volume error (%); the same for the naive u = v (no integration);
- lesions drawn after the anatomy (MS, stroke, glioma through the teacher's `generate`, with
  the student's displacement in place of exp(v)): Dice and centroid distance (mm);
- conditioning accuracy vs the normative table (z = 0, as `pipeline.build.conditioning_metrics`);
- longitudinal smoothness: one fixed z from age 20 to 90 in 1-year steps; the largest
  frame-to-frame change of lateral-ventricle and cortex volume and of voxel labels.
Writes `reports/distill/eval_report.json` and the manifest's `student.metrics`.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth import pathologies
from brainsynth.anatomy import (
    AnatomyModel,
    icv_scale,
    labels_from_displacement,
    region_volumes,
    velocity,
    with_local_field,
)
from brainsynth.common.grid import FloatArray
from brainsynth.common.warp import exp_velocity
from brainsynth.distill.data import (
    DataConfig,
    feature_normalisation,
    features,
    load_split,
)
from brainsynth.distill.export_student import read_student, set_manifest_section
from brainsynth.distill.student import Weights, forward_numpy
from brainsynth.model_io import gains_for, latents, load_model
from brainsynth.paths import DISTILL_CONFIG, REPO, repo_relative
from brainsynth.paths import DISTILL_EVAL_REPORT as EVAL_REPORT
from brainsynth.teacher.generate import VelocityState, generate

# Regions of the model (manifest `regions`) scored by Dice; lesions: every pathology with labels.
STRUCTURES = ("cortex", "cerebral-wm", "lateral-ventricles", "hippocampus")
LESIONS = {p.id: [lab.value for lab in p.labels] for p in pathologies.REGISTRY.values() if p.labels}


def dice(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    s = int(a.sum()) + int(b.sum())
    return 1.0 if s == 0 else 2.0 * int((a & b).sum()) / s


class Pair:
    """Teacher and student displacement for one (z, conditions)."""

    def __init__(
        self, model: AnatomyModel, man: dict[str, Any], w: Weights, use_gains: bool
    ) -> None:
        self.model, self.man, self.w, self.use_gains = model, man, w, use_gains
        self.norm = feature_normalisation(man)
        self.structures = {
            r["name"]: list(r["labels"]) for r in man["regions"] if r["name"] in STRUCTURES
        }

    def student(self, v: FloatArray, z: NDArray[np.float64], cond: dict[str, Any]) -> FloatArray:
        """The student's displacement for velocity v of (z, conditions)."""
        g = gains_for(self.man, cond)
        return forward_numpy(self.w, features(z, cond, g if self.use_gains else None, self.norm), v)

    def fields(
        self, z: NDArray[np.float64], cond: dict[str, Any], seed: int | None = None
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """v, the teacher's exp(v) and the student's displacement; with `seed`, both composed
        with that seed's local field (step 4b), as every seeded sample is."""
        v = velocity(self.model, z, gains_for(self.man, cond))
        u_t = with_local_field(self.model, exp_velocity(v, self.model.vgrid), seed)
        return v, u_t, with_local_field(self.model, self.student(v, z, cond), seed)

    def scale(self, cond: dict[str, Any], z_icv: float) -> float:
        return icv_scale(self.man, cond["sex"], z_icv)

    def displacement(self, state: VelocityState) -> FloatArray:
        """The teacher's displacement hook with the student in place of exp(v)."""
        return self.student(state.v, state.z, state.conditions)


def _values(model: AnatomyModel, idx: NDArray[np.uint8]) -> NDArray[np.int32]:
    return model.label_values[idx]


HELD_OUT_FIELD_SEED = 900_000  # the held-out pairs' local fields (step 4b): seeds 900000 + i


def held_out(
    pair: Pair, ds_z: NDArray[np.float64], conds: list[dict[str, Any]], n: int
) -> dict[str, Any]:
    model = pair.model
    x = model.grid.world_coords()
    rng = np.random.default_rng(12345)
    rows = []
    for i in range(min(n, len(conds))):
        z, cond = ds_z[i], conds[i]
        k = pair.scale(cond, float(rng.standard_normal()))
        # each held-out individual with a local field of its own (seeds beyond the training's)
        v, u_t, u_s = pair.fields(z, cond, HELD_OUT_FIELD_SEED + i)
        it, is_, iv = (labels_from_displacement(model, f, k, x) for f in (u_t, u_s, v))
        lt, ls, lv = (_values(model, i) for i in (it, is_, iv))
        row: dict[str, Any] = {"conditions": cond, "fieldErrMaxMm": float(np.abs(u_s - u_t).max())}
        for name, labs in pair.structures.items():
            mt = np.isin(lt, labs)
            row[f"dice/{name}"] = dice(mt, np.isin(ls, labs))
            row[f"diceVOnly/{name}"] = dice(mt, np.isin(lv, labs))
        vt, vs, vv = (region_volumes(model, i) for i in (it, is_, iv))
        for r in vt:
            row[f"volErrPct/{r}"] = 100.0 * (vs[r] - vt[r]) / max(vt[r], 1e-9)
            row[f"volErrPctVOnly/{r}"] = 100.0 * (vv[r] - vt[r]) / max(vt[r], 1e-9)
        rows.append(row)
    return _summarise(rows)


def _summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k in rows[0] if "/" in k]
    out: dict[str, Any] = {"samples": len(rows)}
    for k in keys:
        a = np.asarray([r[k] for r in rows])
        if k.startswith("dice"):
            out[k] = {"mean": round(float(a.mean()), 4), "min": round(float(a.min()), 4)}
        else:
            out[k] = {
                "meanAbs": round(float(np.abs(a).mean()), 3),
                "p95Abs": round(float(np.percentile(np.abs(a), 95)), 3),
                "maxAbs": round(float(np.abs(a).max()), 3),
            }
    worst = max(rows, key=lambda r: r["fieldErrMaxMm"])
    out["worstFieldErrMm"] = {
        "value": round(worst["fieldErrMaxMm"], 3),
        "conditions": worst["conditions"],
    }
    return out


def lesions(pair: Pair, model_dir: Path, n_each: int) -> dict[str, Any]:
    rng = np.random.default_rng(777)
    k = pair.model.components.shape[0]
    out: dict[str, Any] = {}
    for path, labs in LESIONS.items():
        dices, dists = [], []
        for i in range(n_each):
            cond: dict[str, Any] = {
                "age": float(rng.uniform(20, 90)),
                "sex": "male" if i % 2 else "female",
                "pathology": path,
                "contrast": "T1w",
            }
            if path == "ms":
                cond["msLesionLoadMl"] = float(rng.uniform(2, 30))
            if path == "stroke":
                cond["strokeTerritory"] = ["ACA", "MCA", "PCA"][i % 3]
                cond["strokeSize"] = float(rng.uniform(0.1, 1.0))
            if path == "glioma":
                cond["gliomaRadiusMm"] = float(rng.uniform(8, 25))
            z = np.asarray(rng.standard_normal(k), np.float64)
            lat = (z, float(rng.standard_normal()))
            seed = int(rng.integers(0, 2**31))
            t = generate(model_dir, cond, seed, 2.0, explicit_latents=lat)
            s = generate(
                model_dir, cond, seed, 2.0, explicit_latents=lat, displacement=pair.displacement
            )
            mt, ms = np.isin(t.labels, labs), np.isin(s.labels, labs)
            dices.append(dice(mt, ms))
            if mt.any() and ms.any():
                ct = np.argwhere(mt).mean(0) * 2.0
                cs = np.argwhere(ms).mean(0) * 2.0
                dists.append(float(np.linalg.norm(ct - cs)))
        out[path] = {
            "samples": n_each,
            "diceMean": round(float(np.mean(dices)), 4),
            "diceMin": round(float(np.min(dices)), 4),
            "centroidErrMmMax": round(float(np.max(dists)), 3) if dists else None,
        }
    return out


def _normative(model_dir: Path) -> dict[str, dict[int, dict[str, float]]]:
    rows = [
        ln
        for ln in (model_dir / "normative_table.csv").read_text().splitlines()
        if not ln.startswith("#")
    ]
    out: dict[str, dict[int, dict[str, float]]] = {}
    for r in csv.DictReader(rows):
        out.setdefault(r["sex"], {})[int(r["age"])] = {
            k: float(v) for k, v in r.items() if k not in ("sex", "age")
        }
    return out


def conditioning(pair: Pair, model_dir: Path) -> dict[str, Any]:
    """z = 0: ratio of each region's volume to its value at 45 vs the normative ratio (ICV:
    absolute), as the pipeline reports for the exact sampler — for both samplers."""
    model = pair.model
    norm = _normative(model_dir)
    x = model.grid.world_coords()
    z = np.zeros(model.components.shape[0])
    regions = ["cortex", "cerebral-wm", "lateral-ventricles", "hippocampus", "icv"]
    rows, worst = [], {"student": 0.0, "teacher": 0.0}
    for sex in ("female", "male"):
        vols: dict[str, dict[int, dict[str, float]]] = {"student": {}, "teacher": {}}
        for age in (45, 20, 30, 40, 50, 60, 70, 80, 90):
            cond = {"age": age, "sex": sex, "pathology": "none"}
            k = pair.scale(cond, 0.0)
            _, u_t, u_s = pair.fields(z, cond)
            for who, u in (("teacher", u_t), ("student", u_s)):
                vols[who][age] = region_volumes(model, labels_from_displacement(model, u, k, x))
            for r in regions:
                n, n45 = norm[sex][age][r], norm[sex][45][r]
                row: dict[str, Any] = {"sex": sex, "age": age, "region": r}
                for who in ("teacher", "student"):
                    m, m45 = vols[who][age][r], vols[who][45][r]
                    err = m / n - 1 if r == "icv" else (m / m45) / (n / n45) - 1
                    row[f"{who}Ml"] = round(m, 2)
                    row[f"{who}RelativeError"] = round(err, 4)
                    worst[who] = max(worst[who], abs(err))
                rows.append(row)
    return {
        "method": "z = 0; ratio to age 45 vs the normative ratio (ICV: absolute), both samplers",
        "maxAbsRelativeError": {k: round(v, 4) for k, v in worst.items()},
        "rows": rows,
    }


def longitudinal(pair: Pair, seed: int, sex: str) -> dict[str, Any]:
    model, man = pair.model, pair.man
    z, z_icv = latents(man, seed)
    x = model.grid.world_coords()
    series: dict[str, list[Any]] = {"teacher": [], "student": []}
    for age in range(20, 91):
        cond = {"age": float(age), "sex": sex, "pathology": "none"}
        k = pair.scale(cond, z_icv)
        _, u_t, u_s = pair.fields(z, cond, seed)
        for who, u in (("teacher", u_t), ("student", u_s)):
            series[who].append(labels_from_displacement(model, u, k, x))
    out: dict[str, Any] = {"seed": seed, "sex": sex, "ages": [20, 90]}
    for who, frames in series.items():
        vol = [region_volumes(model, f) for f in frames]
        res: dict[str, Any] = {}
        for r in ("lateral-ventricles", "cortex"):
            a = np.asarray([v[r] for v in vol])
            d = np.abs(np.diff(a))
            res[r] = {
                "maxStepMl": round(float(d.max()), 3),
                "maxStepPct": round(float((100 * d / a[:-1]).max()), 3),
                "atAge": int(20 + d.argmax()),
                "ml20": round(float(a[0]), 2),
                "ml90": round(float(a[-1]), 2),
            }
        changed = [float((frames[i] != frames[i + 1]).mean()) for i in range(len(frames) - 1)]
        res["maxVoxelsChangedPct"] = round(100 * max(changed), 3)
        res["maxVoxelsChangedAtAge"] = int(20 + int(np.argmax(changed)))
        out[who] = res
    out["minDiceStudentVsTeacher"] = {
        name: round(
            min(
                dice(np.isin(_values(model, a), labs), np.isin(_values(model, b), labs))
                for a, b in zip(series["teacher"], series["student"], strict=True)
            ),
            4,
        )
        for name, labs in pair.structures.items()
    }
    return out


def evaluate(cfg: dict[str, Any]) -> dict[str, Any]:
    ec = cfg["evaluate"]
    dcfg = DataConfig.from_json(cfg)
    model_dir = dcfg.model_dir
    model, man = load_model(model_dir)
    w, _ = read_student(model_dir)
    pair = Pair(model, man, w, bool(cfg["student"]["useGains"]))
    test = load_split(dcfg, "test")
    t0 = time.perf_counter()
    rep: dict[str, Any] = {"heldOut": held_out(pair, test.z, test.conditions, int(ec["samples"]))}
    print("held-out", time.perf_counter() - t0)
    rep["lesions"] = lesions(pair, model_dir, int(ec["lesionSamples"]))
    print("lesions", time.perf_counter() - t0)
    rep["conditioning"] = conditioning(pair, model_dir)
    print("conditioning", time.perf_counter() - t0)
    rep["longitudinal"] = longitudinal(pair, int(ec["longitudinalSeed"]), ec["longitudinalSex"])
    rep["seconds"] = round(time.perf_counter() - t0, 1)
    return rep


def summary(rep: dict[str, Any]) -> dict[str, Any]:
    h = rep["heldOut"]
    vol_keys = [k for k in h if k.startswith("volErrPct/")]
    return {
        "heldOutSamples": h["samples"],
        "diceMean": {
            k.split("/")[1]: h[f"dice/{k.split('/')[1]}"]["mean"]
            for k in h
            if k.startswith("dice/")
        },
        "diceMin": {k.split("/")[1]: h[k]["min"] for k in h if k.startswith("dice/")},
        "diceMeanNoIntegration": {
            k.split("/")[1]: h[k]["mean"] for k in h if k.startswith("diceVOnly/")
        },
        "volumeErrorPctMeanAbs": {k.split("/")[1]: h[k]["meanAbs"] for k in vol_keys},
        "volumeErrorPctP95Abs": {k.split("/")[1]: h[k]["p95Abs"] for k in vol_keys},
        "volumeErrorPctMaxAbs": {k.split("/")[1]: h[k]["maxAbs"] for k in vol_keys},
        "lesions": rep["lesions"],
        "conditioningMaxAbsRelativeError": rep["conditioning"]["maxAbsRelativeError"],
        "longitudinal": {who: rep["longitudinal"][who] for who in ("student", "teacher")},
        "report": repo_relative(EVAL_REPORT),
    }


def evaluate_and_record(cfg: dict[str, Any], out: Path = EVAL_REPORT) -> None:
    """Evaluate, write the full report to `out` and the summary to the manifest."""
    rep = evaluate(cfg)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rep, indent=1) + "\n")
    set_manifest_section(
        (REPO / cfg["data"]["modelDir"]).resolve(), "student", {"metrics": summary(rep)}, merge=True
    )
    print(json.dumps(summary(rep), indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", type=Path, default=DISTILL_CONFIG)
    ap.add_argument("--out", type=Path, default=EVAL_REPORT)
    args = ap.parse_args()
    evaluate_and_record(json.loads(args.config.read_text()), args.out)


if __name__ == "__main__":
    main()

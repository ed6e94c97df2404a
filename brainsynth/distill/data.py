"""Distillation data: (z, conditions) → teacher correction u − v on the velocity grid.

Every pair comes from the teacher's exact code path (`brainsynth.model_io.gains_for`,
`brainsynth.anatomy.velocity`, `brainsynth.common.warp.exp_velocity`). Conditions cover the
whole space that changes the deformation: ages 20–90, both sexes, Alzheimer's severity 0–1 and
stroke size 0.1–1 (ex-vacuo ventricular gain): each pathology module's `training_conditions`
(brainsynth/pathologies). MS and glioma leave the gains (hence u) unchanged; they are drawn
after the anatomy and need no data of their own.

Generation is deterministic (shard i of split s uses `default_rng([seed, split, i])`) and
resumable: shards are written atomically under the cache folder and reused when present and
built for the same model and settings.

Run: `python -m brainsynth.distill.data --config brainsynth/distill/config.json`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth import pathologies
from brainsynth.anatomy import AnatomyModel, velocity
from brainsynth.common.warp import exp_velocity
from brainsynth.model_io import gains_for, load_model
from brainsynth.paths import DISTILL_CONFIG, REPO


def weights_path(cfg: dict[str, Any]) -> Path:
    """Where train.py writes the trained weights and export.py reads them (repo-relative)."""
    return (REPO / cfg["data"]["cacheDir"] / "student_weights.npz").resolve()


SPLITS = {"train": 0, "val": 1, "test": 2}
# The student's input normalisation: written by export.py into the manifest
# (`student.architecture.featureNormalisation`); a trained student is run with the manifest's.
FEATURE_NORMALISATION: dict[str, dict[str, float]] = {"age": {"offset": 55, "scale": 35}}


def feature_normalisation(man: dict[str, Any] | None = None) -> dict[str, dict[str, float]]:
    """The manifest's student featureNormalisation; FEATURE_NORMALISATION before an export."""
    got = ((man or {}).get("student") or {}).get("architecture", {}).get("featureNormalisation")
    return got or FEATURE_NORMALISATION


def feature_names(k: int, r: int, use_gains: bool) -> list[str]:
    names = [f"z{i}" for i in range(k)] + ["age", "male", *pathologies.feature_names()]
    return names + ([f"gain{i}" for i in range(r)] if use_gains else [])


def features(
    z: NDArray[np.float64],
    cond: dict[str, Any],
    gains: NDArray[np.float64] | None,
    norm: dict[str, dict[str, float]] | None = None,
) -> NDArray[np.float32]:
    """The student's input vector (order of `feature_names`): z (K), (age − offset)/scale
    (`norm`, default FEATURE_NORMALISATION), 1 if male else 0, then each pathology module's
    features in registry order (its own values for its pathology, else 0: adSeverity,
    strokeSize), then — when the student uses them — the gains g (R)."""
    age = (norm or FEATURE_NORMALISATION)["age"]
    f = [*map(float, z)]
    f += [
        (float(cond["age"]) - float(age["offset"])) / float(age["scale"]),
        1.0 if cond["sex"] == "male" else 0.0,
        *pathologies.feature_values(cond),
    ]
    if gains is not None:
        f += [*map(float, gains)]
    return np.asarray(f, np.float32)


def draw_conditions(rng: np.random.Generator, mix: dict[str, float]) -> dict[str, Any]:
    """Uniform age in [20, 90], either sex, pathology by `mix`, then that pathology module's
    `training_conditions` (uniform parameters)."""
    names = sorted(mix)
    p = np.asarray([mix[n] for n in names], np.float64)
    path = names[int(rng.choice(len(names), p=p / p.sum()))]
    cond: dict[str, Any] = {
        "age": float(rng.uniform(20.0, 90.0)),
        "sex": "male" if rng.random() < 0.5 else "female",
        "pathology": path,
    }
    cond.update(pathologies.get(path).training_conditions(rng))
    return cond


@dataclass(frozen=True)
class DataConfig:
    model_dir: Path
    cache_dir: Path
    seed: int
    shard_size: int
    shards: dict[str, int]  # split -> number of shards
    pathology_mix: dict[str, float]
    workers: int

    @staticmethod
    def from_json(cfg: dict[str, Any]) -> DataConfig:
        d = cfg["data"]
        return DataConfig(
            model_dir=(REPO / d["modelDir"]).resolve(),
            cache_dir=(REPO / d["cacheDir"]).resolve(),
            seed=int(d["seed"]),
            shard_size=int(d["shardSize"]),
            shards={k: int(v) for k, v in d["shards"].items()},
            pathology_mix={k: float(v) for k, v in d["pathologyMix"].items()},
            workers=int(d.get("workers", 1)),
        )


# the calibration entries that change the displacement u (step 2's gains by age)
U_CALIBRATION_KEYS = ("ages", "gains")


def model_fingerprint(model_dir: Path) -> str:
    """sha256 over what determines u for given (z, conditions): the velocity arrays, the shape
    model's sigma, calibration gains and the pathology gains. Not the rest of `calibration`
    (head size: step 5 scales the output grid, after u), so refitting the head-size spread
    keeps the student. Nor step 4b's local field (`shapeModel.localField`): it is composed
    with the displacement after step 4, whichever sampler made it, so the field's fit keeps the
    student (its fidelity with the field: distill.evaluate)."""
    man = json.loads((model_dir / "manifest.json").read_text())
    h = hashlib.sha256()
    for name in ("shapeComponents", "regionalBasis"):
        spec = man["arrays"][name]
        h.update((model_dir / spec["file"]).read_bytes())
        h.update(json.dumps(spec, sort_keys=True).encode())
    cal = {k: man["calibration"][k] for k in U_CALIBRATION_KEYS if k in man["calibration"]}
    shape = {k: v for k, v in man["shapeModel"].items() if k != "localField"}
    for section in (shape, cal, man["regions"], man["velocityGrid"]):
        h.update(json.dumps(section, sort_keys=True).encode())
    for pid, p in pathologies.REGISTRY.items():  # the sections whose gains change u
        if type(p).gains is not pathologies.Pathology.gains:
            section = man["pathology"].get(pid)
            if p.gain_keys is not None and isinstance(section, dict):
                section = {k: section[k] for k in p.gain_keys if k in section}
            h.update(json.dumps(section, sort_keys=True).encode())
    return h.hexdigest()


def shard_folder(cfg: DataConfig) -> Path:
    key = json.dumps(
        {
            "model": model_fingerprint(cfg.model_dir),
            "seed": cfg.seed,
            "shardSize": cfg.shard_size,
            "mix": cfg.pathology_mix,
        },
        sort_keys=True,
    )
    return cfg.cache_dir / hashlib.sha256(key.encode()).hexdigest()[:16]


@lru_cache(maxsize=2)
def _model(model_dir: str) -> tuple[AnatomyModel, dict[str, Any]]:
    return load_model(Path(model_dir))


def teacher_pair(
    model: AnatomyModel, man: dict[str, Any], z: NDArray[np.float64], cond: dict[str, Any]
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float64]]:
    """(v, u, gains) for one (z, conditions), as the teacher computes them."""
    g = gains_for(man, cond)
    v = velocity(model, z, g)
    return v, exp_velocity(v, model.vgrid), g


def make_shard(cfg: DataConfig, split: str, index: int, out: Path) -> Path:
    """Generate shard `index` of `split` (deterministic) and write it atomically."""
    model, man = _model(str(cfg.model_dir))
    k = model.components.shape[0]
    rng = np.random.default_rng([cfg.seed, SPLITS[split], index])
    zs, conds, gains, resid = [], [], [], []
    for _ in range(cfg.shard_size):
        z = np.asarray(rng.standard_normal(k), np.float64)
        cond = draw_conditions(rng, cfg.pathology_mix)
        v, u, g = teacher_pair(model, man, z, cond)
        zs.append(z)
        conds.append(cond)
        gains.append(g)
        resid.append((u - v).astype(np.float16))
    path = out / f"{split}_{index:04d}.npz"
    tmp = out / f".{split}_{index:04d}.{os.getpid()}.tmp.npz"
    np.savez(
        tmp,
        z=np.asarray(zs, np.float64),
        gains=np.asarray(gains, np.float64),
        conditions=np.asarray(json.dumps(conds)),
        residual=np.stack(resid),
    )
    os.replace(tmp, path)
    return path


def _make_shard_job(args: tuple[DataConfig, str, int, Path]) -> Path:
    return make_shard(*args)


def ensure_shards(cfg: DataConfig, log: Callable[[str], None] = print) -> Path:
    """Generate every missing shard; return the shard folder."""
    out = shard_folder(cfg)
    out.mkdir(parents=True, exist_ok=True)
    (out / "key.json").write_text(
        json.dumps(
            {"modelDir": str(cfg.model_dir), "seed": cfg.seed, "mix": cfg.pathology_mix}, indent=1
        )
    )
    todo = [
        (cfg, split, i, out)
        for split, n in cfg.shards.items()
        for i in range(n)
        if not (out / f"{split}_{i:04d}.npz").exists()
    ]
    log(f"distillation data in {out}: {len(todo)} shard(s) to make")
    t0 = time.perf_counter()
    if cfg.workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(cfg.workers) as ex:
            for n, p in enumerate(ex.map(_make_shard_job, todo), 1):
                log(f"  {p.name} ({n}/{len(todo)}, {time.perf_counter() - t0:.0f} s)")
    else:
        for n, job in enumerate(todo, 1):
            p = _make_shard_job(job)
            log(f"  {p.name} ({n}/{len(todo)}, {time.perf_counter() - t0:.0f} s)")
    return out


@dataclass
class Dataset:
    z: NDArray[np.float64]  # [N, K]
    gains: NDArray[np.float64]  # [N, R]
    conditions: list[dict[str, Any]]
    residual: NDArray[np.float32]  # [N, 3, vx, vy, vz]  (u − v)

    def features(self, use_gains: bool) -> NDArray[np.float32]:
        return np.stack(
            [
                features(z, c, g if use_gains else None)
                for z, c, g in zip(self.z, self.conditions, self.gains, strict=True)
            ]
        )


def load_split(cfg: DataConfig, split: str) -> Dataset:
    out = shard_folder(cfg)
    parts = [np.load(out / f"{split}_{i:04d}.npz") for i in range(cfg.shards[split])]
    conds: list[dict[str, Any]] = []
    for p in parts:
        conds += json.loads(str(p["conditions"]))
    return Dataset(
        z=np.concatenate([p["z"] for p in parts]),
        gains=np.concatenate([p["gains"] for p in parts]),
        conditions=conds,
        residual=np.concatenate([p["residual"].astype(np.float32) for p in parts]),
    )


def cli(description: str | None, log: Path | None = None) -> tuple[dict[str, Any], Path | None]:
    """The distillation CLIs' arguments: the config (`--config`, read) and, when the command
    has one, the training log (`--log`, default `log`)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--config", type=Path, default=DISTILL_CONFIG)
    if log is not None:
        ap.add_argument("--log", type=Path, default=log)
    args = ap.parse_args()
    return json.loads(args.config.read_text()), getattr(args, "log", None)


def main() -> None:
    cfg, _ = cli(__doc__)
    ensure_shards(DataConfig.from_json(cfg))


if __name__ == "__main__":
    main()

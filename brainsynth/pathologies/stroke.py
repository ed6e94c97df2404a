"""Chronic stroke (MODEL_FORMAT.md §4), the port of src/engine/pathologies/stroke.ts: the
territory's cortex/WM candidates scored by the real strokes' log-frequency map plus a seeded
smooth random field, a lesion of exactly max(1, round(f n)) voxels grown best-first from the best
candidate (an irregular, cortex-based shape), its band within rimMm of surviving tissue gliosis
(722), the rest the CSF-like cavity (721); ex-vacuo ventricular enlargement as a gain
(`exVacuoGain` x strokeSize). The plan holds the field's seed (seed ^ 0x85ebca6b). On a 1 mm
grid the same template scores and rule apply (the rim is max(1, round(rimMm / 1)) voxels).
Student feature: strokeSize."""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.common.grid import Grid
from brainsynth.common.rng import Mulberry32
from brainsynth.pathologies.base import LabelDef, ModelAssets, Pathology, Scene

INFARCT = 721
GLIOSIS = 722
STREAM_XOR = 0x85EBCA6B  # the stroke field's seed is seed ^ STREAM_XOR (as the engine)
SHAPE_DEFAULTS = {"fieldSpacingVoxels": 8, "fieldAmplitude": 60.0, "rimMm": 2.0}
TISSUE_GROUPS = (
    "cortex",
    "wm",
    "deep-gm",
    "hippocampus",
    "amygdala",
    "cerebellum-gm",
    "cerebellum-wm",
    "brainstem",
)


@dataclass(frozen=True)
class StrokePlan:
    territory: str  # e.g. "MCA-left"
    code: int  # its value in the territories array
    fraction: float  # of the territory's tissue
    field_seed: int  # mulberry32 seed of the random field


def stroke_field(
    shape: tuple[int, int, int], spacing: int, seed: int, t: NDArray[np.int64]
) -> NDArray[np.float64]:
    """The engine's `strokeField` at flat template voxels t (x fastest), bit for bit."""
    nx, ny, nz = shape
    gx, gy, gz = ((n - 1) // spacing + 2 for n in (nx, ny, nz))
    rng = Mulberry32(seed)
    lat = np.array([rng.next() + rng.next() - 1 for _ in range(gx * gy * gz)], np.float64)
    i, j, k = t % nx, (t // nx) % ny, t // (nx * ny)
    li, lj, lk = i // spacing, j // spacing, k // spacing
    fx = (i - li * spacing).astype(np.float64) / spacing
    fy = (j - lj * spacing).astype(np.float64) / spacing
    fz = (k - lk * spacing).astype(np.float64) / spacing
    c = li + gx * (lj + gy * lk)
    sy, sz = gx, gx * gy
    c000, c100, c010, c110 = lat[c], lat[c + 1], lat[c + sy], lat[c + sy + 1]
    c001, c101, c011, c111 = lat[c + sz], lat[c + sz + 1], lat[c + sz + sy], lat[c + sz + sy + 1]
    a00 = c000 + (c100 - c000) * fx
    a10 = c010 + (c110 - c010) * fx
    a01 = c001 + (c101 - c001) * fx
    a11 = c011 + (c111 - c011) * fx
    b0 = a00 + (a10 - a00) * fy
    b1 = a01 + (a11 - a01) * fy
    out: NDArray[np.float64] = b0 + (b1 - b0) * fz
    return out


def stroke(
    idx: NDArray[np.int32],
    grid: Grid,
    codes: NDArray[np.uint8],
    template_flat: NDArray[np.int64],
    template_shape: tuple[int, int, int],
    log_frequency: NDArray[np.uint8] | None,
    code: int,
    groups: list[str],
    fraction: float,
    field_seed: int,
    spec: dict[str, Any],
    infarct_index: int,
    gliosis_index: int,
) -> tuple[NDArray[np.int32], dict[str, Any]]:
    """Port of drawStroke on any grid (idx, codes, template_flat: [x, y, z])."""
    sp = {**SHAPE_DEFAULTS, **{k: spec[k] for k in SHAPE_DEFAULTS if k in spec}}
    nx, ny, nz = grid.shape
    flat_idx = np.ravel(idx, order="F")
    flat_codes = np.ravel(codes, order="F")
    flat_t = np.ravel(template_flat, order="F").astype(np.int64)
    g = np.asarray(groups)
    is_tissue = np.isin(g, ("cortex", "wm"))
    voxel_ml = float(np.prod(grid.spacing)) / 1000
    vox = np.flatnonzero((flat_codes == code) & is_tissue[flat_idx])
    info: dict[str, Any] = {
        "territoryCode": code,
        "territoryTissueMl": float(vox.size) * voxel_ml,
        "infarctMl": 0.0,
        "cavityMl": 0.0,
        "gliosisMl": 0.0,
        "cortexFraction": 0.0,
    }
    if vox.size == 0:
        info["note"] = (
            "the territory holds no cortex or white matter in this anatomy: no infarct drawn"
        )
        return idx, info
    t = flat_t[vox]
    q = log_frequency[t].astype(np.float64) if log_frequency is not None else np.zeros(t.size)
    amp = float(sp["fieldAmplitude"])
    scores = q + amp * stroke_field(template_shape, int(sp["fieldSpacingVoxels"]), field_seed, t)
    n = vox.size
    m = max(1, math.floor(fraction * n + 0.5))  # Math.round
    cand_of = np.full(flat_idx.size, -1, np.int64)
    cand_of[vox] = np.arange(n)
    order = np.lexsort((vox, -scores)).tolist()
    vox_l, sc_l, cand_l = vox.tolist(), scores.tolist(), cand_of
    state = bytearray(n)
    heap: list[tuple[float, int, int]] = []
    lesion: list[int] = []
    nxy = nx * ny

    def neighbours(v: int) -> list[int]:
        i, j, k = v % nx, (v // nx) % ny, v // nxy
        out = []
        if i > 0:
            out.append(v - 1)
        if i < nx - 1:
            out.append(v + 1)
        if j > 0:
            out.append(v - nx)
        if j < ny - 1:
            out.append(v + nx)
        if k > 0:
            out.append(v - nxy)
        if k < nz - 1:
            out.append(v + nxy)
        return out

    nxt = 0
    while len(lesion) < m:
        if not heap:
            while state[order[nxt]] != 0:
                nxt += 1
            c0 = order[nxt]
            state[c0] = 1
            heapq.heappush(heap, (-sc_l[c0], vox_l[c0], c0))
        _, v, c = heapq.heappop(heap)
        state[c] = 2
        lesion.append(v)
        for w in neighbours(v):
            cw = int(cand_l[w])
            if cw >= 0 and state[cw] == 0:
                state[cw] = 1
                heapq.heappush(heap, (-sc_l[cw], w, cw))

    survives = np.isin(g, TISSUE_GROUPS)[flat_idx]
    in_lesion = np.zeros(flat_idx.size, bool)
    les = np.asarray(lesion, np.int64)
    in_lesion[les] = True
    rim = np.zeros(flat_idx.size, np.int16)
    steps = max(1, math.floor(float(sp["rimMm"]) / grid.spacing[0] + 0.5))
    for s in range(1, steps + 1):
        added = [
            v
            for v in lesion
            if not rim[v]
            and any(
                (not in_lesion[w] and survives[w]) if s == 1 else rim[w] == s - 1
                for w in neighbours(v)
            )
        ]
        rim[np.asarray(added, np.int64)] = s
    cortex = int((g[flat_idx[les]] == "cortex").sum())
    is_rim = rim[les] > 0
    out_flat = flat_idx.copy()
    out_flat[les] = np.where(is_rim, gliosis_index, infarct_index)
    out = out_flat.reshape(idx.shape, order="F").astype(idx.dtype)
    info["infarctMl"] = float(les.size) * voxel_ml
    info["gliosisMl"] = float(is_rim.sum()) * voxel_ml
    info["cavityMl"] = float(les.size - is_rim.sum()) * voxel_ml
    info["cortexFraction"] = cortex / les.size
    return out, info


def _territories(assets: ModelAssets) -> NDArray[np.uint8]:
    from brainsynth.model_io import read_volume

    arr = read_volume(Path(assets.folder), assets.manifest["arrays"]["territories"])
    return np.ascontiguousarray(arr.T).ravel().astype(np.uint8)


def _log_frequency(assets: ModelAssets) -> NDArray[np.uint8] | None:
    from brainsynth.model_io import read_volume

    spec = assets.manifest["arrays"].get("strokeLogFrequency")
    if not spec:
        return None
    arr = read_volume(Path(assets.folder), spec)
    return np.ascontiguousarray(arr.T).ravel().astype(np.uint8)


class Stroke(Pathology):
    id = "stroke"
    labels = (  # chronic infarct cavity: CSF-like; its gliotic rim: T2/FLAIR bright, T1 mildly hypo
        LabelDef(INFARCT, "Chronic-infarct", (0, 255, 120), (3600, 1600, 0.98)),
        LabelDef(GLIOSIS, "Gliosis", (150, 255, 200), (1300, 160, 0.88)),
    )
    features = ("strokeSize",)
    gain_keys = ("exVacuoGain", "territoryCodes")  # the shape parameters do not change u

    def gains(self, manifest: dict[str, Any], cond: dict[str, Any], g: NDArray[np.float64]) -> None:
        names = [r["name"] for r in manifest["regions"]]
        g[names.index("lateral-ventricles")] += self.spec(manifest)["exVacuoGain"] * cond.get(
            "strokeSize", 0.0
        )

    def plan(self, scene: Scene) -> StrokePlan:
        c = scene.conditions
        key = f"{c['strokeTerritory']}-{c['strokeSide']}"
        code = int(self.spec(scene.manifest)["territoryCodes"][key])
        return StrokePlan(key, code, float(c["strokeSize"]), (scene.seed ^ STREAM_XOR) & 0xFFFFFFFF)

    def draw(
        self, scene: Scene, plan: StrokePlan, idx: NDArray[np.int32]
    ) -> tuple[NDArray[np.int32], dict[str, Any]]:
        a = scene.assets
        terr = a.cached("stroke.territories", lambda: _territories(a))
        tflat = scene.template_flat
        if tflat is None:
            raise ValueError("stroke needs the template voxel of each output point")
        codes = np.where(tflat < terr.size, terr[np.minimum(tflat, terr.size - 1)], 0)
        logf = a.cached("stroke.logFrequency", lambda: _log_frequency(a))
        out, st = stroke(
            idx,
            scene.grid,
            codes.astype(np.uint8),
            tflat,
            tuple(a.model.grid.shape),  # type: ignore[arg-type]
            logf,
            plan.code,
            a.groups,
            plan.fraction,
            plan.field_seed,
            self.spec(a.manifest),
            a.index_of[INFARCT],
            a.index_of[GLIOSIS],
        )
        return out, {"territory": plan.territory, **st}

    def feature_values(self, cond: dict[str, Any]) -> dict[str, float]:
        return {"strokeSize": float(cond.get("strokeSize", 0.0))}

    def training_conditions(self, rng: np.random.Generator) -> dict[str, Any]:
        return {"strokeSize": float(rng.uniform(0.1, 1.0))}


PATHOLOGY = Stroke()

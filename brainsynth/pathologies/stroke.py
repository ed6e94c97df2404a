"""Chronic stroke (MODEL_FORMAT.md §4): an infarct (721) of the round(f n) cortex/WM voxels of
one arterial territory (manifest `territories` array) closest to the territory's centroid,
plus ex-vacuo ventricular enlargement as a gain (`exVacuoGain` x strokeSize). Deterministic:
the plan is the territory code and the fraction. Student feature: strokeSize."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.common.grid import Grid
from brainsynth.pathologies.base import LabelDef, ModelAssets, Pathology, Scene

INFARCT = 721


@dataclass(frozen=True)
class StrokePlan:
    territory: str  # e.g. "MCA-left"
    code: int  # its value in the territories array
    fraction: float  # of the territory's tissue


def stroke(
    idx: NDArray[np.int32],
    grid: Grid,
    codes: NDArray[np.uint8],
    code: int,
    is_tissue: NDArray[np.bool_],
    fraction: float,
    infarct_index: int,
) -> tuple[NDArray[np.int32], dict[str, Any]]:
    """Port of drawStroke: the round(f n) territory tissue voxels closest to its centroid."""
    x = grid.world_coords()
    in_t = codes == code
    info: dict[str, Any] = {"territoryCode": code, "infarctMl": 0.0, "radiusMm": 0.0}
    cand = in_t & is_tissue[idx]
    voxel_ml = float(np.prod(grid.spacing)) / 1000
    info["territoryTissueMl"] = float(cand.sum()) * voxel_ml
    if not cand.any():
        info["note"] = (
            "the territory holds no cortex or white matter in this anatomy: no infarct drawn"
        )
        return idx, info
    centroid = x[:, in_t].mean(1)
    dist = np.sqrt(((x[:, cand] - centroid[:, None]) ** 2).sum(0))
    m = max(1, round(fraction * dist.size))
    radius = float(np.sort(dist)[m - 1])
    out = idx.copy()
    sel = np.zeros_like(cand)
    sel[cand] = dist <= radius
    out[sel] = infarct_index
    info["infarctMl"] = float(sel.sum()) * voxel_ml
    info["radiusMm"] = radius
    info["centroidMm"] = [round(float(c), 2) for c in centroid]
    return out, info


def _territories(assets: ModelAssets) -> NDArray[np.uint8]:
    from brainsynth.model_io import read_volume

    arr = read_volume(Path(assets.folder), assets.manifest["arrays"]["territories"])
    return np.ascontiguousarray(arr.T).ravel().astype(np.uint8)


class Stroke(Pathology):
    id = "stroke"
    labels = (  # chronic infarct cavity: CSF-like
        LabelDef(INFARCT, "Chronic-infarct", (0, 255, 120), (3600, 1600, 0.98)),
    )
    features = ("strokeSize",)

    def gains(self, manifest: dict[str, Any], cond: dict[str, Any], g: NDArray[np.float64]) -> None:
        names = [r["name"] for r in manifest["regions"]]
        g[names.index("lateral-ventricles")] += self.spec(manifest)["exVacuoGain"] * cond.get(
            "strokeSize", 0.0
        )

    def plan(self, scene: Scene) -> StrokePlan:
        c = scene.conditions
        key = f"{c['strokeTerritory']}-{c['strokeSide']}"
        code = int(self.spec(scene.manifest)["territoryCodes"][key])
        return StrokePlan(key, code, float(c["strokeSize"]))

    def draw(
        self, scene: Scene, plan: StrokePlan, idx: NDArray[np.int32]
    ) -> tuple[NDArray[np.int32], dict[str, Any]]:
        a = scene.assets
        terr = a.cached("stroke.territories", lambda: _territories(a))
        tflat = scene.template_flat
        if tflat is None:
            raise ValueError("stroke needs the template voxel of each output point")
        codes = np.where(tflat < terr.size, terr[np.minimum(tflat, terr.size - 1)], 0)
        out, st = stroke(
            idx,
            scene.grid,
            codes.astype(np.uint8),
            plan.code,
            a.mask("cortex", "wm"),
            plan.fraction,
            a.index_of[INFARCT],
        )
        return out, {"territory": plan.territory, **st}

    def feature_values(self, cond: dict[str, Any]) -> dict[str, float]:
        return {"strokeSize": float(cond.get("strokeSize", 0.0))}

    def training_conditions(self, rng: np.random.Generator) -> dict[str, Any]:
        return {"strokeSize": float(rng.uniform(0.1, 1.0))}


PATHOLOGY = Stroke()

"""Pathology drawing (MODEL_FORMAT.md §4), ported from the engine (src/engine/render/*.ts) with
the same random draws, so a 2 mm teacher volume carries the browser's lesions exactly and a
1 mm one carries the same lesions drawn finer."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.common.grid import FloatArray, Grid
from brainsynth.common.rng import Mulberry32

MS_LESION, CORE, RIM, OEDEMA, INFARCT = 701, 711, 712, 713, 721


def mass_effect(
    x: FloatArray, centre: tuple[float, float, float], radius: float, decay: float
) -> FloatArray:
    """Inverse map of an expanding sphere: M(x) = c0 + d (w r_src + (1 - w) r)."""
    c0 = np.asarray(centre, np.float32).reshape(3, *([1] * (x.ndim - 1)))
    d = x - c0
    r = np.sqrt((d**2).sum(0))
    r_src = np.cbrt(np.maximum(r**3 - radius**3, 0.0))
    w = np.exp(-np.maximum(r - radius, 0.0) / decay)
    new_r = w * r_src + (1 - w) * r
    return (c0 + d * (new_r / np.maximum(r, 1e-6))[None]).astype(np.float32)


def glioma_labels(
    idx: NDArray[np.int32],
    x: FloatArray,
    lut: dict[int, int],
    is_wm: NDArray[np.bool_],
    centre: tuple[float, float, float],
    radius: float,
    spec: dict[str, float],
) -> NDArray[np.int32]:
    c0 = np.asarray(centre, np.float32).reshape(3, *([1] * (x.ndim - 1)))
    r = np.sqrt(((x - c0) ** 2).sum(0))
    out = np.where((r <= spec["oedemaFactor"] * radius) & is_wm[idx], lut[OEDEMA], idx)
    out = np.where(r <= radius, lut[RIM], out)
    return np.where(r <= spec["necrosisFraction"] * radius, lut[CORE], out).astype(np.int32)


@dataclass
class Lesion:
    centre: tuple[float, float, float]
    a: float  # long semi-axis, mm
    b: float
    direction: tuple[float, float, float]


def _world(grid: Grid, flat: NDArray[np.int64]) -> NDArray[np.float64]:
    nx, ny, _ = grid.shape
    i, j, k = flat % nx, (flat // nx) % ny, flat // (nx * ny)
    return np.stack(
        [
            grid.origin[0] + grid.spacing[0] * i,
            grid.origin[1] + grid.spacing[1] * j,
            grid.origin[2] + grid.spacing[2] * k,
        ],
        axis=-1,
    )


def _ellipsoid(
    grid: Grid, les: Lesion, eligible: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Flat indices (x fastest) of eligible voxels inside the ellipsoid and their radius rho."""
    c = np.asarray(les.centre)
    o, s = np.asarray(grid.origin), np.asarray(grid.spacing)
    ci = np.rint((c - o) / s).astype(int)
    r = np.ceil(les.a / s).astype(int)
    lo = np.maximum(ci - r, 0)
    hi = np.minimum(ci + r, np.asarray(grid.shape) - 1)
    if np.any(hi < lo):
        return np.zeros(0, np.int64), np.zeros(0)
    ii, jj, kk = np.meshgrid(*(np.arange(lo[a], hi[a] + 1) for a in range(3)), indexing="ij")
    d = np.stack([o[a] + s[a] * g - c[a] for a, g in enumerate((ii, jj, kk))])
    u = np.asarray(les.direction).reshape(3, 1, 1, 1)
    along = (d * u).sum(0)
    perp2 = (d**2).sum(0) - along**2
    rho = along**2 / les.a**2 + perp2 / les.b**2
    flat = ii + grid.shape[0] * (jj + grid.shape[1] * kk)
    ok = (rho <= 1) & eligible[ii, jj, kk]
    # engine order: z outer, y, x inner
    order = np.lexsort((ii[ok], jj[ok], kk[ok]))
    return flat[ok][order].astype(np.int64), rho[ok][order]


def ms_lesions(
    idx: NDArray[np.int32],
    grid: Grid,
    tmpl_index: NDArray[np.int64],
    prior: NDArray[np.float32],
    is_wm: NDArray[np.bool_],
    vent_labels: list[int],
    target_ml: float,
    seed: int,
    spec: dict[str, Any],
    gridcentre: tuple[float, float, float],
) -> tuple[list[Lesion], list[int], dict[str, Any]]:
    """Port of drawMsLesions: returns the lesions (with voxels kept per lesion) at this grid."""
    flat_idx = idx.T.ravel()  # x fastest
    flat_t = tmpl_index.T.ravel()
    n = flat_idx.size
    w = np.where(
        is_wm[flat_idx] & (flat_t < prior.size), prior[np.minimum(flat_t, prior.size - 1)], 0.0
    )
    cdf = np.cumsum(w.astype(np.float64))
    total = float(cdf[-1]) if n else 0.0
    info: dict[str, Any] = {
        "targetLoadMl": target_ml,
        "realisedLoadMl": 0.0,
        "lesionCount": 0,
        "lesionsDrawn": 0,
    }
    if total <= 0:
        info["note"] = "no white matter with non-zero lesion prior: no lesions drawn"
        return [], [], info
    vent = _world(grid, np.flatnonzero(np.isin(flat_idx, vent_labels)))
    rng = Mulberry32(seed)
    voxel_ml = float(np.prod(grid.spacing)) / 1000
    target_vox = target_ml / voxel_ml
    wm_mask = is_wm[idx].copy()
    lesions: list[Lesion] = []
    counts: list[int] = []
    relabelled = 0
    while relabelled < target_vox - 1e-9 and info["lesionsDrawn"] < spec["maxLesions"]:
        info["lesionsDrawn"] += 1
        v = int(np.searchsorted(cdf, rng.next() * total, side="right"))
        u1 = 1 - rng.next()
        u2 = rng.next()
        normal = math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
        vol = 1000 * math.exp(spec["lesionVolumeLogMeanMl"] + spec["lesionVolumeLogSdMl"] * normal)
        e = float(spec["elongation"])
        b = math.cbrt(3 * vol / (4 * math.pi * e))
        c = _world(grid, np.array([v]))[0]
        if len(vent):
            dd = c[None] - vent
            best = int(np.argmin((dd**2).sum(1)))
            dvec = dd[best]
        else:
            dvec = c - np.asarray(gridcentre)
        norm = float(np.linalg.norm(dvec))
        if not norm > 0:
            dvec = c - np.asarray(gridcentre)
            norm = float(np.linalg.norm(dvec))
        direction = tuple(dvec / norm) if norm > 0 else (0.0, 0.0, 1.0)
        les = Lesion(tuple(c), e * b, b, direction)
        cand, rho = _ellipsoid(grid, les, wm_mask)
        if cand.size == 0:
            continue
        remaining = math.ceil(target_vox - relabelled - 1e-9)
        if cand.size > remaining:
            order = np.lexsort((cand, rho))[:remaining]
            cand = cand[order]
        i, j, k = (
            cand % grid.shape[0],
            (cand // grid.shape[0]) % grid.shape[1],
            cand // (grid.shape[0] * grid.shape[1]),
        )
        wm_mask[i, j, k] = False
        relabelled += cand.size
        lesions.append(les)
        counts.append(int(cand.size))
        info["lesionCount"] += 1
    info["realisedLoadMl"] = relabelled * voxel_ml
    if relabelled < target_vox - 1e-9:
        info["note"] = f"stopped at maxLesions ({spec['maxLesions']}) below the requested load"
    return lesions, counts, info


def draw_lesions(
    idx: NDArray[np.int32],
    grid: Grid,
    lesions: list[Lesion],
    is_wm: NDArray[np.bool_],
    target_ml: float,
    lesion_index: int,
) -> tuple[NDArray[np.int32], float]:
    """Draw given lesions on any grid, filling the last one only up to the target load."""
    out = idx.copy()
    wm_mask = is_wm[out]
    target_vox = target_ml / (float(np.prod(grid.spacing)) / 1000)
    done = 0
    for les in lesions:
        if done >= target_vox - 1e-9:
            break
        cand, rho = _ellipsoid(grid, les, wm_mask)
        remaining = math.ceil(target_vox - done - 1e-9)
        if cand.size > remaining:
            cand = cand[np.lexsort((cand, rho))[:remaining]]
        i, j, k = (
            cand % grid.shape[0],
            (cand // grid.shape[0]) % grid.shape[1],
            cand // (grid.shape[0] * grid.shape[1]),
        )
        out[i, j, k] = lesion_index
        wm_mask[i, j, k] = False
        done += cand.size
    return out, done * float(np.prod(grid.spacing)) / 1000


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

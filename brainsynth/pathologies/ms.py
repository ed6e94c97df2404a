"""Multiple sclerosis (MODEL_FORMAT.md §4), ported from src/engine/pathologies/ms.ts with the
same random draws: per lesion a location class (infratentorial, juxtacortical or other cerebral
white matter, by `locationShares`), a site in template space from msLesionPrior + siteFloor
within that class's template voxels, a volume, and whether it is a T1 black hole (label 702,
`blackHoleFraction`); each lesion an ellipsoid of lognormal volume elongated away from
the nearest lateral-ventricle wall, mapped to the output grid through the inverse of this
sample's deformation, and drawn (701, or 702 for a black hole; over wm, brainstem and
cerebellar wm only) until the requested load `msLesionLoadMl` is reached (the last lesion
filled from its centre outwards) or `maxLesions` were drawn. Geometry is in world mm, so a
1 mm volume carries the 2 mm volume's lesions, finer.

Randomness apart from application: `plan` returns an `MsPlan` whose lesion source is the seed's
`LesionStream` (drawn lazily, as the engine does) or, for a hand-placed plan, a list of
`Lesion`s (`MsPlan.placed`); `draw` is deterministic given the plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from brainsynth.common.grid import Grid
from brainsynth.common.inverse_map import PointField, invert_mapping
from brainsynth.common.rng import Mulberry32
from brainsynth.pathologies.base import LabelDef, ModelAssets, Pathology, Scene

MS_LESION = 701
BLACK_HOLE = 702  # an MS lesion that is also T1-hypointense ("black hole")
STREAM_XOR = 0x9E3779B9  # the lesion stream's seed is seed ^ STREAM_XOR (as the engine)
LOCATIONS = ("cerebral", "juxtacortical", "infratentorial")
ELIGIBLE_GROUPS = ("wm", "brainstem", "cerebellum-wm")
DEFAULTS: dict[str, Any] = {
    "locationShares": {"juxtacortical": 0.0, "infratentorial": 0.0},
    "blackHoleFraction": 0.0,
    "siteFloor": 0.0,
}


@dataclass
class Lesion:
    centre: tuple[float, float, float]  # output-space world mm
    a: float  # long semi-axis, mm
    b: float
    direction: tuple[float, float, float]
    black_hole: bool = False
    location: str = "cerebral"


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
    """Flat indices (z outer, y, x inner) of eligible voxels whose centre lies inside the
    ellipsoid, and their normalised radius rho; search box floor/ceil of centre -/+ a."""
    c = np.asarray(les.centre, np.float64)
    o, s = np.asarray(grid.origin, np.float64), np.asarray(grid.spacing, np.float64)
    lo = np.maximum(np.floor((c - les.a - o) / s).astype(int), 0)
    hi = np.minimum(np.ceil((c + les.a - o) / s).astype(int), np.asarray(grid.shape) - 1)
    if np.any(hi < lo):
        return np.zeros(0, np.int64), np.zeros(0)
    ii, jj, kk = np.meshgrid(*(np.arange(lo[a], hi[a] + 1) for a in range(3)), indexing="ij")
    dx, dy, dz = (o[a] + s[a] * g - c[a] for a, g in enumerate((ii, jj, kk)))
    u = les.direction
    along = dx * u[0] + dy * u[1] + dz * u[2]
    perp2 = dx * dx + dy * dy + dz * dz - along * along
    rho = (along * along) / (les.a * les.a) + perp2 / (les.b * les.b)
    flat = ii + grid.shape[0] * (jj + grid.shape[1] * kk)
    ok = (rho <= 1) & eligible[ii, jj, kk]
    order = np.lexsort((ii[ok], jj[ok], kk[ok]))  # engine order: z outer, y, x inner
    return flat[ok][order].astype(np.int64), rho[ok][order]


def template_locations(template: NDArray[np.integer[Any]], groups: list[str]) -> NDArray[np.uint8]:
    """Engine `templateLocations`: per template voxel [x, y, z] 0 none, 1 cerebral, 2
    juxtacortical (wm with a 6-neighbour inside the grid in cortex), 3 infratentorial."""
    g = np.asarray(groups)[template]
    cortex = g == "cortex"
    near = np.zeros_like(cortex)
    for a in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[a], hi[a] = slice(0, -1), slice(1, None)
        near[tuple(lo)] |= cortex[tuple(hi)]
        near[tuple(hi)] |= cortex[tuple(lo)]
    out = np.zeros(template.shape, np.uint8)
    out[g == "wm"] = 1
    out[(g == "wm") & near] = 2
    out[np.isin(g, ("brainstem", "cerebellum-wm"))] = 3
    return out


class TemplateSites:
    """MS lesion site distribution in template space (fixed per model): per location class
    its template voxels (x fastest) and the cumulative msLesionPrior + siteFloor over them, and
    the template's lateral-ventricle voxel centres."""

    def __init__(
        self,
        template: NDArray[np.integer[Any]],
        grid: Grid,
        prior_flat: NDArray[np.float32],
        groups: list[str],
        vent_labels: list[int],
        floor: float = 0.0,
    ) -> None:
        flat_t = np.ascontiguousarray(template.T).ravel()
        cls = np.ascontiguousarray(template_locations(template, groups).T).ravel()
        self.grid = grid
        self.voxels: dict[str, NDArray[np.int64]] = {}
        self.cdf: dict[str, NDArray[np.float64]] = {}
        self.totals: dict[str, float] = {}
        for c, loc in enumerate(LOCATIONS, start=1):
            vox = np.flatnonzero(cls == c)
            cdf = np.cumsum(prior_flat[vox].astype(np.float64) + floor)
            self.voxels[loc], self.cdf[loc] = vox, cdf
            self.totals[loc] = float(cdf[-1]) if cdf.size else 0.0
        self.total = self.totals["cerebral"]
        self.ventricles = _world(grid, np.flatnonzero(np.isin(flat_t, vent_labels)))


def _unit(v: tuple[float, float, float]) -> tuple[float, float, float] | None:
    n = math.hypot(*v)
    return (v[0] / n, v[1] / n, v[2] / n) if n > 0 else None


class LesionSource(Protocol):
    max_residual_mm: float

    def next(self) -> Lesion: ...


class LesionStream:
    """The lesion sequence of a seed (src/engine/pathologies/ms.ts `lesionStream`): per lesion
    u_c (template voxel by inverse CDF), three jitters within the voxel, then u1, u2 for the
    lognormal volume; the centre is the output point mapped onto the template site."""

    def __init__(
        self,
        sites: TemplateSites,
        field: PointField,
        scale: float,
        gridcentre: tuple[float, float, float],
        seed: int,
        spec: dict[str, Any],
    ) -> None:
        self.sites, self.field, self.scale, self.centre = sites, field, scale, gridcentre
        self.spec = spec
        self.rng = Mulberry32(seed)
        self.max_residual_mm = 0.0

    def _to_output(self, t: tuple[float, float, float]) -> tuple[float, float, float]:
        inv = invert_mapping(self.field, t, self.scale, self.centre)
        self.max_residual_mm = max(self.max_residual_mm, inv.residual_mm)
        return inv.point

    def next(self) -> Lesion:
        rng, g, spec = self.rng, self.sites.grid, self.spec
        shares = spec.get("locationShares", DEFAULTS["locationShares"])
        ul = rng.next()
        loc = (
            "infratentorial"
            if ul < shares["infratentorial"]
            else "juxtacortical"
            if ul < shares["infratentorial"] + shares["juxtacortical"]
            else "cerebral"
        )
        if not self.sites.totals[loc] > 0:
            loc = "cerebral"
        cdf = self.sites.cdf[loc]
        i = int(np.searchsorted(cdf, rng.next() * self.sites.totals[loc], side="right"))
        v = int(self.sites.voxels[loc][i])
        vc = _world(g, np.array([v]))[0]
        jx, jy, jz = rng.next(), rng.next(), rng.next()
        t = (
            float(vc[0] + (jx - 0.5) * g.spacing[0]),
            float(vc[1] + (jy - 0.5) * g.spacing[1]),
            float(vc[2] + (jz - 0.5) * g.spacing[2]),
        )
        u1 = 1 - rng.next()
        u2 = rng.next()
        normal = math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
        black_hole = rng.next() < float(spec.get("blackHoleFraction", 0.0))
        vol = 1000 * math.exp(spec["lesionVolumeLogMeanMl"] + spec["lesionVolumeLogSdMl"] * normal)
        e = float(spec["elongation"])
        b = math.cbrt(3 * vol / (4 * math.pi * e))
        c = self._to_output(t)
        vent = self.sites.ventricles
        away = _unit((c[0] - self.centre[0], c[1] - self.centre[1], c[2] - self.centre[2]))
        direction = None
        if len(vent):
            d2 = ((vent - np.asarray(t)) ** 2).sum(1)
            w = vent[int(np.argmin(d2))]
            wall = self._to_output((float(w[0]), float(w[1]), float(w[2])))
            direction = _unit((c[0] - wall[0], c[1] - wall[1], c[2] - wall[2]))
        return Lesion(c, e * b, b, direction or away or (0.0, 0.0, 1.0), black_hole, loc)


class PlacedLesions:
    """A hand-made lesion list as a source (drawn in order, no inverse mapping)."""

    def __init__(self, lesions: list[Lesion]) -> None:
        self.lesions, self.i, self.max_residual_mm = lesions, 0, 0.0

    def next(self) -> Lesion:
        les = self.lesions[self.i]
        self.i += 1
        return les


@dataclass
class MsPlan:
    target_ml: float
    source: LesionSource | None  # None: the model has no eligible lesion site
    max_lesions: int

    @staticmethod
    def placed(lesions: list[Lesion], target_ml: float) -> MsPlan:
        """Explicit placement: draw these lesions (up to the target load)."""
        return MsPlan(target_ml, PlacedLesions(lesions), len(lesions))


def ms_lesions(
    idx: NDArray[np.int32],
    grid: Grid,
    stream: LesionSource | None,
    is_wm: NDArray[np.bool_],
    target_ml: float,
    lesion_index: int,
    max_lesions: int,
    black_hole_index: int | None = None,
) -> tuple[NDArray[np.int32], dict[str, Any]]:
    """Port of drawMsLesions on any grid: lesions from `stream` until the load reaches the
    target (the last one filled from its centre outwards) or `max_lesions` were drawn."""
    info: dict[str, Any] = {
        "targetLoadMl": target_ml,
        "realisedLoadMl": 0.0,
        "lesionCount": 0,
        "blackHoles": 0,
        "byLocation": {loc: 0 for loc in LOCATIONS},
        "lesionsDrawn": 0,
        "maxInverseResidualMm": 0.0,
    }
    if stream is None:
        info["note"] = "no template white matter with non-zero lesion prior: no lesions drawn"
        return idx, info
    out = idx.copy()
    wm_mask = is_wm[out]
    voxel_ml = float(np.prod(grid.spacing)) / 1000
    target_vox = target_ml / voxel_ml
    done = 0
    while done < target_vox - 1e-9 and info["lesionsDrawn"] < max_lesions:
        info["lesionsDrawn"] += 1
        les = stream.next()
        cand, rho = _ellipsoid(grid, les, wm_mask)
        if cand.size == 0:
            continue
        remaining = math.ceil(target_vox - done - 1e-9)
        if cand.size > remaining:
            cand = cand[np.lexsort((cand, rho))[:remaining]]
        i, j, k = (
            cand % grid.shape[0],
            (cand // grid.shape[0]) % grid.shape[1],
            cand // (grid.shape[0] * grid.shape[1]),
        )
        hole = les.black_hole and black_hole_index is not None
        out[i, j, k] = black_hole_index if black_hole_index is not None and hole else lesion_index
        wm_mask[i, j, k] = False
        info["blackHoles"] += int(hole)
        info["byLocation"][les.location] += 1
        done += cand.size
        info["lesionCount"] += 1
    info["realisedLoadMl"] = done * voxel_ml
    info["maxInverseResidualMm"] = stream.max_residual_mm
    if done < target_vox - 1e-9:
        info["note"] = f"stopped at maxLesions ({max_lesions}) below the requested load"
    return out, info


def _lateral_ventricle_values(man: dict[str, Any]) -> list[int]:
    region = next((r for r in man["regions"] if r["name"] == "lateral-ventricles"), None)
    return list(region["labels"]) if region else [4, 43]  # FreeSurfer L/R lateral ventricle


def template_sites(assets: ModelAssets) -> TemplateSites:
    from brainsynth.model_io import read_volume

    man, model = assets.manifest, assets.model
    spec = man["arrays"]["msLesionPrior"]
    prior = read_volume(Path(assets.folder), spec).astype(np.float32) * float(
        spec.get("scale", 1.0)
    )
    return TemplateSites(
        model.template,
        model.grid,
        np.ascontiguousarray(prior.T).ravel(),
        assets.groups,
        [assets.index_of[v] for v in _lateral_ventricle_values(man) if v in assets.index_of],
        float(man["pathology"]["ms"].get("siteFloor", DEFAULTS["siteFloor"])),
    )


class MultipleSclerosis(Pathology):
    id = "ms"
    labels = (  # T2/FLAIR hyperintense; T1 mildly hypo- (701) or a dark "black hole" (702)
        LabelDef(MS_LESION, "MS-lesion", (255, 80, 0), (1000, 110, 0.82)),
        LabelDef(BLACK_HOLE, "MS-lesion-T1-black-hole", (200, 40, 0), (2000, 180, 0.90)),
    )

    def plan(self, scene: Scene) -> MsPlan:
        a = scene.assets
        spec = self.spec(a.manifest)
        sites = a.cached("ms.sites", lambda: template_sites(a))
        stream = None
        if sites.total > 0:
            stream = LesionStream(
                sites,
                PointField(scene.u, a.model.vgrid),
                scene.scale,
                a.model.grid_centre_mm,
                (scene.seed ^ STREAM_XOR) & 0xFFFFFFFF,
                spec,
            )
        return MsPlan(float(scene.conditions["msLesionLoadMl"]), stream, int(spec["maxLesions"]))

    def draw(
        self, scene: Scene, plan: MsPlan, idx: NDArray[np.int32]
    ) -> tuple[NDArray[np.int32], dict[str, Any]]:
        a = scene.assets
        return ms_lesions(
            idx,
            scene.grid,
            plan.source,
            a.mask(*ELIGIBLE_GROUPS),
            plan.target_ml,
            a.index_of[MS_LESION],
            plan.max_lesions,
            a.index_of.get(BLACK_HOLE),
        )


PATHOLOGY = MultipleSclerosis()

"""Glioma (MODEL_FORMAT.md §4), the twin of src/engine/pathologies/glioma.ts.

A tumour of volume-equivalent radius R at a given centre c0:
- mass effect (applied to the output points before the template lookup): the radial push of an
  expanding sphere plus a midline shift (a lateral displacement away from the tumour's side that
  falls off with distance from it);
- an irregular, seeded margin R(d) = R (1 + a F_m(d)) / n (F a few random spherical waves, n
  keeps the volume (4/3) pi R^3); inside it, over intracranial labels, the enhancing rim (712);
- a necrotic core (711) with its own noisier random radius around an offset centre, kept at
  least `minRimMm` inside the margin;
- oedema (713): white-matter voxels reached from the tumour through white matter (6-neighbour
  steps, a geodesic "flood") within a direction-dependent reach (oedemaFactor - 1) R (1 + a F_o);
  it follows the gyral WM fingers and never crosses cortex;
- sulcal effacement: sulcal/subarachnoid CSF (24) within the swollen zone (margin + reach +
  effacementMm) becomes cortex, and its sulcal partial volume is cleared.
All randomness is in the plan, drawn from the seed on its own stream mulberry32(s ^ 0x27d4eb2f).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.common.grid import FloatArray
from brainsynth.common.labels import in_range, label_ranges
from brainsynth.common.rng import Mulberry32
from brainsynth.pathologies.base import LabelDef, Pathology, Scene

CORE, RIM, OEDEMA = 711, 712, 713
CSF, CTX_LEFT, CTX_RIGHT = 24, 3, 42
STREAM = 0x27D4EB2F
FIB_POINTS = 512
# shape parameters (written into the manifest's pathology.glioma by the pipeline; a manifest
# without them gets these)
SHAPE: dict[str, float] = {
    "marginAmplitude": 0.3,
    "marginWaves": 6,
    "marginWavenumber": 3.0,
    "coreAmplitude": 0.35,
    "coreWaves": 8,
    "coreWavenumber": 4.0,
    "coreOffsetFraction": 0.15,
    "minRimMm": 3.0,
    "oedemaAmplitude": 0.4,
    "midlineShiftPerMm": 0.3,
    "effacementMm": 4.0,
}
# the tumour's volume model: oedema reaches (oedemaFactor - 1) R along the white matter
OEDEMA_FACTOR = 2.0


def shape_params(spec: dict[str, Any]) -> dict[str, float]:
    return {k: float(spec.get(k, v)) for k, v in SHAPE.items()}


Waves = list[list[float]]  # [wx, wy, wz, phase] per wave


def draw_waves(rng: Any, count: int) -> Waves:
    out = []
    for _ in range(count):
        u1, u2, u3 = rng(), rng(), rng()
        cz = 2 * u1 - 1
        az = 2 * math.pi * u2
        s = math.sqrt(max(1 - cz * cz, 0.0))
        out.append([s * math.cos(az), s * math.sin(az), cz, 2 * math.pi * u3])
    return out


def wave_field(
    d: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
    r: NDArray[np.float64],
    waves: Waves,
    k: float,
) -> NDArray[np.float64]:
    """F(d) = sqrt(2/W) sum_j cos(K (d . w_j) + phase_j) for offsets d (not normalised) of length
    r: d . w = (dx wx + dy wy + dz wz) / r, 0 where r = 0 (float64, j in order)."""
    safe = np.where(r > 0, r, 1.0)
    f = np.zeros_like(r)
    for wx, wy, wz, ph in waves:
        dot = np.where(r > 0, (d[0] * wx + d[1] * wy + d[2] * wz) / safe, 0.0)
        f = f + np.cos(k * dot + ph)
    return f * math.sqrt(2 / len(waves))


Directions = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]


def fibonacci_sphere(n: int = FIB_POINTS) -> Directions:
    i = np.arange(n, dtype=np.float64)
    z = 1 - (2 * i + 1) / n
    phi = i * (math.pi * (3 - math.sqrt(5)))
    s = np.sqrt(np.maximum(1 - z * z, 0))
    return s * np.cos(phi), s * np.sin(phi), z


def margin_factor(a: float, f: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.maximum(1 + a * f, 0.3)


def margin_shape(waves: Waves, k: float, a: float) -> tuple[float, tuple[float, float, float]]:
    """(n, c): over FIB_POINTS directions d_i with m_i = max(1 + a F(d_i), 0.3),
    n = (mean m^3)^(1/3) (the margin R m / n encloses (4/3) pi R^3) and c = (3/4) (sum m^4 d /
    sum m^3) / n, the centroid of that body in units of R (the margin is centred on
    c0 - R c so that the tumour's centroid is the asked centre). Summed in order, float64."""
    d = fibonacci_sphere()
    m = margin_factor(a, wave_field(d, np.ones(FIB_POINTS), waves, k))
    acc3 = 0.0
    a4 = [0.0, 0.0, 0.0]
    for i in range(FIB_POINTS):
        mi = float(m[i])
        m3 = mi * mi * mi
        acc3 += m3
        m4 = m3 * mi
        for j in range(3):
            a4[j] += m4 * float(d[j][i])
    norm = float((acc3 / FIB_POINTS) ** (1 / 3))
    c = tuple(0.75 * (a4[j] / acc3) / norm for j in range(3))
    return norm, (c[0], c[1], c[2])


def volume_norm(waves: Waves, k: float, a: float) -> float:
    return margin_shape(waves, k, a)[0]


@dataclass(frozen=True)
class GliomaPlan:
    centre: tuple[float, float, float]  # world mm (RAS)
    radius: float  # mm
    decay_mm: float  # mass effect decay length
    margin_waves: Waves = field(default_factory=list)
    core_waves: Waves = field(default_factory=list)
    oedema_waves: Waves = field(default_factory=list)
    core_offset: tuple[float, float, float] = (0.0, 0.0, 0.0)  # mm from the centre
    shift_mm: float = 0.0  # signed midline shift S of the inverse map (x, mm)
    shift_length_mm: float = 1.0  # its fall-off length L


def check_plan(plan: GliomaPlan) -> None:
    """A plan passed by hand must be complete and finite (rejected, not repaired), as the
    engine's checkGliomaPlan."""

    def finite(*v: float) -> bool:
        return all(isinstance(x, (int, float)) and math.isfinite(x) for x in v)

    bad = []
    if len(plan.centre) != 3 or not finite(*plan.centre):
        bad.append("centre")
    if not finite(plan.radius) or not plan.radius > 0:
        bad.append("radius")
    for name in ("margin_waves", "core_waves", "oedema_waves"):
        w = getattr(plan, name)
        if not w or any(len(x) != 4 or not finite(*x) for x in w):
            bad.append(name)
    if len(plan.core_offset) != 3 or not finite(*plan.core_offset):
        bad.append("core_offset")
    if not finite(plan.shift_mm):
        bad.append("shift_mm")
    if not finite(plan.shift_length_mm) or not plan.shift_length_mm > 0:
        bad.append("shift_length_mm")
    if bad:
        raise ValueError(f"invalid glioma plan: bad {', '.join(bad)}")


def midline_shift(radius: float, centre_x: float, per_mm: float) -> tuple[float, float]:
    """(signed x shift S of the inverse map, fall-off length L): S = per_mm R^2 / 30 towards the
    tumour's side (the anatomy moves away from it), L = 2 R + 10 mm."""
    s = per_mm * radius * radius / 30.0
    return (s if centre_x >= 0 else -s), 2 * radius + 10.0


def mass_effect(
    x: FloatArray,
    centre: tuple[float, float, float],
    radius: float,
    decay: float,
    shift: tuple[float, float] = (0.0, 1.0),
) -> FloatArray:
    """Inverse map of an expanding sphere, M(x) = c0 + d (w r_src + (1 - w) r), plus the midline
    shift: M_x += S exp(-r^2 / (2 L^2)) (r = |x - c0| before the push)."""
    c0 = np.asarray(centre, np.float32).reshape(3, *([1] * (x.ndim - 1)))
    d = x - c0
    r = np.sqrt((d**2).sum(0))
    r_src = np.cbrt(np.maximum(r**3 - radius**3, 0.0))
    w = np.exp(-np.maximum(r - radius, 0.0) / decay)
    new_r = w * r_src + (1 - w) * r
    out = (c0 + d * (new_r / np.maximum(r, 1e-6))[None]).astype(np.float32)
    s, length = shift
    if s != 0:
        g = np.exp(-(r * r) / np.float32(2 * length * length)).astype(np.float32)
        out[0] = (out[0] + np.float32(s) * g).astype(np.float32)
    return out


def _geometry(x: FloatArray, c: tuple[float, float, float]) -> tuple[Any, NDArray[np.float64]]:
    d = tuple(np.asarray(x[a], np.float64) - float(c[a]) for a in range(3))
    r = np.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2])
    return d, r


def _dilate6(m: NDArray[np.bool_]) -> NDArray[np.bool_]:
    out = m.copy()
    out[1:] |= m[:-1]
    out[:-1] |= m[1:]
    out[:, 1:] |= m[:, :-1]
    out[:, :-1] |= m[:, 1:]
    out[:, :, 1:] |= m[:, :, :-1]
    out[:, :, :-1] |= m[:, :, 1:]
    return out


def reach_bound(plan: GliomaPlan, spec: dict[str, Any]) -> float:
    """An upper bound of |x - c0| over the tumour, its oedema and the effaced zone (|F| <=
    sqrt(2 W)): the box outside which nothing is drawn."""
    p = shape_params(spec)
    fmax = math.sqrt(2 * p["marginWaves"])
    norm, cen = margin_shape(plan.margin_waves, p["marginWavenumber"], p["marginAmplitude"])
    rm = plan.radius * (1 + p["marginAmplitude"] * fmax) / norm
    rm += plan.radius * math.sqrt(cen[0] ** 2 + cen[1] ** 2 + cen[2] ** 2)
    ro = (float(spec["oedemaFactor"]) - 1) * plan.radius * (1 + p["oedemaAmplitude"] * fmax)
    return rm + ro + p["effacementMm"] + 1.0


def _box(x: FloatArray, plan: GliomaPlan, spec: dict[str, Any]) -> tuple[slice, slice, slice]:
    """Index ranges of the axis-aligned output grid `x` within reach_bound of the centre."""
    b = reach_bound(plan, spec)
    out = []
    for a in range(3):
        line = np.moveaxis(np.asarray(x[a]), a, 0).reshape(x.shape[a + 1], -1)[:, 0]
        ok = np.flatnonzero(np.abs(line.astype(np.float64) - plan.centre[a]) <= b)
        out.append(slice(int(ok[0]), int(ok[-1]) + 1) if ok.size else slice(0, 0))
    return out[0], out[1], out[2]


def glioma_regions(
    x: FloatArray,
    plan: GliomaPlan,
    spec: dict[str, Any],
) -> dict[str, NDArray[Any]]:
    """Per voxel: r, the margin radius, the core test and the oedema reach (float64)."""
    p = shape_params(spec)
    mk, ma = p["marginWavenumber"], p["marginAmplitude"]
    norm, cen = margin_shape(plan.margin_waves, mk, ma)
    body = tuple(plan.centre[a] - plan.radius * cen[a] for a in range(3))
    d, r = _geometry(x, body)  # type: ignore[arg-type]
    rm = plan.radius * margin_factor(ma, wave_field(d, r, plan.margin_waves, mk)) / norm
    cc = tuple(plan.centre[a] + plan.core_offset[a] for a in range(3))
    dc, rc = _geometry(x, cc)  # type: ignore[arg-type]
    fc = wave_field(dc, rc, plan.core_waves, p["coreWavenumber"])
    core_r = (
        float(spec["necrosisFraction"]) * plan.radius * np.maximum(1 + p["coreAmplitude"] * fc, 0.2)
    )
    core = (rc <= core_r) & (r <= rm - p["minRimMm"])
    fo = wave_field(d, r, plan.oedema_waves, mk)
    reach = (
        (float(spec["oedemaFactor"]) - 1)
        * plan.radius
        * np.maximum(1 + p["oedemaAmplitude"] * fo, 0.0)
    )
    return {"r": r, "margin": rm, "core": core, "reach": reach}


def glioma_labels(
    idx: NDArray[np.int32],
    x: FloatArray,
    lut: dict[int, int],
    groups: list[str],
    values: list[int],
    ranges: dict[str, list[int]],
    plan: GliomaPlan,
    spec: dict[str, Any],
    spacing: float,
) -> tuple[NDArray[np.int32], NDArray[np.bool_]]:
    """The label map with the tumour drawn, and the effaced zone (for the sulcal partial
    volume)."""
    box = _box(x, plan, spec)
    full_idx = idx
    idx = idx[box]
    g = glioma_regions(x[(slice(None), *box)], plan, spec)
    val = np.asarray(values)[idx]
    intracranial = in_range(val, ranges["intracranial"])
    tumour = (g["r"] <= g["margin"]) & intracranial
    out = np.where(tumour, lut[RIM], idx)
    out = np.where(tumour & g["core"], lut[CORE], out)
    # oedema: geodesic flood through white matter, layer k reaches voxels with k s <= reach
    is_wm = np.array([gr == "wm" for gr in groups])[out]
    visited = tumour.copy()
    front = tumour
    k = 0
    while front.any():
        k += 1
        front = _dilate6(front) & is_wm & ~visited & (k * spacing <= g["reach"])
        visited |= front
    oedema = visited & ~tumour
    out = np.where(oedema, lut[OEDEMA], out)
    # sulcal effacement: CSF (24) in the swollen zone becomes cortex of the tumour's side
    zone = g["r"] <= g["margin"] + g["reach"] + shape_params(spec)["effacementMm"]
    if CSF in lut:
        ctx = CTX_RIGHT if plan.centre[0] >= 0 else CTX_LEFT
        if ctx in lut:
            out = np.where(zone & (out == lut[CSF]), lut[ctx], out)
    result = full_idx.astype(np.int32, copy=True)
    result[box] = out
    return result, zone


class Glioma(Pathology):
    id = "glioma"
    labels = (
        LabelDef(CORE, "Tumour-necrotic-core", (255, 255, 0), (3000, 1000, 0.95)),  # fluid-like
        # enhancing rim: its T1c uptake is calibrated by pipeline/glioma_fit.py
        LabelDef(RIM, "Tumour-enhancing-rim", (255, 0, 0), (950, 110, 0.85)),
        LabelDef(OEDEMA, "Peritumoural-oedema", (0, 200, 255), (1300, 150, 0.90)),  # vasogenic
    )

    def plan(self, scene: Scene) -> GliomaPlan:
        c = scene.conditions
        spec = self.spec(scene.manifest)
        return plan_glioma(
            (c["gliomaCenterXMm"], c["gliomaCenterYMm"], c["gliomaCenterZMm"]),
            float(c["gliomaRadiusMm"]),
            spec,
            scene.seed,
        )

    def deform(self, plan: GliomaPlan, x: FloatArray) -> FloatArray:
        check_plan(plan)
        shift = (plan.shift_mm, plan.shift_length_mm)
        return mass_effect(x, plan.centre, plan.radius, plan.decay_mm, shift)

    def draw(
        self, scene: Scene, plan: GliomaPlan, idx: NDArray[np.int32]
    ) -> tuple[NDArray[np.int32], dict[str, Any]]:
        check_plan(plan)
        a = scene.assets
        values = [int(e["value"]) for e in a.manifest["labels"]]
        out, _ = glioma_labels(
            idx,
            scene.x,
            a.index_of,
            a.groups,
            values,
            label_ranges(a.manifest),
            plan,
            self.spec(a.manifest),
            float(scene.grid.spacing[0]),
        )
        lut = a.index_of
        return out, {
            "centreMm": list(plan.centre),
            "radiusMm": plan.radius,
            "midlineShiftMm": round(abs(plan.shift_mm), 3),
            "tumourVoxels": int(np.isin(out, [lut[CORE], lut[RIM]]).sum()),
            "oedemaVoxels": int((out == lut[OEDEMA]).sum()),
        }

    def adjust_csf_fraction(
        self, scene: Scene, plan: GliomaPlan, frac: NDArray[np.float32]
    ) -> NDArray[np.float32]:
        """Effaced sulci: no sulcal partial volume in the swollen zone."""
        spec = self.spec(scene.manifest)
        box = _box(scene.x, plan, spec)
        g = glioma_regions(scene.x[(slice(None), *box)], plan, spec)
        zone = g["r"] <= g["margin"] + g["reach"] + shape_params(spec)["effacementMm"]
        out = frac.copy()
        out[box] = np.where(zone, np.float32(0), frac[box])
        return out.astype(np.float32)


def plan_glioma(
    centre: tuple[float, float, float], radius: float, spec: dict[str, Any], seed: int
) -> GliomaPlan:
    """Every random draw of the glioma, in order: margin waves, core waves, the core offset
    (direction u1, u2; magnitude u3), oedema waves; stream mulberry32(seed ^ 0x27d4eb2f)."""
    p = shape_params(spec)
    rng = Mulberry32((seed ^ STREAM) & 0xFFFFFFFF).next
    margin = draw_waves(rng, int(p["marginWaves"]))
    core = draw_waves(rng, int(p["coreWaves"]))
    u1, u2, u3 = rng(), rng(), rng()
    cz = 2 * u1 - 1
    az = 2 * math.pi * u2
    s = math.sqrt(max(1 - cz * cz, 0.0))
    m = p["coreOffsetFraction"] * radius * u3
    offset = (m * s * math.cos(az), m * s * math.sin(az), m * cz)
    oedema = draw_waves(rng, int(p["marginWaves"]))
    shift, length = midline_shift(float(radius), float(centre[0]), p["midlineShiftPerMm"])
    return GliomaPlan(
        (float(centre[0]), float(centre[1]), float(centre[2])),
        float(radius),
        float(spec["massEffectDecayMm"]),
        margin,
        core,
        oedema,
        offset,
        shift,
        length,
    )


PATHOLOGY = Glioma()

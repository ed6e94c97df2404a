"""Glioma (MODEL_FORMAT.md §4): a sphere of radius r at a given centre pushes the anatomy out
(mass effect, applied to the output points before the template lookup), then necrotic core
(711, r <= necrosisFraction r), enhancing rim (712, r <= r) and oedema in white matter (713,
r <= oedemaFactor r). Deterministic: the plan is the conditions' centre and radius."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.common.grid import FloatArray
from brainsynth.pathologies.base import LabelDef, Pathology, Scene

CORE, RIM, OEDEMA = 711, 712, 713


@dataclass(frozen=True)
class GliomaPlan:
    centre: tuple[float, float, float]  # world mm (RAS)
    radius: float  # mm
    decay_mm: float  # mass effect decay length


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


class Glioma(Pathology):
    id = "glioma"
    labels = (
        LabelDef(CORE, "Tumour-necrotic-core", (255, 255, 0), (3000, 1000, 0.95)),  # fluid-like
        # enhancing rim: no contrast agent modelled
        LabelDef(RIM, "Tumour-enhancing-rim", (255, 0, 0), (950, 110, 0.85)),
        LabelDef(OEDEMA, "Peritumoural-oedema", (0, 200, 255), (1300, 150, 0.90)),  # vasogenic
    )

    def plan(self, scene: Scene) -> GliomaPlan:
        c = scene.conditions
        centre = (c["gliomaCenterXMm"], c["gliomaCenterYMm"], c["gliomaCenterZMm"])
        decay = float(self.spec(scene.manifest)["massEffectDecayMm"])
        return GliomaPlan(centre, float(c["gliomaRadiusMm"]), decay)

    def deform(self, plan: GliomaPlan, x: FloatArray) -> FloatArray:
        return mass_effect(x, plan.centre, plan.radius, plan.decay_mm)

    def draw(
        self, scene: Scene, plan: GliomaPlan, idx: NDArray[np.int32]
    ) -> tuple[NDArray[np.int32], dict[str, Any]]:
        a = scene.assets
        out = glioma_labels(
            idx, scene.x, a.index_of, a.mask("wm"), plan.centre, plan.radius, self.spec(a.manifest)
        )
        return out, {"centreMm": list(plan.centre), "radiusMm": plan.radius}


PATHOLOGY = Glioma()

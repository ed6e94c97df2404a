"""Alzheimer's disease: atrophy as regional gains (manifest `pathology.alzheimers.
gainsAtSeverity1`, scaled by `adSeverity`); no lesion label. Student feature: adSeverity."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.pathologies.base import Pathology, Plan, Scene


class Alzheimers(Pathology):
    id = "alzheimers"
    features = ("adSeverity",)

    def gains(self, manifest: dict[str, Any], cond: dict[str, Any], g: NDArray[np.float64]) -> None:
        g += cond.get("adSeverity", 0.0) * np.asarray(self.spec(manifest)["gainsAtSeverity1"])

    def draw(
        self, scene: Scene, plan: Plan, idx: NDArray[np.int32]
    ) -> tuple[NDArray[np.int32], dict[str, Any]]:
        return idx, {"severity": scene.conditions["adSeverity"]}

    def feature_values(self, cond: dict[str, Any]) -> dict[str, float]:
        return {"adSeverity": float(cond.get("adSeverity", 0.0))}

    def training_conditions(self, rng: np.random.Generator) -> dict[str, Any]:
        return {"adSeverity": float(rng.uniform(0.0, 1.0))}


PATHOLOGY = Alzheimers()

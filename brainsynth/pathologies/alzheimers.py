"""Alzheimer's disease: atrophy as regional gains (manifest `pathology.alzheimers.
gainsAtSeverity1`, scaled by `adSeverity`) and step 7c's `adFactor`s; no lesion label. Student
feature: adSeverity.

`SEVERITY1_CHANGE` is the model card's picture of severity 1 (docs/MODEL.md, Method 6): each
region's volume relative to the same individual healthy at the same age, moderate-to-severe AD
vs. age-matched controls. The one source of the numbers: `pipeline.build` solves the gains for
`GAIN_REGIONS`, `pipeline.sizing` fits step 7c's factors to the structures it sizes and
`qa.anatomy` measures every entry.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.pathologies.base import Pathology, Plan, Scene

SEVERITY1_CHANGE: dict[str, float] = {
    "hippocampus": 0.75,
    "amygdala": 0.80,
    "inf-lat-ventricles": 2.0,
    "lateral-ventricles": 1.4,
    "cortex": 0.95,
    # ventriculomegaly reaches the third and fourth ventricles too; the third ventricle's
    # width is a classic sign (it widens as the thalami and hypothalamus around it shrink).
    # One region in the normative table, and step 7c takes both ventricles by one factor:
    # x1.2 together, below the lateral ventricles' x1.4 (model 1.17.0; before it the gains
    # held the region and random individuals' shrank by ~8 % at severity 1)
    "third-fourth-ventricles": 1.2,
}
# the regions the regional gains carry at severity 1 (`gainsAtSeverity1`). The 3rd/4th
# ventricles change only through step 7c's adFactor (their gain is held in that solve): adding
# them would change the Alzheimer's deformation, which the distilled student is trained on, so
# it waits for a rebuild
GAIN_REGIONS = ("hippocampus", "amygdala", "inf-lat-ventricles", "lateral-ventricles", "cortex")


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

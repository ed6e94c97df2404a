"""What a pathology module provides (the Python twin of src/engine/pathologies/<id>.ts).

A module defines one `Pathology` subclass instance, `PATHOLOGY`, with:
- `id`: its value of the conditions schema's `pathology` enum;
- `labels`: the label values it draws (within labelRanges.pathology), names and colours;
- `features`: the student input features it owns (`feature_values` gives them);
- `gains(manifest, conditions, g)`: its change to the regional gains (step 2), in place;
- `plan(scene)`: ALL its randomness, from the seed, as an explicit placement (a `Plan`); a
  caller may pass its own plan instead (a lesion placed by hand);
- `deform(plan, x)`: the inverse map of its mass effect on the output points, or None;
- `draw(scene, plan, idx)`: the deterministic application to the label indices, and the
  sidecar's `pathology` facts;
- `adjust_csf_fraction(scene, plan, frac)`: its change to step 7b's sulcal partial volume;
- `training_conditions(rng)`: its parameters for a distillation pair (distill/data.py).
The defaults are "nothing": a pathology overrides only what it does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from brainsynth.anatomy import AnatomyModel
from brainsynth.common.grid import FloatArray, Grid

T = TypeVar("T")
Plan = Any  # each module's own (JSON-friendly where it can be) placement record


@dataclass(frozen=True)
class LabelDef:
    value: int
    name: str
    rgb: tuple[int, int, int]
    # (T1 ms, T2 ms, proton density) at 1.5 T: the pipeline's signal equations give the label's
    # intensity in every contrast from it (pipeline/appearance.py)
    relaxation: tuple[float, float, float] = (900, 80, 0.75)


@dataclass
class ModelAssets:
    """Per-model data a pathology may derive once (cached by `cached`)."""

    folder: str
    model: AnatomyModel
    manifest: dict[str, Any]
    index_of: dict[int, int]  # label value -> index
    groups: list[str]  # label index -> group
    _cache: dict[str, Any] = field(default_factory=dict)

    def mask(self, *groups: str) -> NDArray[np.bool_]:
        """Per label index: is its group one of `groups`."""
        return np.array([g in groups for g in self.groups], bool)

    def cached(self, key: str, make: Callable[[], T]) -> T:
        if key not in self._cache:
            self._cache[key] = make()
        value: T = self._cache[key]
        return value


@dataclass
class Scene:
    """One sample as the pathology stages see it (the engine's draw context)."""

    assets: ModelAssets
    conditions: dict[str, Any]  # complete (defaults filled)
    seed: int
    grid: Grid  # output grid
    x: FloatArray  # output points [3, nx, ny, nz], world mm, before any deform
    u: FloatArray  # displacement on the velocity grid
    scale: float  # ICV scale (step 5)
    template_flat: NDArray[np.int64] | None = None  # nearest 2 mm template voxel per point

    @property
    def manifest(self) -> dict[str, Any]:
        return self.assets.manifest


class Pathology:
    id: str = ""
    labels: tuple[LabelDef, ...] = ()
    features: tuple[str, ...] = ()

    def gains(self, manifest: dict[str, Any], cond: dict[str, Any], g: NDArray[np.float64]) -> None:
        """Add this pathology's regional gains to g (in place). Default: none."""

    def plan(self, scene: Scene) -> Plan:
        return None

    def deform(self, plan: Plan, x: FloatArray) -> FloatArray | None:
        return None

    def draw(
        self, scene: Scene, plan: Plan, idx: NDArray[np.int32]
    ) -> tuple[NDArray[np.int32], dict[str, Any]]:
        return idx, {}

    def adjust_csf_fraction(
        self, scene: Scene, plan: Plan, frac: NDArray[np.float32]
    ) -> NDArray[np.float32]:
        """Change step 7b's sulcal partial volume after `draw` (the glioma effaces the sulci
        around it). Default: unchanged."""
        return frac

    def feature_values(self, cond: dict[str, Any]) -> dict[str, float]:
        """Values of `features` for conditions of this pathology (others read 0)."""
        return {}

    def training_conditions(self, rng: np.random.Generator) -> dict[str, Any]:
        return {}

    def spec(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """This pathology's section of the manifest (`pathology.<id>`), {} when absent."""
        section: dict[str, Any] = manifest.get("pathology", {}).get(self.id, {})
        return section

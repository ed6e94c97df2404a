"""The pathology registry: one module per pathology (`<id>.py`, each exporting `PATHOLOGY`),
in the order of the conditions schema's `pathology` enum (the student's feature order follows
it). The teacher, `model_io.gains_for`, the label table and the distillation data iterate this
registry; none of them names a pathology. See README.md for how to add one.
"""

from __future__ import annotations

from brainsynth.pathologies import alzheimers, glioma, ms, none, stroke
from brainsynth.pathologies.base import LabelDef, ModelAssets, Pathology, Plan, Scene
from brainsynth.schema import PATHOLOGIES

_MODULES = (none, alzheimers, ms, glioma, stroke)
REGISTRY: dict[str, Pathology] = {m.PATHOLOGY.id: m.PATHOLOGY for m in _MODULES}

if tuple(REGISTRY) != PATHOLOGIES:  # pragma: no cover - a packaging error, caught by the tests
    REGISTRY = {p: REGISTRY[p] for p in PATHOLOGIES if p in REGISTRY}
    missing = sorted(set(PATHOLOGIES) - set(REGISTRY))
    if missing:
        raise ImportError(f"conditions.schema.json names pathologies without a module: {missing}")


def get(pathology_id: str) -> Pathology:
    """The module of `pathology_id`; KeyError names the known ones."""
    try:
        return REGISTRY[pathology_id]
    except KeyError:
        raise KeyError(f"unknown pathology {pathology_id!r} (known: {list(REGISTRY)})") from None


def all_labels() -> list[LabelDef]:
    """Every pathology label, in registry order."""
    return [lab for p in REGISTRY.values() for lab in p.labels]


def feature_names() -> list[str]:
    """The pathology features of the student's input, in registry order."""
    return [f for p in REGISTRY.values() for f in p.features]


def feature_values(cond: dict[str, object]) -> list[float]:
    """Those features for `cond`: the own pathology's values, 0 for every other."""
    own = get(str(cond.get("pathology", "none"))).feature_values(dict(cond))
    return [float(own.get(f, 0.0)) for f in feature_names()]


__all__ = [
    "REGISTRY",
    "LabelDef",
    "ModelAssets",
    "Pathology",
    "Plan",
    "Scene",
    "all_labels",
    "feature_names",
    "feature_values",
    "get",
]

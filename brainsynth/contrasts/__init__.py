"""The contrast registry: one module per contrast (`<id>.py`, each exporting `CONTRAST`), in
the order of the conditions schema's `contrast` enum. The pipeline's appearance model iterates
it; the teacher renders any contrast the manifest's `appearance.contrasts` holds."""

from __future__ import annotations

from brainsynth.contrasts import flair, t1c, t1w, t2w
from brainsynth.contrasts.base import Contrast
from brainsynth.schema import CONTRASTS

_MODULES = (t1w, t2w, flair, t1c)
_BY_ID = {m.CONTRAST.id: m.CONTRAST for m in _MODULES}
missing = sorted(set(CONTRASTS) - set(_BY_ID))
if missing:  # pragma: no cover - a packaging error, caught by the tests
    raise ImportError(f"conditions.schema.json names contrasts without a module: {missing}")
REGISTRY: dict[str, Contrast] = {c: _BY_ID[c] for c in CONTRASTS}


def get(contrast_id: str) -> Contrast:
    try:
        return REGISTRY[contrast_id]
    except KeyError:
        raise KeyError(f"unknown contrast {contrast_id!r} (known: {list(REGISTRY)})") from None


__all__ = ["REGISTRY", "Contrast", "get"]

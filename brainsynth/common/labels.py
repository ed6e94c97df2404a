"""Label-value ranges (MODEL_FORMAT.md §2/§4): the one definition in Python.

Every manifest carries them as `labelRanges` (written from `LABEL_RANGES`); readers take the
manifest's (`label_ranges(manifest)`), the pipeline writes this constant.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

# Inclusive [first, last] label values. The ICV counts intracranial + pathology; pathology
# labels are the lesions' own (each pathology module in brainsynth/pathologies names its).
LABEL_RANGES: dict[str, list[int]] = {
    "intracranial": [1, 499],
    "extraCerebral": [500, 599],
    "pathology": [700, 799],
}


def label_ranges(manifest: dict[str, Any] | None = None) -> dict[str, list[int]]:
    """The manifest's `labelRanges` (LABEL_RANGES for a manifest written before it existed)."""
    got = (manifest or {}).get("labelRanges")
    return {k: list(v) for k, v in (got or LABEL_RANGES).items()}


def in_range(values: Any, bounds: list[int]) -> Any:
    """values within the inclusive [first, last] `bounds` (scalar or array)."""
    lo, hi = bounds
    return (np.asarray(values) >= lo) & (np.asarray(values) <= hi)


def is_pathology(values: NDArray[np.integer[Any]] | int, ranges: dict[str, list[int]]) -> Any:
    return in_range(values, ranges["pathology"])


def counts_in_icv(value: int, ranges: dict[str, list[int]]) -> bool:
    """The one ICV rule: intracranial and pathology label values count, nothing else."""
    return bool(in_range(value, ranges["intracranial"]) or in_range(value, ranges["pathology"]))

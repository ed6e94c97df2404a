"""Temporal horns (MODEL_FORMAT.md §3, step 7c): the inferior lateral ventricles sized by age,
sex and Alzheimer's disease.

The regional basis lives on a 6 mm grid; the inferior horns are 1–2 mL slits a few millimetres
wide, so no basis field can steer them (their gain is tied to the lateral ventricles', and the
calibrated model kept them near constant while the normative horns grow ~4.5-fold from 45 to
90; Alzheimer's disease left them unchanged). Step 7c sets their size directly, on the label
map, after the template lookup and the folding:

  per side (left 5 / right 44, growing into and shrinking back to that side's cerebral WM,
  2 / 41): n = the side's horn voxels, target m = floor(n f(age, sex) A^adSeverity + 1/2)
  (A only for Alzheimer's disease), then
  - grow (m > n): layer by layer, the WM voxels of that side that are 6-neighbours of the
    horn (the layer taken from the horn as it was before the layer) become horn; a layer that
    would pass m is taken in increasing flat index (x fastest) until m;
  - shrink (m < n): layer by layer, the horn voxels with a 6-neighbour that is not that
    side's horn become WM, in decreasing flat index for the last, partial layer.
  The growth stops early if no WM is left next to the horn.

f(age, sex) is the manifest's `horns.factor` table (per year, linear in between, clamped):
the normative median horn volume relative to 45 over the model's own (before this step, mean
individual z = 0), so each individual keeps its own horn size at 45 and follows the
normative change with age; A (`horns.adFactor`) makes severity 1 double the horns of the same
individual (the model card's Alzheimer's picture: inferior horns x2). Both are computed by
`brainsynth.pipeline.horns`. The same numbers in the engine (src/engine/sampler/horns.ts).
Written here because the rule acts on this model's own label map.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

# (horn, cerebral WM) label values per side (FreeSurfer)
SIDES = ((5, 2), (44, 41))


def factor_at(table: list[float], ages: list[float], age: float) -> float:
    """The engine's interpAge on one column: linear in age, clamped to the table."""
    if age <= ages[0]:
        return float(table[0])
    if age >= ages[-1]:
        return float(table[-1])
    i = 0
    while ages[i + 1] < age:
        i += 1
    t = (age - ages[i]) / (ages[i + 1] - ages[i])
    return float(table[i] * (1 - t) + table[i + 1] * t)


def horn_factor(params: dict[str, Any], cond: dict[str, Any]) -> float:
    """f(age, sex) * A^severity for the conditions (A only under Alzheimer's disease)."""
    f = factor_at(params["factor"][cond["sex"]], params["ages"], float(cond["age"]))
    if cond.get("pathology") == "alzheimers":
        f *= float(params["adFactor"]) ** float(cond.get("adSeverity", 0.0))
    return f


def _neighbour_any(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Voxels with a 6-neighbour in `mask` (outside the grid counts as not in the mask)."""
    out = np.zeros_like(mask)
    for axis in range(3):
        n = mask.shape[axis]
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis] = slice(0, n - 1)
        hi[axis] = slice(1, n)
        out[tuple(lo)] |= mask[tuple(hi)]
        out[tuple(hi)] |= mask[tuple(lo)]
    return out


def _flat_order(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Flat (x fastest) indices of `mask` [x, y, z], increasing."""
    return np.flatnonzero(mask.ravel(order="F"))


def apply_horns(
    values: NDArray[np.integer[Any]], factor: float
) -> tuple[NDArray[np.int32], dict[str, Any]]:
    """Step 7c on label values [x, y, z]: the resized horns and what was done per side."""
    out = np.asarray(values).astype(np.int32).copy()
    info: dict[str, Any] = {"factor": factor}
    for horn, wm in SIDES:
        h = out == horn
        n = int(h.sum())
        m = int(np.floor(n * factor + 0.5))  # half up, as the engine
        info[str(horn)] = {"before": n, "target": m}
        if n == 0 or m == n:
            info[str(horn)]["after"] = n
            continue
        count = n
        if m > n:
            while count < m:
                front = _neighbour_any(h) & (out == wm)
                idx = _flat_order(front)
                if idx.size == 0:
                    break
                take = idx[: m - count]
                out[np.unravel_index(take, out.shape, order="F")] = horn
                count += int(take.size)
                h = out == horn
        else:
            while count > m:
                rim = h & _neighbour_any(~h)
                idx = _flat_order(rim)[::-1]
                take = idx[: count - m]
                out[np.unravel_index(take, out.shape, order="F")] = wm
                count -= int(take.size)
                h = out == horn
        info[str(horn)]["after"] = count
    return out, info

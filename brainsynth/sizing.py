"""Label-level sizing (MODEL_FORMAT.md §3, step 7c): small structures sized for age, sex and
Alzheimer's disease directly on the label map, after the template lookup and the folding; the
same rule also sizes the cerebral WM and cortex and (model >= 1.12.0) the head's skull and
scalp layers (`pipeline.head_layers`).

The regional basis lives on a 6 mm grid. For structures of a few millilitres (hippocampus,
amygdala, 3rd/4th ventricles, the 1-2 mL temporal horns) the calibration of the gains at the
mean individual (z = 0) follows the normative change, but random individuals respond to the
same gains differently (the solve at z = 0 fits that one label map's voxel steps, so the gains
of these regions zig-zag from one 5-year knot to the next); the temporal horns cannot be
steered at all (their gain is tied to the lateral ventricles'). Step 7c corrects each such
structure by a factor on its voxel count. The rule, one per structure in the manifest's order,
then per label in the structure's order:

  f = the structure's factor row for the sex, linear in age (clamped), times adFactor^adSeverity
  under Alzheimer's disease (when the structure has an adFactor), times exp(s z) when the
  structure has an `individualLogSd` row s (same interpolation) — z is the structure's size
  latent (`latent` j, default 0; `model_io.size_latents`: latent j is the (j+1)-th normal after
  z_icv in the seed's stream: 0 the ventricles', 1 the skull's, 2 the scalp's), float64;
  n = voxels labelled `value`, target m = floor(n f + 1/2); while the count differs from m:
  - grow (count < m): the layer = voxels labelled one of `partners` with an in-grid
    6-neighbour labelled `value` (labels as before the layer), in increasing flat index
    (x fastest); the first min(layer, m - count) become `value`; an empty layer ends it;
  - shrink (count > m): the layer = voxels labelled `value` with an in-grid 6-neighbour
    labelled one of `partners` (labels as before the layer); the last min(layer, count - m)
    in increasing flat index each take the label of their first such neighbour in the order
    -x, +x, -y, +y, -z, +z; an empty layer ends it.
  (A partial layer in flat order keeps ageing coherent: from one year to the next the same
  voxels are taken first. Spread evenly over the interface instead, a year's change of a few
  per cent flipped a quarter of the lateral ventricles' rim — flicker in a time-lapse.)
  A structure with `partialLayer: "smooth"` (the cerebral WM and cortex, whose interfaces span
  the brain: in flat order a part-layer would be a band of the lowest slices) takes the
  min(layer, |m - count|) voxels of a partial layer in another order: most 6-neighbours labelled
  `value` first when growing (pockets in the structure's surface fill first), most 6-neighbours
  labelled a partner first when shrinking (protrusions go first), ties by the lowest `priority`,
  a fixed hash of the voxel's flat index in the grid. So a part-layer smooths the interface
  instead of roughening it (single voxels scattered over it by priority alone added ~3 % of
  GM/WM boundary area in a first version), is spread over the whole interface, and the same
  voxels still come first from one year to the next.
  So the interface between the structure and its partners moves one voxel layer at a time:
  what a structure loses goes to the tissue or CSF it borders, what it gains comes from them.

The factor table is the normative median's change relative to 45 over the model's own (the
label map before this structure's sizing, mean over individuals), so each individual keeps its
own size at 45 and follows the normative change with age; adFactor makes severity 1 give the
model card's Alzheimer's change of the same individual; `individualLogSd` (the lateral
ventricles, temporal horns and 3rd/4th ventricles) gives individuals of one age the real
between-person spread of ventricle size (normative centiles, less the model's own). All are
computed by `brainsynth.pipeline.sizing`. The same numbers in the engine
(src/engine/sampler/sizing.ts).
A manifest of software 0.4.0 has the temporal horns only, as `horns`: read here as the one
structure (inferior lateral ventricles, each side against its own cerebral white matter).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

# the legacy `horns` block's structure: (horn, cerebral WM) per side (FreeSurfer)
HORN_LABELS = ({"value": 5, "partners": [2]}, {"value": 44, "partners": [41]})

# 6-neighbours in the rule's order: -x, +x, -y, +y, -z, +z (arrays are [x, y, z])
_DIRECTIONS = ((0, -1), (0, 1), (1, -1), (1, 1), (2, -1), (2, 1))


def sizing_params(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest's `sizing`, or its legacy `horns` (software 0.4.0) as one structure."""
    if manifest.get("sizing"):
        return dict(manifest["sizing"])
    horns = manifest.get("horns")
    if not horns:
        return None
    return {
        "ages": horns["ages"],
        "structures": [
            {
                "region": "inf-lat-ventricles",
                "labels": [dict(x) for x in HORN_LABELS],
                "factor": horns["factor"],
                "adFactor": horns["adFactor"],
            }
        ],
    }


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


def latent_of(structure: dict[str, Any], z_size: float | Sequence[float]) -> float:
    """The structure's size latent (`latent`, default 0) out of the individual's size latents
    (`model_io.size_latents`); a single number is latent 0 (latents beyond it read 0)."""
    zs = [float(z_size)] if isinstance(z_size, (int, float)) else [float(z) for z in z_size]
    j = int(structure.get("latent", 0))
    return zs[j] if j < len(zs) else 0.0


def structure_factor(
    params: dict[str, Any],
    structure: dict[str, Any],
    cond: dict[str, Any],
    z_size: float | Sequence[float] = 0.0,
) -> float:
    """f(age, sex) * adFactor^severity (adFactor only under Alzheimer's) * exp(s(age, sex) * z)
    for a structure with `individualLogSd` s, z its size latent (`latent_of`): the individual's
    own size."""
    f = factor_at(structure["factor"][cond["sex"]], params["ages"], float(cond["age"]))
    sd = structure.get("individualLogSd")
    z_size = latent_of(structure, z_size)
    if sd is not None and z_size != 0.0:
        f *= math.exp(factor_at(sd[cond["sex"]], params["ages"], float(cond["age"])) * z_size)
    ad = structure.get("adFactor")
    if ad is not None and cond.get("pathology") == "alzheimers":
        f *= float(ad) ** float(cond.get("adSeverity", 0.0))
    return f


def _neighbour(sub: NDArray[np.int32], axis: int, step: int) -> NDArray[np.int32]:
    """The label of each voxel's neighbour at `step` along `axis` (-1 outside the array)."""
    out = np.full_like(sub, -1)
    n = sub.shape[axis]
    dst = [slice(None)] * 3
    src = [slice(None)] * 3
    if step < 0:
        dst[axis], src[axis] = slice(1, n), slice(0, n - 1)
    else:
        dst[axis], src[axis] = slice(0, n - 1), slice(1, n)
    out[tuple(dst)] = sub[tuple(src)]
    return out


def _box(mask: NDArray[np.bool_]) -> tuple[slice, ...]:
    """The bounding box of `mask` grown by one voxel (clamped to the array): every voxel of the
    mask and every 6-neighbour of one lies inside it."""
    box = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        hit = np.flatnonzero(mask.any(axis=other))
        box.append(slice(max(int(hit[0]) - 1, 0), min(int(hit[-1]) + 2, mask.shape[axis])))
    return tuple(box)


def _flat_order(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Flat (x fastest) indices of `mask` [x, y, z], increasing. Inside a box this is the
    order of the whole grid's flat index."""
    return np.flatnonzero(mask.ravel(order="F"))


def priority(flat: NDArray[np.integer[Any]]) -> NDArray[np.uint32]:
    """The smooth order's tie-break priority of flat grid indices (x fastest): an integer hash
    (xor-shift / multiply rounds, a bijection of uint32, so no two voxels tie) that decorrelates
    neighbouring voxels. Same arithmetic as the engine's (sizing.ts)."""
    x = np.asarray(flat).astype(np.uint32)
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


def _neighbour_count(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """How many of each voxel's in-grid 6-neighbours are in `mask` (outside the array counts as
    not in the mask)."""
    out = np.zeros(mask.shape, np.int64)
    for axis in range(3):
        n = mask.shape[axis]
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis] = slice(0, n - 1)
        hi[axis] = slice(1, n)
        out[tuple(lo)] += mask[tuple(hi)]
        out[tuple(hi)] += mask[tuple(lo)]
    return out


def _smooth(
    idx: NDArray[np.int64],
    k: int,
    box: tuple[slice, ...],
    shape: tuple[int, ...],
    near: NDArray[np.int64],
) -> NDArray[np.int64]:
    """The first k of box-relative flat indices `idx` by most neighbours (`near`: the box's
    neighbour counts), then lowest priority of their grid index."""
    sub_shape = tuple(b.stop - b.start for b in box)
    local = np.unravel_index(idx, sub_shape, order="F")
    grid = np.ravel_multi_index(
        tuple(c + b.start for c, b in zip(local, box, strict=True)), shape, order="F"
    )
    return idx[np.lexsort((priority(grid), -near[local]))[:k]]


def resize_label(
    out: NDArray[np.int32], value: int, partners: list[int], m: int, smooth: bool = False
) -> int:
    """Grow or shrink label `value` of `out` [x, y, z] (in place) against `partners` until it
    has m voxels or no layer is left (a partial layer in flat order, or in the `smooth`
    order); returns the final count."""
    count = int((out == value).sum())
    part = np.asarray([p for p in partners if p != value], np.int32)
    while count != m:
        mine = out == value
        if count == 0:
            break
        box = _box(mine)
        sub = out[box]
        s = mine[box]
        is_partner = np.isin(sub, part)
        if count < m:
            near = _neighbour_count(s)
            idx = _flat_order(is_partner & (near > 0))
            if idx.size == 0:
                break
            k = m - count
            take = _smooth(idx, k, box, out.shape, near) if smooth and k < idx.size else idx[:k]
            sub[np.unravel_index(take, sub.shape, order="F")] = value
            count += int(take.size)
        else:
            near = _neighbour_count(is_partner)
            idx = _flat_order(s & (near > 0))
            if idx.size == 0:
                break
            k = count - m
            take = (
                _smooth(idx, k, box, out.shape, near) if smooth and k < idx.size else idx[::-1][:k]
            )
            target = np.full(sub.shape, -1, np.int32)
            for axis, step in _DIRECTIONS:
                nb = _neighbour(sub, axis, step)
                target = np.where((target < 0) & np.isin(nb, part), nb, target)
            where = np.unravel_index(take, sub.shape, order="F")
            sub[where] = target[where]
            count -= int(take.size)
        # `sub` is a view of `out` (basic slicing): the layer is written through
    return count


def apply_structure(
    out: NDArray[np.int32], structure: dict[str, Any], f: float
) -> dict[str, dict[str, int]]:
    """One structure of step 7c on label values `out` [x, y, z], in place, with factor f."""
    info: dict[str, dict[str, int]] = {}
    for entry in structure["labels"]:
        value = int(entry["value"])
        n = int((out == value).sum())
        m = int(np.floor(n * f + 0.5))  # half up, as the engine
        partners = [int(p) for p in entry["partners"]]
        smooth = structure.get("partialLayer") == "smooth"
        after = n if m == n else resize_label(out, value, partners, m, smooth)
        info[str(value)] = {"before": n, "target": m, "after": after}
    return info


def apply_sizing(
    values: NDArray[np.integer[Any]],
    params: dict[str, Any],
    cond: dict[str, Any],
    z_size: float | Sequence[float] = 0.0,
) -> tuple[NDArray[np.int32], dict[str, Any]]:
    """Step 7c on label values [x, y, z] for the conditions and the individual's size latents
    `z_size` (`model_io.size_latents`; a number: latent 0 only): the resized label map and, per
    structure (its region name), the factor and per label value what was done (voxels before,
    target, after)."""
    out = np.asarray(values).astype(np.int32).copy()
    info: dict[str, Any] = {}
    for structure in params["structures"]:
        f = structure_factor(params, structure, cond, z_size)
        info[str(structure["region"])] = {"factor": f, "labels": apply_structure(out, structure, f)}
    return out, info

"""Depth layers of the appearance (MODEL_FORMAT.md §5 step 0, manifest `appearance.depthLayers`).

A real 2 mm T1 is not flat inside a tissue: white matter next to the cortex is darker than deep
white matter (partial volume with grey matter and less myelin), cortex next to the white matter
is brighter than cortex at the pial surface (partial volume with white matter on one side, with
sulcal CSF on the other). Measured on the 42 IXI scans by layer of 6-neighbour distance from the
GM/WM boundary (eroded-WM units): WM 0.87, 0.97, 1.00, 1.05 for layers 1-4; cortex 0.74, 0.66,
0.55 for layers 1-3. The flat per-label means gave 0.96, 1.00, 1.00, 0.98 and 0.71, 0.65, 0.64.

Each `depthLayers` entry names a group of labels (e.g. cerebral WM 2/41), the labels its
distance is counted from (cortex 3/42) and one row per layer: layer 1 is every group voxel with a
6-neighbour among the `from` labels, layer k a group voxel without a layer that has a
6-neighbour in layer k-1, and the last row takes every remaining group voxel (however deep or
unreachable). With `surface` ({labels, layers}, as many layers), a group voxel with a
6-neighbour among the surface labels (the cortex's pial side: CSF, outside the brain) takes the
surface row of its layer instead: at 2 mm real pial cortex is far darker than cortex of the
same depth away from it (0.65/0.58/0.49 vs 0.75/0.70/0.70 for layers 1-3).

A row's mean in every contrast is a mix of the label's mean and its partner's (`toward`,
aligned with `labels`): mean + weight·(mean_partner − mean), so one weight fitted on
T1w carries to T2w and FLAIR as the partial-volume mix it stands for. Its SD is the label's
times the row's `sdScale` (default 1: real outer cortex varies more than inner, its partial
volume differing voxel to voxel), its white-matter flag the label's own. The renderer then
sees "appearance rows" appended to the label table:
the voxel's index is remapped, nothing else in §5 changes — except for rows with `mixSd` m > 0
(model >= 1.8.0): at 2 mm a voxel of the cortex holds its own mix of grey matter with CSF or
white matter, different from its neighbour's, so such a row adds `m (mean_partner - mean) v`
to the textured image, v a unit normal per voxel (stream s + 6; `extend_mix`) — variation from
voxel to voxel, where the texture field's is spatially correlated.

On a grid s = 2 mm / spacing times finer (the 1 mm teacher: s = 2), the layers are counted in
the finer voxels and layer j maps to model layer ceil(j / s), so a row keeps its millimetres.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

_CROSS = ndimage.generate_binary_structure(3, 1)


@dataclass(frozen=True)
class AppearanceRows:
    """Index remap and the rows appended to the label table: row r (at table position
    n_labels + r) is label `label[r]` mixed toward `partner[r]` by `weight[r]`."""

    index: NDArray[np.int32]
    label: NDArray[np.int32]
    partner: NDArray[np.int32]
    weight: NDArray[np.float32]
    sd_scale: NDArray[np.float32]
    mix_sd: NDArray[np.float32]


def layers(
    in_group: NDArray[np.bool_], source: NDArray[np.bool_], n_layers: int
) -> NDArray[np.int16]:
    """Layer number (1..n_layers) of every `in_group` voxel, 0 elsewhere (module docstring):
    6-neighbour distance from `source`, the last layer taking every remaining group voxel."""
    if n_layers < 1:
        raise ValueError(f"a depth group needs at least one layer (got {n_layers})")
    out = np.zeros(in_group.shape, np.int16)
    front = source
    for k in range(1, n_layers):
        new = in_group & (out == 0) & ndimage.binary_dilation(front, _CROSS)
        out[new] = k
        front = new
    out[in_group & (out == 0)] = n_layers
    return out


def appearance_rows(
    idx: NDArray[np.int32],
    label_values: NDArray[np.integer[Any]],
    spec: list[dict[str, Any]],
    scale: int = 1,
) -> AppearanceRows:
    """The voxels' appearance indices and the appended rows for `spec` (manifest
    `appearance.depthLayers`) on label indices `idx`; `scale` = 2 mm / grid spacing."""
    lv = np.asarray(label_values)
    index_of = {int(v): i for i, v in enumerate(lv)}
    values = lv[idx]
    out = idx.astype(np.int32, copy=True)
    label: list[int] = []
    partner: list[int] = []
    weight: list[float] = []
    sd_scale: list[float] = []
    mix_sd: list[float] = []
    n = len(lv)
    s = max(1, int(scale))
    seen: set[int] = set()
    for group in spec:
        labels = [int(v) for v in group["labels"]]
        for v in labels:
            if v in seen and v in index_of:
                raise ValueError(f"label {v} is in two depth groups")
            seen.add(v)
        rows = group["layers"]
        in_group = np.isin(values, labels)
        source = np.isin(values, [int(v) for v in group["from"]])
        fine = layers(in_group, source, len(rows) * s)
        model_layer = (fine + (s - 1)) // s  # ceil(j / s); 0 stays 0
        surface = group.get("surface")
        if surface and len(surface["layers"]) != len(rows):
            raise ValueError("a depth group's surface needs as many layers as the group")
        on_surface = (
            in_group
            & ndimage.binary_dilation(np.isin(values, [int(v) for v in surface["labels"]]), _CROSS)
            if surface
            else np.zeros(in_group.shape, bool)
        )
        for li, lab in enumerate(labels):
            if lab not in index_of:
                continue
            is_lab = values == lab
            for flag, rs in ((False, rows), (True, surface["layers"] if surface else [])):
                for k, row in enumerate(rs, start=1):
                    toward = int(row["toward"][li])
                    out[is_lab & (model_layer == k) & (on_surface == flag)] = n + len(label)
                    label.append(index_of[lab])
                    partner.append(index_of.get(toward, index_of[lab]))
                    weight.append(float(row["weight"]))
                    sd_scale.append(float(row.get("sdScale", 1.0)))
                    mix_sd.append(float(row.get("mixSd", 0.0)))
    return AppearanceRows(
        out,
        np.asarray(label, np.int32),
        np.asarray(partner, np.int32),
        np.asarray(weight, np.float32),
        np.asarray(sd_scale, np.float32),
        np.asarray(mix_sd, np.float32),
    )


def extend_table(table: NDArray[np.float32], rows: AppearanceRows) -> NDArray[np.float32]:
    """Per-label means with the rows' mixed means appended (float32, as the engine)."""
    t = np.asarray(table, np.float32)
    mixed = t[rows.label] + rows.weight * (t[rows.partner] - t[rows.label])
    return np.concatenate([t, mixed.astype(np.float32)]).astype(np.float32)


def extend_own(table: NDArray[Any], rows: AppearanceRows) -> NDArray[Any]:
    """A per-label table whose rows take their label's own entry (the WM flag)."""
    t = np.asarray(table)
    return np.concatenate([t, t[rows.label]])


def extend_sd(table: NDArray[np.float32], rows: AppearanceRows) -> NDArray[np.float32]:
    """Per-label SDs with the rows' appended: the label's SD times the row's `sdScale`."""
    t = np.asarray(table, np.float32)
    return np.concatenate([t, (t[rows.label] * rows.sd_scale).astype(np.float32)]).astype(
        np.float32
    )


def extend_mix(
    table: NDArray[np.float32], rows: AppearanceRows, scale: int = 1
) -> NDArray[np.float32]:
    """The voxel mix's SD per table entry (MODEL_FORMAT §5 step 1): 0 for the labels, for a row
    `mixSd * (mean_partner - mean_label)` on the per-label means `table` (float32, as the
    engine), times scale^1.5 on a grid `scale` times finer (a voxel of 1/scale^3 the volume
    holds a mix that varies scale^1.5 times as much)."""
    t = np.asarray(table, np.float32)
    vsd = (rows.mix_sd * (t[rows.partner] - t[rows.label])).astype(np.float32)
    if scale != 1:
        vsd = (vsd * np.float32(float(scale) ** 1.5)).astype(np.float32)
    return np.concatenate([np.zeros(len(t), np.float32), vsd]).astype(np.float32)

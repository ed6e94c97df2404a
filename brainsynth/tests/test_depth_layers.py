"""Depth layers (brainsynth/depth_layers.py): layer numbers on a hand-made grid (the same grid as
src/engine/render/depthLayers.test.ts), the appended rows, the 1 mm mapping, and the renderer
using them only when the manifest has them."""

from __future__ import annotations

import numpy as np

from brainsynth.depth_layers import (
    appearance_rows,
    extend_own,
    extend_sd,
    extend_table,
    layers,
)


def slab() -> np.ndarray:
    """[x, y, z] = 7x3x3 label indices: x = 0 the source (1), x = 1..6 the group (2), except
    (6, 1, 1) which is 0."""
    idx = np.full((7, 3, 3), 2, np.int32)
    idx[0] = 1
    idx[6, 1, 1] = 0
    return idx


def test_layers_count_6_neighbour_distance_and_the_last_takes_the_rest() -> None:
    idx = slab()
    lay = layers(idx == 2, idx == 1, 3)
    assert [int(lay[x, 0, 0]) for x in range(7)] == [0, 1, 2, 3, 3, 3, 3]
    assert lay[6, 1, 1] == 0
    assert (layers(idx == 2, idx == 1, 1)[idx == 2] == 1).all()
    assert (layers(idx == 2, np.zeros_like(idx, bool), 2)[idx == 2] == 2).all()


def test_rows_mix_toward_the_partner_and_keep_the_label_sd() -> None:
    idx = slab()
    values = np.array([0, 3, 2, 24])
    spec = [
        {
            "labels": [2],
            "from": [3],
            "layers": [
                {"toward": [3], "weight": 0.5, "sdScale": 2.0},
                {"toward": [3], "weight": -0.25},
            ],
        }
    ]
    rows = appearance_rows(idx, values, spec)
    assert rows.index[1, 0, 0] == 4 and rows.index[2, 0, 0] == 5 and rows.index[6, 0, 0] == 5
    assert rows.index[0, 0, 0] == 1 and rows.index[6, 1, 1] == 0
    means = np.array([0, 0.6, 1.0, 0.3], np.float32)
    ext = extend_table(means, rows)
    assert ext.dtype == np.float32 and ext.shape == (6,)
    np.testing.assert_allclose(ext[4:], [1.0 + 0.5 * (0.6 - 1.0), 1.0 - 0.25 * (0.6 - 1.0)], 1e-6)
    sds = np.array([0, 0.05, 0.04, 0.02], np.float32)
    # the row's SD: the label's times sdScale (default 1), float32
    np.testing.assert_array_equal(extend_sd(sds, rows)[4:], [np.float32(2) * sds[2], sds[2]])
    assert extend_own(np.array([0, 0, 1, 0], bool), rows)[4:].all()


def test_a_finer_grid_keeps_the_layers_millimetres() -> None:
    """At 1 mm (scale 2) fine layers 1-2 are model layer 1, 3-4 layer 2 (the last here)."""
    idx = np.full((9, 2, 2), 2, np.int32)
    idx[0] = 1
    values = np.array([0, 3, 2])
    spec = [{"labels": [2], "from": [3], "layers": [{"toward": [3], "weight": 0.5}] * 2}]
    rows = appearance_rows(idx, values, spec, scale=2)
    assert [int(rows.index[x, 0, 0]) for x in range(9)] == [1, 3, 3, 4, 4, 4, 4, 4, 4]


def test_surface_voxels_take_the_surface_row_of_their_layer() -> None:
    """The voxels next to (6, 1, 1) (label index 0, the surface label here) are layer 3 and
    take the label's surface row 3 (rows: 3 layers, then 3 surface layers)."""
    idx = slab()
    values = np.array([0, 3, 2, 24])
    rows3 = [{"toward": [3], "weight": 0.1 * k} for k in (1, 2, 3)]
    surf3 = [{"toward": [24], "weight": 0.5} for _ in range(3)]
    spec = [
        {"labels": [2], "from": [3], "layers": rows3, "surface": {"labels": [0], "layers": surf3}}
    ]
    rows = appearance_rows(idx, values, spec)
    assert len(rows.label) == 6 and list(rows.partner[3:]) == [3, 3, 3]
    near = [(5, 1, 1), (6, 0, 1), (6, 2, 1), (6, 1, 0), (6, 1, 2)]
    for p in near:
        assert rows.index[p] == 4 + 5, p
    assert rows.index[5, 0, 0] == 4 + 2 and rows.index[1, 1, 1] == 4
    bad = [{**spec[0], "surface": {"labels": [0], "layers": surf3[:2]}}]
    try:
        appearance_rows(idx, values, bad)
    except ValueError as exc:
        assert "as many layers" in str(exc)
    else:
        raise AssertionError("a surface with fewer layers must be refused")

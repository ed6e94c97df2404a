"""Depth layers (brainsynth/depth_layers.py): layer numbers on a hand-made grid (the same grid as
src/engine/render/depthLayers.test.ts), the appended rows, the 1 mm mapping, and the renderer
using them only when the manifest has them."""

from __future__ import annotations

import numpy as np

from brainsynth.depth_layers import (
    appearance_rows,
    extend_mix,
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


def test_a_mixing_row_adds_its_voxel_mix_to_the_render_and_nothing_else() -> None:
    from brainsynth.common.rng import normals_fast, stream_seed
    from brainsynth.teacher.render import render

    idx = slab()
    values = np.array([0, 3, 2, 24])

    def spec(mix: float) -> list[dict[str, object]]:
        return [
            {
                "labels": [2],
                "from": [3],
                "layers": [
                    {"toward": [3], "weight": 0.5, "mixSd": mix},
                    {"toward": [3], "weight": 0},
                ],
            }
        ]

    rows = appearance_rows(idx, values, spec(0.2))
    means = np.array([0, 0.6, 1.0, 0.3], np.float32)
    mix = extend_mix(means, rows)
    np.testing.assert_array_equal(
        mix, np.float32([0, 0, 0, 0, np.float32(0.2) * (np.float32(0.6) - np.float32(1.0)), 0])
    )
    # a grid twice as fine: a voxel an eighth the volume varies 2^1.5 times as much
    np.testing.assert_allclose(extend_mix(means, rows, 2)[4], mix[4] * 2**1.5, rtol=1e-6)
    # through the renderer (no PSF, no bias, no noise to speak of): the rendered difference is
    # the mix's SD times the normals of stream s + 6, on the mixing row's voxels only
    app = {
        "contrasts": {"T1w": {"mean": means.tolist(), "sd": [0.0, 0.01, 0.01, 0.01]}},
        "partialVolumeSigmaVoxels": 0.0,
        "textureSigmaVoxels": 1.0,
        "biasFieldStrength": 0.0,
        "snr": 1e9,
    }
    seed = 77
    is_wm = np.array([False, False, True, False])
    plain = render(
        idx, app | {"depthLayers": spec(0.0)}, "T1w", 45.0, seed, is_wm, label_values=values
    )
    mixed = render(
        idx, app | {"depthLayers": spec(0.2)}, "T1w", 45.0, seed, is_wm, label_values=values
    )
    v = normals_fast(stream_seed(seed, 6), idx.size).reshape(idx.shape[::-1]).T
    on = rows.index == 4
    np.testing.assert_allclose(mixed[on] - plain[on], mix[4] * v[on], atol=1e-5)
    # elsewhere the same (to the Rician noise, whose level follows the WM mean the mix moved)
    np.testing.assert_allclose(mixed[~on], plain[~on], atol=1e-6)

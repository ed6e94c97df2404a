"""Population diversity QA (brainsynth.qa.diversity): group maps, Dice, alignment, summary.

No real data needed: the model template stands in for a subject; the full measurement is
`python -m brainsynth.qa.diversity --data ../shared/data` (docs/MODEL.md)."""

from __future__ import annotations

import numpy as np
import pytest

from brainsynth.common.grid import OUTPUT_GRID
from brainsynth.model_io import load_model
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.qa import diversity as V


def test_both_conventions_map_to_the_same_groups() -> None:
    # cortex, WM, lateral ventricle, thalamus, hippocampus, cerebellar cortex, and neither
    muse = V.group_map(np.array([100, 81, 51, 59, 47, 38, 35]), "dlmuse")
    fs = V.group_map(np.array([3, 2, 4, 10, 17, 8, 16]), "freesurfer")
    assert muse.tolist() == fs.tolist() == [1, 2, 3, 4, 5, 6, 0]
    assert len(V.DLMUSE_GROUPS) == len(V.FREESURFER_GROUPS) == len(V.GROUP_NAMES)
    with pytest.raises(ValueError, match="label values"):
        V.group_map(np.array([-1]), "freesurfer")


def test_mean_dice_is_one_for_equal_maps_and_falls_with_overlap() -> None:
    a = np.zeros((10, 10, 10), np.int8)
    a[:5] = 1
    a[5:] = 2
    assert V.mean_dice(a, a) == 1.0
    b = np.roll(a, 2, axis=0)
    d = V.mean_dice(a, b)
    assert 0.0 < d < 1.0
    # groups absent from both maps count as agreeing (1), so the mean is over all six
    expected = (2 * 3 / 10 + 2 * 3 / 10 + 4) / 6
    assert d == pytest.approx(expected)


def test_pairwise_summary_median_and_nearest_neighbour() -> None:
    mean = np.array([[np.nan, 0.6, 0.7], [0.6, np.nan, 0.8], [0.7, 0.8, np.nan]])
    m = np.repeat(mean[:, :, None], len(V.GROUP_NAMES), axis=2)
    m[:, :, 0] -= 0.1  # cortex less alike than the rest
    m[:, :, 1] += 0.1
    s = V.summarise(m)
    assert s["pairs"] == 3
    assert s["median"] == pytest.approx(0.7)
    assert s["nearestNeighbourMedian"] == pytest.approx(0.8)
    assert s["perGroupMedian"]["cortex"] == pytest.approx(0.6)
    assert s["perGroupMedian"]["wm"] == pytest.approx(0.8)
    maps = [np.full((4, 4, 4), g, np.int8) for g in (1, 1, 2)]
    p = V.pairwise(maps)
    assert p.shape == (3, 3, 6) and np.isnan(p[0, 0]).all()
    assert p[0, 1, 0] == 1.0 and p[0, 2, 0] == 0.0 and p[0, 2, 5] == 1.0


def test_alignment_undoes_a_known_affine() -> None:
    """The template's labels, written with a scaled and shifted affine, come back onto the 2 mm
    grid: the aligned group map agrees with the template's own groups almost everywhere."""
    model, _ = load_model(DEFAULT_MODEL_DIR)
    labels = np.asarray(model.label_values)[model.template]
    ref = V.reference_mask(DEFAULT_MODEL_DIR)
    moved = OUTPUT_GRID.affine.copy()
    moved[:3, :3] *= 1.06
    moved[:3, 3] += (7.0, -5.0, 4.0)
    own = V.group_map(labels, "freesurfer")
    back = V.aligned_groups(labels, moved, "freesurfer", ref)
    assert V.mean_dice(own, back) > 0.9
    # without the alignment the same maps overlap far less
    assert V.mean_dice(own, np.roll(own, 4, axis=0)) < V.mean_dice(own, back)


def test_cli_rejects_a_tiny_subset(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        V.main(["--data", "/nonexistent", "--subset", "2"])
    assert "--subset must be at least 4" in capsys.readouterr().err

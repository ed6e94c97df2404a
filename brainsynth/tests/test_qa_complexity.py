"""The 1 mm cortical-complexity QA (brainsynth.qa.complexity) on hand-made label maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from brainsynth.common.tissue import classes_from_freesurfer
from brainsynth.qa import complexity as cx


def _ball(radius_wm: float, shell: float, size: int = 48) -> np.ndarray:
    """FreeSurfer labels: a WM ball (2) in a cortex shell (3) of `shell` voxels."""
    g = np.indices((size,) * 3) - (size - 1) / 2
    r = np.sqrt((g**2).sum(axis=0))
    out = np.zeros((size,) * 3, np.int32)
    out[r < radius_wm + shell] = 3
    out[r < radius_wm] = 2
    return out


def test_a_smooth_ball_reads_as_its_geometry() -> None:
    got = cx.complexity(classes_from_freesurfer(_ball(12, 3)), (1.0, 1.0, 1.0))
    # cortex / boundary area ~ the shell's thickness (the faces over-count a sphere's area by
    # about 1.5: voxel faces of a curved surface)
    assert 1.5 < got["cortexThicknessProxy"] < 3.5
    frac = (15**3 - 12**3) / 15**3
    assert got["cortexFraction"] == pytest.approx(frac, rel=0.08)
    assert 1.7 < got["cortexFractalDim"] < 2.3  # a smooth shell: close to 2
    # size-free figures do not change when the voxels do
    big = cx.complexity(classes_from_freesurfer(_ball(12, 3)), (2.0, 2.0, 2.0))
    assert big["boundaryAreaScaleFree"] == pytest.approx(got["boundaryAreaScaleFree"])
    assert big["thicknessScaleFree"] == pytest.approx(got["thicknessScaleFree"])
    assert big["boundaryAreaPerMl"] == pytest.approx(got["boundaryAreaPerMl"] / 2)


def test_a_folded_boundary_has_more_area_and_a_thinner_proxy() -> None:
    smooth = _ball(12, 3)
    folded = smooth.copy()
    folded[::3, :, :][folded[::3, :, :] == 2] = 3  # cortex sheets cut into the WM
    a = cx.complexity(classes_from_freesurfer(smooth), (1.0, 1.0, 1.0))
    b = cx.complexity(classes_from_freesurfer(folded), (1.0, 1.0, 1.0))
    assert b["boundaryAreaScaleFree"] > 2 * a["boundaryAreaScaleFree"]
    assert b["cortexFractalDim"] > a["cortexFractalDim"]


def test_the_2mm_view_is_the_same_map_on_every_other_voxel() -> None:
    ball = _ball(12, 3)
    got = cx.complexity(classes_from_freesurfer(ball), (1.0, 1.0, 1.0))
    coarse = cx.complexity(classes_from_freesurfer(ball[::2, ::2, ::2]), (2.0, 2.0, 2.0))
    assert got["boundaryAreaPerMl2mm"] == pytest.approx(coarse["boundaryAreaPerMl"])
    assert got["cortexThicknessProxy2mm"] == pytest.approx(coarse["cortexThicknessProxy"])
    # a smooth ball: about the same geometry at either spacing (faces per mL halve with the
    # voxel's edge only for the size-free figures, not for a fixed brain)
    assert got["boundaryAreaPerMl2mm"] == pytest.approx(got["boundaryAreaPerMl"], rel=0.25)


def test_not_a_brain_is_refused() -> None:
    with pytest.raises(ValueError, match="not a brain"):
        cx.complexity(classes_from_freesurfer(np.zeros((8, 8, 8), np.int32)), (1.0, 1.0, 1.0))


def test_compare_reports_z_against_the_real_spread() -> None:
    real = [{k: 1.0 + 0.1 * i for k in cx.STATISTICS} for i in range(3)]  # mean 1.1, sd 0.1
    syn = [{k: 1.3 for k in cx.STATISTICS} for _ in range(2)]
    out = cx.compare(real, syn)
    assert out["cortexFraction"]["z"] == pytest.approx(2.0)
    assert out["cortexFraction"]["realSd"] == pytest.approx(0.1)
    plan = cx.synthetic_plan(5, 1)
    assert [p[0] for p in plan] == [25.0, 38.0, 50.0, 62.0, 75.0]
    assert [p[1] for p in plan] == ["female", "male", "female", "male", "female"]
    assert plan == cx.synthetic_plan(5, 1)  # seeded


def test_the_cli_says_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cx.main(["--data", str(tmp_path), "--samples", "2", "--out", str(tmp_path / "o")])
    assert "synthseg-label-maps" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cx.main(["--data", str(tmp_path), "--samples", "1"])
    assert "at least 2" in capsys.readouterr().err

import numpy as np

from brainsynth.qa.memorisation import GROUPS, group_map, mean_dice


def test_dice_of_identical_maps_is_one_and_of_disjoint_is_low() -> None:
    a = np.zeros((10, 10, 10), np.int32)
    a[2:5] = 3
    a[5:8] = 2
    ga = group_map(a)
    assert mean_dice(ga, ga) == 1.0
    b = np.zeros_like(a)
    b[2:5] = 2
    b[5:8] = 3
    # cortex and WM swapped: those two groups score 0, absent groups count as 1
    assert abs(mean_dice(ga, group_map(b)) - (len(GROUPS) - 2) / len(GROUPS)) < 1e-9

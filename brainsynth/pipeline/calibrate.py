"""Calibrate the regional gains so that, for z = 0, the sampler's regional volumes follow the
normative table's relative change with age and sex (Newton's method on log volumes)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from brainsynth.anatomy import AnatomyModel, region_volumes_ml, sample_label_indices


def icv_scale(model: AnatomyModel, icv_ml: float) -> float:
    return float((icv_ml / model.template_icv_ml) ** (1.0 / 3.0))


def measure(model: AnatomyModel, gains: NDArray[np.float64], scale: float) -> dict[str, float]:
    z = np.zeros(model.components.shape[0])
    return region_volumes_ml(model, sample_label_indices(model, z, gains, scale))


def log_volumes(
    model: AnatomyModel, gains: NDArray[np.float64], scale: float
) -> NDArray[np.float64]:
    v = measure(model, gains, scale)
    return np.log([max(v[r], 1e-3) for r in model.region_names])


def jacobian(model: AnatomyModel, scale: float, step: float = 0.1) -> NDArray[np.float64]:
    r = len(model.region_names)
    g0 = np.zeros(r)
    base = log_volumes(model, g0, scale)
    jac = np.zeros((r, r))
    for j in range(r):
        g = g0.copy()
        g[j] = step
        jac[:, j] = (log_volumes(model, g, scale) - base) / step
    return jac


def solve_gains(
    model: AnatomyModel,
    target_ml: dict[str, float],
    scale: float,
    jac: NDArray[np.float64],
    g0: NDArray[np.float64] | None = None,
    iterations: int = 4,
    log: Callable[[str], None] | None = None,
) -> NDArray[np.float64]:
    t = np.log([target_ml[r] for r in model.region_names])
    g = np.zeros(len(t)) if g0 is None else g0.copy()
    jinv = np.linalg.pinv(jac)
    for _ in range(iterations):
        err = t - log_volumes(model, g, scale)
        if log:
            log(f"    max |log error| {np.abs(err).max():.4f}")
        if np.abs(err).max() < 0.005:
            break
        g = g + jinv @ err
    return g

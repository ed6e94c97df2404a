"""Calibrate the regional gains so that, for z = 0, the sampler's regional volumes follow the
normative table's relative change with age and sex.

The basis fields live on a 6 mm grid, so the inferior horns (thin, ~1 mL) cannot be steered
on their own: their gain is tied to the lateral ventricles' (`TIES`) and their volume follows.
The amygdala and the 3rd/4th ventricles have gains of their own (model 1.0.0 tied them to the
hippocampus and lateral ventricles; at the young-female corner the neighbours' large gains then
crushed the amygdala to 0.08 mL and swelled the 3rd/4th ventricles to 13 mL; the inferior horns
untied diverge). The free gains are found by a damped quasi-Newton iteration (finite-difference
Jacobian, Broyden updates) on the real sampler's log volumes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from brainsynth.anatomy import AnatomyModel, region_volumes, sample_label_indices

# region -> region whose gain it shares
TIES = {"inf-lat-ventricles": "lateral-ventricles"}


def icv_scale(model: AnatomyModel, icv_ml: float) -> float:
    return float((icv_ml / model.template_icv_ml) ** (1.0 / 3.0))


def free_regions(model: AnatomyModel) -> list[str]:
    return [r for r in model.region_names if r not in TIES]


def tie_matrix(model: AnatomyModel) -> NDArray[np.float64]:
    """[R, F]: full gains = T @ free gains."""
    free = free_regions(model)
    t = np.zeros((len(model.region_names), len(free)))
    for i, r in enumerate(model.region_names):
        t[i, free.index(TIES.get(r, r))] = 1.0
    return t


def measure(model: AnatomyModel, gains: NDArray[np.float64], scale: float) -> dict[str, float]:
    z = np.zeros(model.components.shape[0])
    return region_volumes(model, sample_label_indices(model, z, gains, scale))


def _log_free(
    model: AnatomyModel, free_g: NDArray[np.float64], scale: float
) -> NDArray[np.float64]:
    v = measure(model, tie_matrix(model) @ free_g, scale)
    return np.log([max(v[r], 1e-3) for r in free_regions(model)])


def jacobian(
    model: AnatomyModel, scale: float, at: NDArray[np.float64], step: float = 0.3
) -> NDArray[np.float64]:
    """d log V / d g for the free regions (central differences, step large enough to move
    label boundaries on the 2 mm grid)."""
    f = len(at)
    jac = np.zeros((f, f))
    for j in range(f):
        d = np.zeros(f)
        d[j] = step
        jac[:, j] = (_log_free(model, at + d, scale) - _log_free(model, at - d, scale)) / (2 * step)
    return jac


def solve_gains(
    model: AnatomyModel,
    target_ml: dict[str, float],
    scale: float,
    g0: NDArray[np.float64] | None = None,
    iterations: int = 8,
    max_step: float = 1.0,
    tol: float = 0.01,
    log: Callable[[str], None] | None = None,
) -> tuple[NDArray[np.float64], float]:
    """Full gains [R] whose sampled volumes match `target_ml` for the free regions, and the
    largest |log volume error| left over the free regions."""
    free = free_regions(model)
    t = np.log([target_ml[r] for r in free])
    tm = tie_matrix(model)
    g: NDArray[np.float64] = (
        np.zeros(len(free)) if g0 is None else np.asarray(np.linalg.lstsq(tm, g0, rcond=None)[0])
    )
    jac = jacobian(model, scale, g)
    cur = _log_free(model, g, scale)
    best = (float(np.abs(t - cur).max()), g)
    for _ in range(iterations):
        err = t - cur
        if log:
            log(f"    max |log error| {np.abs(err).max():.4f}")
        if np.abs(err).max() < tol:
            break
        step = np.linalg.lstsq(jac, err, rcond=None)[0]
        if np.abs(step).max() > max_step:
            step *= max_step / np.abs(step).max()
        new = _log_free(model, g + step, scale)
        dy = new - cur
        # Broyden rank-1 update keeps the Jacobian current without new finite differences
        jac += np.outer(dy - jac @ step, step) / max(float(step @ step), 1e-12)
        g, cur = g + step, new
        best = min(best, (float(np.abs(t - cur).max()), g), key=lambda b: b[0])
    return tm @ best[1], best[0]

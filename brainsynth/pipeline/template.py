"""Groupwise template: affine-aligned subjects registered to their evolving mean."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from numpy.typing import NDArray

from brainsynth.common.grid import FloatArray, Grid
from brainsynth.common.warp import exp_velocity, trilinear, warp_volume
from brainsynth.pipeline.register import register_svf
from brainsynth.pipeline.subjects import SUBSAMPLE_OFFSETS, Subject, sample_nearest, subject_points

REG_GRID = Grid((48, 60, 52), (4.0, 4.0, 4.0), (-95.0, -131.0, -105.0))


def _register_one(args: tuple[FloatArray, FloatArray, int]) -> FloatArray:
    fixed, moving, iterations = args
    return register_svf(fixed, moving, REG_GRID, iterations=iterations)


def build_groupwise(
    channels: list[FloatArray],
    rounds: int = 2,
    iterations: int = 60,
    workers: int = 2,
    log: Callable[[str], None] = print,
) -> tuple[FloatArray, list[FloatArray]]:
    """Returns the 4 mm channel template and each subject's velocity (subject -> template).

    Velocities are re-centred each round (their mean removed) so the template sits at the
    population's centre of shape, not at any one subject.
    """
    template = np.mean(channels, axis=0).astype(np.float32)
    for r in range(rounds):
        with ProcessPoolExecutor(max_workers=workers) as ex:
            velocities = list(ex.map(_register_one, [(template, c, iterations) for c in channels]))
        mean_v = np.mean(velocities, axis=0)
        velocities = [(v - mean_v).astype(np.float32) for v in velocities]
        warped = [
            warp_volume(c, REG_GRID, exp_velocity(v, REG_GRID))
            for c, v in zip(channels, velocities, strict=True)
        ]
        err = float(np.mean([np.mean((w - template) ** 2) for w in warped]))
        template = np.mean(warped, axis=0).astype(np.float32)
        log(f"  groupwise round {r + 1}/{rounds}: mean SSD to previous template {err:.4f}")
    return template, velocities


def label_template(
    subjects: list[Subject],
    velocities: list[FloatArray],
    grid: Grid,
    label_values: list[int],
) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
    """2 mm template: per-voxel label frequencies over subjects and 2x2x2 sub-samples, pulled
    through each subject's registration; returns (argmax label index, max probability)."""
    lut = np.zeros(1024, dtype=np.int32)
    for i, value in enumerate(label_values):
        lut[value] = i
    total = len(subjects) * len(SUBSAMPLE_OFFSETS)
    # uint8 counts when they fit: the 1 mm template has 55 labels x 9.6 M voxels
    counts = np.zeros(
        (len(label_values),) + grid.shape, dtype=np.uint8 if total < 256 else np.uint16
    )
    flat = counts.reshape(len(label_values), -1)
    voxels = np.arange(flat.shape[1])
    x = grid.world_coords()
    for s, v in zip(subjects, velocities, strict=True):
        u = trilinear(exp_velocity(v, REG_GRID), REG_GRID, x)
        for off in SUBSAMPLE_OFFSETS:
            pts = x + u + (off * np.float32(grid.spacing[0] / 2)).reshape(3, 1, 1, 1)
            lab = sample_nearest(s.labels, s.affine, subject_points(s, pts))
            idx = lut[np.clip(lab, 0, 1023)].ravel()
            # each (label, voxel) pair occurs once per call, so fancy-index += is exact
            flat[idx, voxels] += 1
    best = counts.argmax(0).astype(np.uint8)
    prob = (counts.max(0) / float(total)).astype(np.float32)
    return best, prob

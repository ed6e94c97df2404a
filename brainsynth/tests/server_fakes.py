"""Fake generators for the server tests and benchmarks (loaded by spec in worker processes).

They write real (tiny, 8x8x8) NIfTI files through the teacher's `write_outputs`, so downloads
and sidecars look like the real thing. Behaviour is tuned with environment variables, read in
the worker process: BRAINSYNTH_FAKE_DELAY_S (seconds per progress step, 5 steps per volume).
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from brainsynth.server.generation import Generator, ProgressFn
from brainsynth.teacher.generate import GeneratedVolume, GenerationError, write_outputs

SHAPE = (8, 8, 8)


def _volume(
    conditions: dict[str, Any], seed: int, contrasts: Sequence[str], res: float
) -> GeneratedVolume:
    rng = np.random.default_rng(seed)
    labels = np.zeros(SHAPE, np.int16)
    labels[2:6, 2:6, 2:6] = 2
    labels[3:5, 3:5, 3:5] = 4
    affine = np.diag([res, res, res, 1.0])
    affine[:3, 3] = -np.array(SHAPE) * res / 2
    images = {c: rng.random(SHAPE, dtype=np.float32) for c in contrasts}
    sidecar = {"conditions": conditions, "seed": seed, "modelId": "fake", "generator": "fake"}
    return GeneratedVolume(images, labels, affine, sidecar)


def _generate(
    model_dir: Path,
    conditions: dict[str, Any],
    seed: int,
    resolution_mm: float,
    contrasts: Sequence[str],
    progress: ProgressFn | None,
) -> GeneratedVolume:
    delay = float(os.environ.get("BRAINSYNTH_FAKE_DELAY_S", "0"))
    for step in range(5):
        if progress:
            progress(step / 5, f"step {step + 1}/5")
        if delay:
            time.sleep(delay)
    if conditions.get("age") == 66.6:  # a request the generator itself rejects
        raise GenerationError("the fake generator refuses age 66.6")
    if conditions.get("age") == 77.7:  # a bug in the generator
        raise ZeroDivisionError("division by zero")
    if conditions.get("age") == 88.8:  # the worker process dies (segfault, OOM kill)
        os._exit(7)
    return _volume(conditions, seed, contrasts, resolution_mm)


def _write(volume: GeneratedVolume, folder: Path, stem: str) -> list[Path]:
    """The teacher's writer; age 55.5: the disk fills up after the first file."""
    if volume.sidecar["conditions"].get("age") == 55.5:
        first = folder / f"{stem}_partial.nii.gz"
        folder.mkdir(parents=True, exist_ok=True)
        first.write_bytes(b"x" * 1000)
        (folder / f".tmp-{stem}.nii.gz").write_bytes(b"x" * 1000)  # a writer's temporary
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return write_outputs(volume, folder, stem)


def fake() -> Generator:
    return Generator(generate=_generate, write_outputs=_write)


def broken() -> Generator:
    raise ImportError("the generator's dependencies are missing")

"""Disk space: free-space and quota checks, and the size a job will need.

`free_bytes` is the one call to the operating system (`shutil.disk_usage`), so tests can
simulate a full disk by replacing it. Sizes are upper bounds: an uncompressed float32 image of
the 1 mm grid is about 35 MB (gzip usually makes it a third of that), 1/8 of it at 2 mm.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

MB = 1_000_000
IMAGE_BYTES_1MM = 35 * MB  # one float32 image on the 1 mm grid, uncompressed (upper bound)


def free_bytes(path: Path) -> int:
    """Free bytes on the filesystem holding `path` (its nearest existing parent)."""
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return int(shutil.disk_usage(probe).free)


def tree_bytes(path: Path) -> int:
    """Bytes of the regular files under `path` (0 when missing)."""
    total = 0
    stack = [str(path)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                elif e.is_file(follow_symlinks=False):
                    total += e.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total


def volume_bytes(resolution_mm: float, contrasts: int) -> int:
    """Upper bound of one volume's files: `contrasts` float32 images + an int16 label map."""
    image = IMAGE_BYTES_1MM / float(resolution_mm) ** 3
    return int(image * contrasts + image / 2) + 64_000  # + the JSON sidecar


def job_bytes(resolution_mm: float, contrasts: Iterable[str], count: int) -> int:
    return volume_bytes(resolution_mm, len(list(contrasts))) * int(count)


def describe(n: float) -> str:
    return f"{n / MB:,.0f} MB" if abs(n) >= MB else f"{n / 1000:,.1f} kB"

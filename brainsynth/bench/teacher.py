"""Teacher benchmark:  python -m brainsynth.bench.teacher [--repeats 3]

Times full-size generation (anatomy + pathology + rendering + label map, no file writing) on
this machine's device and prints each median beside its budget (the performance targets: 1 mm T1w
with labels in <= 20 s on 2 CPU cores; >= 4 volumes/s at 1 mm on one H100).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Any

from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.teacher.generate import generate

MODEL = DEFAULT_MODEL_DIR

CASES: list[tuple[str, float, tuple[str, ...], dict[str, Any], float | None]] = [
    ("2 mm, T1w, healthy", 2.0, ("T1w",), {"pathology": "none"}, None),
    ("1 mm, T1w, healthy", 1.0, ("T1w",), {"pathology": "none"}, 20.0),
    ("1 mm, T1w+T2w+FLAIR", 1.0, ("T1w", "T2w", "FLAIR"), {"pathology": "none"}, None),
    ("1 mm, T1w, MS 10 mL", 1.0, ("T1w",), {"pathology": "ms", "msLesionLoadMl": 10}, None),
    ("1 mm, T1w, glioma r=20", 1.0, ("T1w",), {"pathology": "glioma", "gliomaRadiusMm": 20}, None),
]


def device() -> str:
    try:
        import torch

        if torch.cuda.is_available():
            return str(torch.cuda.get_device_name(0))
    except ImportError:
        pass
    return f"CPU ({os.cpu_count()} cores)"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--model", type=Path, default=MODEL)
    ap.add_argument("--device", default=None, help="numpy | cpu | cuda (default: auto)")
    args = ap.parse_args(argv)
    base = {"age": 65, "sex": "female", "contrast": "T1w"}
    warm = generate(args.model, {**base, "pathology": "none"}, 0, 2.0, device=args.device)
    side = warm.sidecar
    print(f"device: {device()}; teacher path: {side['implementation']} on {side['device']}")
    print(f"{'case':<28}{'median s/volume':>17}{'volumes/s':>11}  {'budget'}")
    for name, res, contrasts, cond, budget in CASES:
        times = []
        for r in range(args.repeats):
            t0 = time.perf_counter()
            generate(args.model, {**base, **cond}, 100 + r, res, contrasts, device=args.device)
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        limit = f"<= {budget:.0f} s (CPU, 2 cores)" if budget else "-"
        print(f"{name:<28}{med:>17.2f}{1 / med:>11.2f}  {limit}")
    print("GPU budget: >= 4 volumes/s at 1 mm with labels on one H100 (not measurable here)")


if __name__ == "__main__":
    main()

"""python -m brainsynth.qa.realism --data ../shared/data [--out reports/realism] [--subset N]
[--teacher-1mm] [--no-t2-flair] [--seed S] [--update-manifest]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from brainsynth.qa.realism.data import MODEL_DIR, DataError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m brainsynth.qa.realism",
        description="Realism benchmark: real IXI T1s vs synthetic twins.",
    )
    ap.add_argument(
        "--data", type=Path, required=True, help="the shared data folder (../shared/data)"
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=Path("reports/realism"),
        help="report folder (default reports/realism)",
    )
    ap.add_argument(
        "--subset", type=int, default=None, help="use N real scans spread over the age range"
    )
    ap.add_argument(
        "--teacher-1mm",
        action="store_true",
        help="also the 1 mm teacher, block-averaged to 2 mm (slow)",
    )
    ap.add_argument("--no-t2-flair", action="store_true", help="skip the T2w/FLAIR contrast ratios")
    ap.add_argument(
        "--seed", type=int, default=20261202, help="base seed of the synthetic twins' seeds"
    )
    ap.add_argument("--model", type=Path, default=MODEL_DIR, help="model folder")
    ap.add_argument(
        "--device", default="numpy", help="teacher device: numpy (reference), cpu, cuda, auto"
    )
    ap.add_argument(
        "--update-manifest",
        action="store_true",
        help="write the headline figures into the model's manifest.json metrics.realism",
    )
    a = ap.parse_args(argv)
    if a.subset is not None and a.subset < 4:
        ap.error(f"--subset must be at least 4: the chance control needs 2 pairs (got {a.subset})")
    if not a.data.is_dir():
        ap.error(f"--data {a.data} is not a folder")
    from brainsynth.qa.realism import report
    from brainsynth.qa.realism.benchmark import run
    from brainsynth.qa.realism.report import z_text

    try:
        res = run(
            a.data, a.subset, a.teacher_1mm, a.seed, a.model, a.device, t2_flair=not a.no_t2_flair
        )
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    paths = report.write(res, a.out)
    if a.update_manifest:
        report.update_manifest(a.model, res.summary)
    s = res.summary
    for name, row in s["statistics"].items():
        z = "  ".join(f"{k}: {row[k]['mean']:.4g} (z {z_text(row[k]['z'])})" for k in s["sets"])
        print(f"{name:22s} real {row['realMean']:.4g} ± {row['realSd']:.3g}   {z}")
    for k in s["sets"]:
        print(f"classifiers real vs {k}: {s['classifiers'][k]}")
    print(f"chance control: {s['classifiers']['chanceControl']}")
    print(f"wall time {s['wallSeconds']['total']:.1f} s; report {paths['html']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

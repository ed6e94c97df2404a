"""Retrain the distilled student end to end, after a model (re)build or recalibration:

    python -m brainsynth.distill [--config brainsynth/distill/config.json]

= data (cached, resumable) → train → export (student/ + manifest.student) → evaluate (metrics →
manifest + reports/distill/eval_report.json) → parity fixture (fixtures/student/parity.json).
Needs torch; on a CUDA machine training uses the GPU.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from brainsynth.distill import evaluate, export_student, train
from brainsynth.distill.data import weights_path
from brainsynth.fixtures import student_parity
from brainsynth.paths import DISTILL_CONFIG, DISTILL_TRAIN_LOG


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", type=Path, default=DISTILL_CONFIG)
    args = ap.parse_args()
    cfg = json.loads(args.config.read_text())
    log = DISTILL_TRAIN_LOG
    train.train(cfg, log, weights_path(cfg))
    export_student.export(cfg, train.load_weights(weights_path(cfg)), json.loads(log.read_text()))
    evaluate.evaluate_and_record(cfg)
    student_parity.main()


if __name__ == "__main__":
    main()

"""Retrain the distilled student end to end, after a model (re)build or recalibration:

    python -m brainsynth.distill [--config brainsynth/distill/config.json]

= data (cached, resumable) → train → export (student/ + manifest.student) → evaluate (metrics →
manifest + eval_report.json) → parity fixture (fixtures/student/parity.json). Needs torch; on a
CUDA machine training uses the GPU.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from brainsynth.distill import evaluate, export, parity, train
from brainsynth.distill.data import weights_path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", type=Path, default=HERE / "config.json")
    args = ap.parse_args()
    cfg = json.loads(args.config.read_text())
    log = HERE / "train_log.json"
    train.train(cfg, log, weights_path(cfg))
    export.export(cfg, train.load_weights(weights_path(cfg)), json.loads(log.read_text()))
    evaluate.evaluate_and_record(cfg)
    parity.main()


if __name__ == "__main__":
    main()

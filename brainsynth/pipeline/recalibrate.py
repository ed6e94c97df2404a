"""Re-run the normative table and the age/sex calibration on a built model, in place.

    python -m brainsynth.pipeline.recalibrate --data ../shared/data \\
        [--model <model folder; default: the catalogue's>] [--version 1.1.0]

The template, shape model and regional basis are kept (they come from the slow groupwise
registration of `pipeline.build`); the normative table, the gains by age and sex, the
Alzheimer's gains and the conditioning metrics are recomputed exactly as `build` computes them.
The gains change what the deformation is for given conditions, so a distilled student trained
on the old gains no longer matches: its `student` section is removed (the engine then uses the
exact sampler) until it is retrained (docs/MODEL.md, "Retraining"). Step 7c's factors
(`sizing`) are the normative change over the model's own, which the gains set: re-run
`python -m brainsynth.pipeline.sizing` after this.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from brainsynth.anatomy import region_volumes, sample_label_indices
from brainsynth.model_io import load_model
from brainsynth.pipeline import normative
from brainsynth.pipeline.build import MODEL_ID, calibrate_all, conditioning_metrics


def recalibrate(model_dir: Path, data: Path, version: str | None, log: Any = print) -> None:
    model, man = load_model(model_dir)
    k = model.components.shape[0]
    tv = region_volumes(
        model, sample_label_indices(model, np.zeros(k), np.zeros(len(model.region_names)))
    )
    if abs(tv["icv"] - model.template_icv_ml) > 1e-6 * model.template_icv_ml:
        raise SystemExit(
            f"template ICV {tv['icv']:.3f} mL differs from the manifest's "
            f"{model.template_icv_ml:.3f}: the model folder is inconsistent; rebuild it"
        )
    norm = normative.build_normative_table(data)
    calib = calibrate_all(model, norm, tv, log)
    metrics = conditioning_metrics(model, calib, norm, log)
    cal = man["calibration"]
    cal.update(
        gains=calib["gains"],
        icvMl=calib["icvMl"],
        referenceAge=calib["referenceAge"],
        tiedRegions=calib["tiedRegions"],
        solveMaxLogError=calib["solveMaxLogError"],
    )
    man["pathology"]["alzheimers"]["gainsAtSeverity1"] = calib["adGainsAtSeverity1"]
    man["metrics"].update(metrics)
    if version:
        man["version"] = version
    if man.pop("student", None) is not None:
        log("removed the `student` section: retrain it (docs/MODEL.md, Retraining)")
    if man.get("sizing") or man.get("horns"):
        log("step 7c's factors follow the old gains: re-run python -m brainsynth.pipeline.sizing")
    normative.write_table(norm, model_dir / "normative_table.csv")
    tmp = model_dir / f".manifest.{os.getpid()}.json"
    tmp.write_text(json.dumps(man, indent=1) + "\n")
    os.replace(tmp, model_dir / "manifest.json")
    log(f"recalibrated {model_dir} (version {man['version']})")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, required=True, help="the shared data folder")
    ap.add_argument("--model", type=Path, default=Path("public/models") / MODEL_ID)
    ap.add_argument("--version", help="new model version (e.g. 1.1.0)")
    args = ap.parse_args(argv)
    if not (args.model / "manifest.json").is_file():
        ap.error(f"--model {args.model}: no manifest.json there (build the model first)")
    if not (args.data / normative.CENTILES).is_dir():
        ap.error(f"--data {args.data}: no {normative.CENTILES} (the shared data folder?)")
    recalibrate(args.model, args.data, args.version)


if __name__ == "__main__":
    main()

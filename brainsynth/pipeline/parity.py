"""Reference outputs for the engine's parity test:  python -m brainsynth.pipeline.parity

For a few (conditions, seed) pairs the numpy reference sampler (MODEL_FORMAT.md §3) computes
label indices on the committed model; the file keeps every 97th voxel (x-fastest) and the
regional volumes. src/engine/parity.test.ts samples the same pairs with tfjs and compares.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from brainsynth.model_io import load_model, sample_anatomy

CASES = [
    ({"age": 45, "sex": "female", "pathology": "none", "contrast": "T1w"}, 1),
    ({"age": 80, "sex": "male", "pathology": "none", "contrast": "T1w"}, 77),
    (
        {
            "age": 70,
            "sex": "female",
            "pathology": "alzheimers",
            "adSeverity": 1.0,
            "contrast": "T1w",
        },
        3,
    ),
]
STRIDE = 97


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, default=Path("public/models/brainsynth-shape-v1"))
    ap.add_argument("--out", type=Path, default=Path("fixtures/parity/expected.json"))
    args = ap.parse_args(argv)
    model, man = load_model(args.model)
    cases = []
    for cond, seed in CASES:
        idx, vols = sample_anatomy(model, man, cond, seed)
        flat = np.ascontiguousarray(idx.T).ravel()
        cases.append(
            {
                "conditions": cond,
                "seed": seed,
                "stride": STRIDE,
                "labelIndexSample": flat[::STRIDE].tolist(),
                "regionalVolumesMl": {k: round(v, 3) for k, v in vols.items()},
            }
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"modelId": man["id"], "modelVersion": man["version"], "cases": cases})
    )
    print(f"wrote {args.out} ({len(cases)} cases)")


if __name__ == "__main__":
    main()

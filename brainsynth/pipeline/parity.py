"""Reference outputs for the engine's parity test:  python -m brainsynth.pipeline.parity

For a few (conditions, seed) pairs the numpy reference sampler (MODEL_FORMAT.md §3) computes
label indices on the committed model; the file keeps every 97th voxel (x-fastest) and the
regional volumes. For the pathology cases the 2 mm teacher (`brainsynth.teacher.generate`, §4)
draws the lesions; the file keeps every pathology voxel (flat x-fastest index and label value).
src/engine/parity.test.ts samples the same pairs with tfjs and compares.
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
PATHOLOGY_CASES = [
    ({"age": 72, "sex": "female", "pathology": "ms", "msLesionLoadMl": 12, "contrast": "T1w"}, 5),
    (
        {"age": 35, "sex": "male", "pathology": "ms", "msLesionLoadMl": 3, "contrast": "T1w"},
        1234567,
    ),
    (
        {
            "age": 60,
            "sex": "male",
            "pathology": "stroke",
            "strokeTerritory": "MCA",
            "strokeSide": "left",
            "strokeSize": 0.3,
            "contrast": "T1w",
        },
        9,
    ),
    (
        {
            "age": 50,
            "sex": "female",
            "pathology": "glioma",
            "gliomaRadiusMm": 12,
            "gliomaCenterXMm": 30,
            "gliomaCenterYMm": -10,
            "gliomaCenterZMm": 20,
            "contrast": "T1w",
        },
        11,
    ),
]


def pathology_cases(model_dir: Path) -> list[dict[str, object]]:
    from brainsynth.teacher.generate import generate

    out: list[dict[str, object]] = []
    for cond, seed in PATHOLOGY_CASES:
        vol = generate(model_dir, cond, seed, 2.0)
        flat = np.ascontiguousarray(vol.labels.T).ravel()
        out.append(
            {
                "conditions": cond,
                "seed": seed,
                "pathologyRuns": pathology_runs(flat),
                "pathology": vol.sidecar["pathology"],
            }
        )
    return out


def pathology_runs(flat: np.ndarray) -> list[list[int]]:
    """Runs [start, length, value] of equal pathology labels (700-799) in x-fastest order."""
    patho = np.where((flat >= 700) & (flat <= 799), flat, 0)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], patho, [0]])) != 0)
    runs = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if patho[a]:
            runs.append([int(a), int(b - a), int(patho[a])])
    return runs


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
        json.dumps(
            {
                "modelId": man["id"],
                "modelVersion": man["version"],
                "cases": cases,
                "pathologyCases": pathology_cases(args.model),
            }
        )
    )
    print(f"wrote {args.out} ({len(cases)} cases)")


if __name__ == "__main__":
    main()

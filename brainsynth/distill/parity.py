"""Write fixtures/student/parity.json: the committed student run by PyTorch on a few inputs.

`python -m brainsynth.distill.parity` (needs torch). The engine's test
(src/engine/student/student.test.ts) runs the same weights through its tfjs forward pass and
must agree to a relative error ≤ 1e-4. Values are in the engine's layout: correction planes
[3, nz, ny, nx] flattened, every `stride`-th value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from brainsynth.distill.data import REPO, features
from brainsynth.distill.export import read_student, to_planes
from brainsynth.distill.student import torch_from_weights
from brainsynth.model_io import gains_for, latents, load_model

MODEL = REPO / "public" / "models" / "brainsynth-shape-v1"
OUT = REPO / "fixtures" / "student" / "parity.json"
CASES: list[tuple[int, dict[str, Any]]] = [
    (1, {"age": 45, "sex": "female", "pathology": "none"}),
    (2, {"age": 20, "sex": "female", "pathology": "alzheimers", "adSeverity": 1.0}),
    (3, {"age": 88, "sex": "male", "pathology": "stroke", "strokeSize": 0.9}),
    (4, {"age": 63.5, "sex": "male", "pathology": "ms"}),
]
STRIDE = 101


def main(model_dir: Path = MODEL, out: Path = OUT) -> None:
    import torch

    _, man = load_model(model_dir)
    w, mj = read_student(model_dir)
    net = torch_from_weights(w).double()
    use_gains = any(n.startswith("gain") for n in mj["modelTopology"]["input"]["names"])
    cases = []
    for seed, cond in CASES:
        z, _ = latents(man, seed)
        g = gains_for(man, cond)
        f = features(z, cond, g if use_gains else None)
        with torch.no_grad():
            x = torch.from_numpy(f.astype(np.float64))[None]
            a = net.coefficients(x)[0].numpy()
            corr = net(x)[0].numpy().reshape(w["decoder/mean"].shape)
        planes = to_planes(corr).reshape(-1)
        cases.append(
            {
                "seed": seed,
                "conditions": cond,
                "features": [float(v) for v in f],
                "coefficients": [float(v) for v in a],
                "stride": STRIDE,
                "correctionSample": [round(float(v), 7) for v in planes[::STRIDE]],
                "correctionSum": float(planes.sum()),
                "correctionMaxAbs": float(np.abs(planes).max()),
            }
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "modelId": man["id"],
        "generatedBy": "python -m brainsynth.distill.parity "
        "(PyTorch, float64, dequantised weights)",
        "cases": cases,
    }
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {out} ({len(cases)} cases)")


if __name__ == "__main__":
    main()

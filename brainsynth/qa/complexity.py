"""Cortical complexity at 1 mm: the 1 mm teacher's label maps vs the 20 real 1 mm label maps
(issue 10: "At 1 mm, report the same against the 20 real 1 mm label maps").

    python -m brainsynth.qa.complexity --data ../shared/data [--samples N] [--write]

Real set: the 20 SynthSeg whole-head label maps (`synthseg-label-maps/training_seg_*.nii.gz`,
1 mm, FreeSurfer labels; the subjects the model's template and shape model were built from).
Synthetic set: N healthy samples of the 1 mm teacher (the backend's volumes: the 1 mm template,
its folding drawn at 1 mm, step 7c's sizing), ages spread evenly over 25-75 (the real maps carry
no ages; they range from young to atrophic), sexes alternating, seeds from `--seed`.

Both sets map to the same tissue classes (`common.tissue.classes_from_freesurfer`) and are
measured by the realism benchmark's own functions (`qa.realism.stats`) at their 1 mm spacing:
GM/WM boundary area per brain volume (label faces, mm²/mL), the cortical ribbon's box-counting
fractal dimension (boxes of 1, 2, 4, 8 voxels = 1-8 mm here, 2-16 mm in the 2 mm benchmark, so
the two dimensions are not comparable with each other), cortex / brain volume and cortex volume
/ boundary area (a thickness proxy, mm). Reported as real mean ± sd, synthetic mean and z (the
target: |z| <= 1), per statistic.

Scale: the real maps are in their native space, the samples in the model's space (the same 20
subjects affinely averaged; `brainMl` shows both sizes, measured within 5 % of each other). An
area per volume scales as 1/length and the thickness proxy as length, so both are also given
size-free (area / V^(2/3), thickness / V^(1/3), V the brain volume in mm³).
The fractal dimension and the cortex fraction do not depend on size that way.

Convention check: the boundary area and the thickness proxy are also given for both sets
nearest-sampled to 2 mm (every other voxel), the label-face statistics of the 2 mm realism
benchmark. The 2 mm benchmark's real maps are DLMUSE's segmentations of the 2 mm scans, which
draw a smoother boundary than SynthSeg's 1 mm maps sampled to 2 mm: the difference between
those two real sets is the segmentation's convention, not anatomy.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from numpy.typing import NDArray

from brainsynth.common.tissue import CORTEX, WM, classes_from_freesurfer
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.qa.realism.stats import box_counting_dimension, label_geometry

REAL_GLOB = "synthseg-label-maps/training_seg_*.nii.gz"
STATISTICS: dict[str, str] = {
    "boundaryAreaPerMl": "GM/WM boundary area per brain volume (label faces) [mm²/mL]",
    "cortexFractalDim": "fractal dimension of the cortical ribbon (boxes 1-8 mm)",
    "cortexFraction": "cortex volume / brain volume",
    "cortexThicknessProxy": "cortex volume / GM-WM boundary area [mm]",
    "boundaryAreaScaleFree": "GM/WM boundary area / brain volume^(2/3) (size-free)",
    "thicknessScaleFree": "cortex volume / boundary area / brain volume^(1/3) (size-free)",
    "brainMl": "brain volume [mL] (the scale difference)",
    "boundaryAreaPerMl2mm": "the maps nearest-sampled to 2 mm: GM/WM boundary area per volume",
    "cortexThicknessProxy2mm": "the maps nearest-sampled to 2 mm: cortex volume / boundary area",
}
AGES = (25.0, 75.0)
DEFAULT_SEED = 20261206
REPORT_DIR = Path("reports/complexity")

Log = Callable[[str], None]


def complexity(classes: NDArray[np.int8], spacing: tuple[float, float, float]) -> dict[str, float]:
    """The STATISTICS of one label map's tissue classes."""
    cortex = classes == CORTEX
    if not cortex.any() or not (classes == WM).any():
        raise ValueError("no cortex or no white matter: not a brain label map")
    geo = label_geometry(classes, spacing)
    if geo.boundary_mm2 <= 0:
        raise ValueError("the cortex and the white matter never touch: not a brain label map")
    thickness = geo.cortex_mm3 / geo.boundary_mm2
    # the same map on a grid twice as coarse (every other voxel: nearest-neighbour sampling), the
    # label-face statistics of the 2 mm realism benchmark: how much of a 2 mm figure is the
    # segmentation's convention (DLMUSE labels the 2 mm scan itself, smoother) and not anatomy
    coarse = label_geometry(
        classes[::2, ::2, ::2], (2 * spacing[0], 2 * spacing[1], 2 * spacing[2])
    )
    return {
        "boundaryAreaPerMl": geo.boundary_mm2 / geo.brain_ml,
        "cortexFractalDim": box_counting_dimension(cortex),
        "cortexFraction": geo.cortex_mm3 / geo.brain_mm3,
        "cortexThicknessProxy": thickness,
        "boundaryAreaScaleFree": geo.boundary_mm2 / geo.brain_mm3 ** (2.0 / 3.0),
        "thicknessScaleFree": thickness / geo.brain_mm3 ** (1.0 / 3.0),
        "brainMl": geo.brain_ml,
        "boundaryAreaPerMl2mm": (
            coarse.boundary_mm2 / coarse.brain_ml if coarse.brain_mm3 > 0 else float("nan")
        ),
        "cortexThicknessProxy2mm": (
            coarse.cortex_mm3 / coarse.boundary_mm2 if coarse.boundary_mm2 > 0 else float("nan")
        ),
    }


def _spacing(affine: NDArray[np.float64]) -> tuple[float, float, float]:
    z = np.sqrt((np.asarray(affine)[:3, :3] ** 2).sum(axis=0))
    return (float(z[0]), float(z[1]), float(z[2]))


def real_set(data: Path, log: Log = print) -> list[dict[str, float]]:
    files = sorted(data.glob(REAL_GLOB))
    if not files:
        raise FileNotFoundError(f"no {REAL_GLOB} under {data}: --data must be ../shared/data")
    out = []
    for f in files:
        img = nib.load(str(f))
        labels = np.asarray(img.dataobj).astype(np.int32)  # type: ignore[attr-defined]
        out.append(complexity(classes_from_freesurfer(labels), _spacing(img.affine)))  # type: ignore[attr-defined]
    log(f"  measured {len(out)} real 1 mm label maps")
    return out


def synthetic_plan(n: int, seed: int) -> list[tuple[float, str, int]]:
    """(age, sex, seed) of the n samples: ages evenly over AGES, sexes alternating."""
    if n < 2:
        raise ValueError(f"need at least 2 samples (got {n})")
    ages = np.linspace(AGES[0], AGES[1], n).round()
    seeds = np.random.default_rng(seed).integers(0, 2**31, size=n)
    return [
        (float(a), "female" if k % 2 == 0 else "male", int(s))
        for k, (a, s) in enumerate(zip(ages, seeds, strict=True))
    ]


def synthetic_set(
    model_dir: Path, plan: list[tuple[float, str, int]], device: str = "numpy", log: Log = print
) -> list[dict[str, float]]:
    from brainsynth.teacher.generate import generate

    out = []
    for k, (age, sex, seed) in enumerate(plan):
        cond = {"age": age, "sex": sex, "pathology": "none", "contrast": "T1w"}
        vol = generate(model_dir, cond, seed, resolution_mm=1.0, contrasts=("T1w",), device=device)
        out.append(complexity(classes_from_freesurfer(vol.labels), _spacing(vol.affine)))
        log(f"  [{k + 1}/{len(plan)}] 1 mm sample, age {age:.0f} {sex}")
    return out


def compare(real: list[dict[str, float]], synthetic: list[dict[str, float]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in STATISTICS:
        r = np.array([x[name] for x in real])
        s = np.array([x[name] for x in synthetic])
        sd = float(r.std(ddof=1))
        mean = float(s.mean())
        out[name] = {
            "realMean": float(f"{r.mean():.5g}"),
            "realSd": float(f"{sd:.4g}"),
            "syntheticMean": float(f"{mean:.5g}"),
            "syntheticSd": float(f"{s.std(ddof=1):.4g}"),
            "z": round((mean - float(r.mean())) / sd, 2) if sd > 0 else None,
        }
    return out


def markdown(summary: dict[str, Any]) -> str:
    rows = [
        "| statistic | real 1 mm maps: mean ± sd | 1 mm teacher: mean (z) |",
        "|---|---|---|",
    ]
    for name, label in STATISTICS.items():
        s = summary["statistics"][name]
        z = "–" if s["z"] is None or name == "brainMl" else f"{s['z']:+.1f}"
        real = f"{s['realMean']:.4g} ± {s['realSd']:.3g}"
        rows.append(f"| {label} | {real} | {s['syntheticMean']:.4g} ({z}) |")
    head = (
        f"Measured {summary['date']} on model {summary['modelVersion']}: "
        f"`{summary['command']}`, {summary['nReal']} real maps vs {summary['nSynthetic']} "
        f"samples, {summary['seconds']:.0f} s.\n\n"
    )
    return head + "\n".join(rows) + "\n"


def run(
    data: Path, model_dir: Path, n: int, seed: int, device: str = "numpy", log: Log = print
) -> dict[str, Any]:
    t0 = time.perf_counter()
    real = real_set(data, log)
    plan = synthetic_plan(n, seed)
    syn = synthetic_set(model_dir, plan, device, log)
    man = json.loads((model_dir / "manifest.json").read_text())
    return {
        "date": time.strftime("%Y-%m-%d"),
        "modelVersion": man.get("version"),
        "command": f"python -m brainsynth.qa.complexity --data ../shared/data --samples {n}",
        "method": (__doc__ or "").strip().split("\n\n")[2],
        "nReal": len(real),
        "nSynthetic": len(syn),
        "samples": [list(p) for p in plan],
        "statistics": compare(real, syn),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the shared data folder")
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--samples", type=int, default=20, help="1 mm teacher samples (>= 2)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--device", default="numpy", help="teacher device: numpy, cpu, cuda, auto")
    ap.add_argument("--out", type=Path, default=REPORT_DIR)
    ap.add_argument(
        "--write", action="store_true", help="store the figures in the manifest's metrics"
    )
    a = ap.parse_args(argv)
    if a.samples < 2:
        ap.error(f"--samples must be at least 2 (got {a.samples})")
    if not (a.model / "manifest.json").is_file():
        ap.error(f"{a.model} has no manifest.json")
    try:
        summary = run(a.data, a.model, a.samples, a.seed, a.device)
    except FileNotFoundError as e:
        ap.error(str(e))
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    (a.out / "model-card-section.md").write_text(markdown(summary))
    print(markdown(summary))
    if a.write:
        path = a.model / "manifest.json"
        man = json.loads(path.read_text())
        man.setdefault("metrics", {})["complexity1mm"] = {
            k: summary[k] for k in ("date", "modelVersion", "command", "nReal", "nSynthetic")
        } | {"statistics": summary["statistics"]}
        path.write_text(json.dumps(man, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Step 4b: the individual's local displacement field on the small deep structures.

    python -m brainsynth.pipeline.local_field --data ../shared/data   # ~12 min on 2 cores

The shape model (8 components of 20 subjects on a 6 mm grid) spans the cortex's and the white
matter's variety between people, but not that of the small deep structures: pairwise Dice
between samples (qa.diversity, after affine alignment) is ~0.07 higher than between real people
for the hippocampus and the cerebellum, ~0.03 for the deep grey nuclei. Step 4b composes with
each individual's displacement a random smooth field (the seed's own noise smoothed by
`sigmaNodes` on the 6 mm grid, unit variance) times a mask that holds, per velocity node, the
amplitude (mm) of the structure group it lies in, with a smooth edge (the group's
indicator smoothed by SUPPORT_SIGMA_MM, doubled and clipped to 1; the largest group value
where two meet), cut to 0 with the same edge on the structures whose volumes the regional
basis and step 7c steer against the field (EXCLUDED_LABELS); elsewhere the mask is 0. The
field's divergence is then projected out (PROJECTION, anatomy.divergence_free), so it moves and
bends the structures without changing their volumes; the projection reaches a little beyond the
mask (RMS ~0.1 mm a few nodes away). The amplitudes are those of the field before the
projection (it keeps ~0.8 of its RMS). Model 1.14.0 had no projection (`--projection none`
builds that variant); 1.15.0 has it (docs/MODEL.md, Method 4b).

The amplitudes are fitted *through the sampler* to the real set: per group, the median
pairwise Dice of its diversity group (qa.diversity's `perGroupMedian`: hippocampus,
deep GM, cerebellum) over the 42 IXI DLMUSE maps is the target; the samples' median is
measured at trial amplitudes (the fit's own seeds, not the benchmark's) and each group's
amplitude found by secant steps on Dice(amplitude). Groups are far enough apart that each
amplitude moves mainly its own Dice.

Smoothing (SIGMA_NODES, 21 mm): a field that bends a structure within itself changes how much
of it age and disease remove — a local strain moves its boundary against the regional basis's
sources — so one individual's Alzheimer's amygdala atrophy ranged from 1 % to 35 % with a 9 mm
field (6 seeds, ad hoc; without a field 9-23 %). At 21 mm the field mostly moves and tilts each
structure as a whole, and the atrophy stays within the field-free range (15-24 % at the fitted
amplitudes).

Writes `local_field_mask.u8.gz` (velocity grid, x fastest; scale = mm per unit) and
`shapeModel.localField` {sigmaNodes, groups [{name, labels, amplitudeMm}], fit} into the
model folder in place. The sizing of step 7c keeps the groups' volumes where it sizes them
(hippocampus, amygdala); the field moves their shape and position.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from brainsynth.common.grid import to_file_order
from brainsynth.model_io import load_model
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline.model_folder import write_gzip
from brainsynth.schema import validate_manifest

MASK_FILE = "local_field_mask.u8.gz"
SIGMA_NODES = 3.5  # the field's smoothing on the 6 mm velocity grid (21 mm): see below
SUPPORT_SIGMA_MM = 6.0  # the mask's smooth edge around each group
# (name, FreeSurfer label values, the qa.diversity group whose Dice is its target, first trial)
GROUPS: tuple[tuple[str, tuple[int, ...], str, float], ...] = (
    ("hippocampus-amygdala", (17, 18, 53, 54), "hippocampus", 2.7),
    ("deep-gm", (10, 11, 12, 13, 26, 28, 49, 50, 51, 52, 58, 60), "deep-gm", 1.5),
    ("cerebellum", (7, 8, 46, 47), "cerebellum", 4.5),
)
# Structures the field must leave where the regional basis and step 7c put them: brainstem,
# 3rd/4th ventricles, temporal horns (FreeSurfer values). A field that moves them against the
# basis changes how their volumes follow the age gains: with them inside, random subjects'
# ratios to 45 drifted to 12.8 % (3rd/4th ventricles), 7.5 % (brainstem), 5.9 % (horns) off
# the normative ones (qa.anatomy, 50 seeds; target 5 %). The mask is cut to 0 on them, with
# the same smooth edge as the groups' support.
EXCLUDED_LABELS: tuple[int, ...] = (16, 14, 15, 5, 44)
# the field's divergence projected out (anatomy.divergence_free): it moves and bends the
# structures without changing their volumes. Without it a field of 3.3 mm on the cerebellum
# widened the cerebellum's volume spread between samples from 0.085 to 0.112 (log-sd at 60,
# female, 40 individuals; normative 0.083) and shrank its mean by 5 %; projected: 0.085, -1.4 %
PROJECTION = "divergence-free"  # or "none" (model 1.14.0; see above and docs/MODEL.md, Method 4b)
MAX_AMPLITUDE_MM = 10.0
FIT_SEED = 20261207  # the fit's samples; qa.diversity's own (20261206) stay for the check


def group_masks(
    values: NDArray[np.integer[Any]],
    spacing_mm: float,
    vshape: tuple[int, int, int],
    step: int,
) -> NDArray[np.float32]:
    """[G, vx, vy, vz] in [0, 1]: each group's support on the velocity grid, from the template's
    label values [x, y, z] (node i of the velocity grid is output voxel step * i; both grids
    share their origin)."""

    def support(labels: tuple[int, ...]) -> NDArray[np.float32]:
        ind = np.isin(values, labels).astype(np.float32)
        smooth = ndimage.gaussian_filter(ind, SUPPORT_SIGMA_MM / spacing_mm)
        sub = np.clip(smooth * 2.0, 0.0, 1.0)[::step, ::step, ::step]
        node = np.zeros(vshape, np.float32)
        nx, ny, nz = (min(a, b) for a, b in zip(sub.shape, vshape, strict=True))
        node[:nx, :ny, :nz] = sub[:nx, :ny, :nz]
        return node

    keep = 1.0 - support(EXCLUDED_LABELS)
    out = np.zeros((len(GROUPS), *vshape), np.float32)
    for g, (_, labels, _, _) in enumerate(GROUPS):
        out[g] = support(labels) * keep
    return out


def mask_mm(masks: NDArray[np.float32], amplitudes: list[float]) -> NDArray[np.float32]:
    """The mask in mm per node: the largest amplitude x support over the groups."""
    a = np.asarray(amplitudes, np.float32).reshape(-1, 1, 1, 1)
    return np.asarray((masks * a).max(axis=0), np.float32)


def _masks_for(model_dir: Path) -> tuple[NDArray[np.float32], dict[str, Any]]:
    model, man = load_model(model_dir)
    vg, g = man["velocityGrid"], man["grid"]
    step = int(round(vg["spacing"][0] / g["spacing"][0]))
    if vg["origin"] != g["origin"] or any(
        abs(v - step * s) > 1e-6 for v, s in zip(vg["spacing"], g["spacing"], strict=True)
    ):
        raise ValueError("the velocity grid must share the output grid's origin, at k x spacing")
    values = model.label_values[model.template]
    return group_masks(values, float(g["spacing"][0]), tuple(vg["shape"]), step), man


def write_field(
    model_dir: Path,
    amplitudes: list[float],
    fit: dict[str, Any] | None = None,
    masks: NDArray[np.float32] | None = None,
    projection: str = PROJECTION,
) -> dict[str, Any]:
    """Write the mask for `amplitudes` (mm, one per group) and `shapeModel.localField`."""
    base, man = _masks_for(model_dir)
    m = mask_mm(base if masks is None else masks, amplitudes)
    top = float(m.max())
    scale = top / 255.0 if top > 0 else 1.0
    q = np.clip(np.rint(m / scale), 0, 255).astype(np.uint8)
    write_gzip(model_dir / MASK_FILE, to_file_order(q))
    man["arrays"]["localFieldMask"] = {
        "file": MASK_FILE,
        "dtype": "uint8",
        "shape": list(man["velocityGrid"]["shape"]),
        "scale": scale,
    }
    spec: dict[str, Any] = {
        "sigmaNodes": SIGMA_NODES,
        "groups": [
            {"name": name, "labels": list(labels), "amplitudeMm": round(float(a), 3)}
            for (name, labels, _, _), a in zip(GROUPS, amplitudes, strict=True)
        ],
    }
    if projection != "none":
        spec["projection"] = projection
    if fit is not None:
        spec["fit"] = fit
    man["shapeModel"]["localField"] = spec
    validate_manifest(man)
    (model_dir / "manifest.json").write_text(json.dumps(man, indent=1) + "\n")
    return man


def _secant(a0: float, d0: float, a1: float, d1: float, target: float) -> float:
    """The amplitude where the line through (a0, d0), (a1, d1) reaches `target`, kept in
    [0, MAX_AMPLITUDE_MM] (a flat pair keeps a1)."""
    if abs(d1 - d0) < 1e-4:
        return a1
    a = a1 + (target - d1) * (a1 - a0) / (d1 - d0)
    return float(np.clip(a, 0.0, MAX_AMPLITUDE_MM))


def _closest(trials: list[tuple[list[float], list[float]]], g: int, target: float) -> float:
    """Group g's amplitude of the trial whose Dice came closest to `target`."""
    return min(trials, key=lambda t: abs(t[1][g] - target))[0][g]


def fit(
    model_dir: Path,
    data: Path,
    rounds: int = 2,
    subset: int | None = None,
    log: Any = print,
    start: list[float] | None = None,
    projection: str = PROJECTION,
) -> dict[str, Any]:
    """Fit the groups' amplitudes (module docstring) and write them into `model_dir`; the first
    trial after zero is `start` (default: GROUPS' first trials)."""
    # qa.diversity samples through the teacher, which the pipeline imports only in its
    # post-build fits, at run time (as render_fit does)
    diversity = importlib.import_module("brainsynth.qa.diversity")

    t0 = time.time()
    masks, man = _masks_for(model_dir)
    root = Path(tempfile.mkdtemp(prefix="local-field-"))
    try:

        def measure(amps: list[float]) -> tuple[dict[str, float], dict[str, float]]:
            # a fresh folder per trial: the teacher caches what it loaded by the folder's path
            work = root / f"trial-{len(trials)}"
            work.mkdir()
            for p in model_dir.iterdir():
                if p.is_file():
                    shutil.copy2(p, work / p.name)
            write_field(work, amps, masks=masks, projection=projection)
            r = diversity.evaluate(data, work, subset=subset, n_fixed=0, base_seed=FIT_SEED)
            shutil.rmtree(work, ignore_errors=True)
            log(
                f"  amplitudes {[round(a, 3) for a in amps]} mm: samples "
                f"{r['syntheticMatched']['perGroupMedian']} (real {r['real']['perGroupMedian']})"
            )
            return r["syntheticMatched"]["perGroupMedian"], r["real"]["perGroupMedian"]

        trials: list[tuple[list[float], list[float]]] = []
        zero = [0.0] * len(GROUPS)
        d_zero, real = measure(zero)
        target = [real[dg] for _, _, dg, _ in GROUPS]
        trials.append((zero, [d_zero[dg] for _, _, dg, _ in GROUPS]))
        amps = list(start) if start is not None else [a for *_, a in GROUPS]
        for _ in range(rounds + 1):
            d, _ = measure(amps)
            trials.append((amps, [d[dg] for _, _, dg, _ in GROUPS]))
            (a0, d0), (a1, d1) = trials[-2], trials[-1]
            amps = [_secant(a0[g], d0[g], a1[g], d1[g], target[g]) for g in range(len(GROUPS))]
        # the last measured trial closest to the targets per group
        best = [_closest(trials, g, target[g]) for g in range(len(GROUPS))]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    fit_info = {
        "method": (
            "pipeline.local_field: per group, secant steps on the samples' median pairwise Dice "
            "(qa.diversity, its group) towards the real IXI DLMUSE maps' median"
        ),
        "seed": FIT_SEED,
        "subset": subset,
        "realPerGroupMedian": {dg: round(target[g], 4) for g, (_, _, dg, _) in enumerate(GROUPS)},
        "trials": [
            {"amplitudeMm": [round(a, 3) for a in t[0]], "dice": [round(v, 4) for v in t[1]]}
            for t in trials
        ],
        "wallSeconds": round(time.time() - t0, 1),
    }
    write_field(model_dir, best, fit_info, masks=masks, projection=projection)
    log(f"local field: amplitudes {best} mm ({fit_info['wallSeconds']} s)")
    return fit_info


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--rounds", type=int, default=2, help="secant rounds after the first trial")
    ap.add_argument("--subset", type=int, default=None, help="an age-spread subset of the scans")
    ap.add_argument(
        "--start", type=float, nargs="+", help="the first trial's amplitudes (mm, one per group)"
    )
    ap.add_argument(
        "--amplitudes",
        type=float,
        nargs="+",
        help="write these amplitudes (mm, one per group) instead of fitting",
    )
    ap.add_argument(
        "--projection",
        choices=("none", "divergence-free"),
        default=PROJECTION,
        help="project the field's divergence out (software >= 0.4.4)",
    )
    args = ap.parse_args(argv)
    if args.amplitudes:
        if len(args.amplitudes) != len(GROUPS):
            ap.error(f"--amplitudes needs {len(GROUPS)} values ({[g[0] for g in GROUPS]})")
        write_field(args.model, list(args.amplitudes), projection=args.projection)
        return
    if args.start and len(args.start) != len(GROUPS):
        ap.error(f"--start needs {len(GROUPS)} values")
    fit(
        args.model,
        args.data,
        args.rounds,
        args.subset,
        start=args.start,
        projection=args.projection,
    )


if __name__ == "__main__":
    main()

"""Fit the MS lesions' and the chronic infarct's contrast *through the renderer* to the real
lesions in the data folder.

    python -m brainsynth.pipeline.lesion_fit --data ../shared/data [--model DIR] [--seeds 3]

Why a closed loop: a lesion's label mean is a pure-tissue value, while a real lesion's median
contains partial volume with its surroundings (MS lesions are a few voxels across) — rendering
a measured median as the label mean gives lesions of the wrong contrast (MS FLAIR 1.58 x WM
rendered vs 1.33-1.37 in the three real patients; the infarct's T2w 3.1 vs 2.4).

Measurement, identical on both sides (`pipeline.real_contrast`): lesion median / WM median.
- Real: every real case with a lesion of that name in that contrast (`real_cases`: the 3 MS
  patients' FLAIR, the stroke T2w); target = the median over cases.
- Synthetic: the 2 mm teacher's stand-in case of that pathology (`SYNTHETIC_CASES`, its lesion
  labels `SYNTHETIC_LESIONS`), its WM the k-means class of its T1w as the real MS patients'
  (`synthetic_t1_masks`; until model 1.11.0 the eroded WM label, which is darker than a
  k-means WM class), `seeds` seeds, median over seeds.

Fit: every label standing for that lesion, in that contrast, is scaled together (mean and SD):
`scale <- scale * real / synthetic`, three rounds, the synthetic ratio re-rendered each round.
Only (lesion, contrast) pairs with a real measurement are fitted (MS: FLAIR; infarct: T2w);
every other value stays. The glioma has its own calibration (`glioma_fit`, on the TCGA cases'
own normal-appearing WM) and is left alone. Idempotent: the values before the first fit are kept
in `appearance.measured.lesionFit.base` and every run starts from them. Runs after
`render_fit` (which rewrites the T2w/FLAIR tables from its own base).
"""

from __future__ import annotations

import argparse
import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline import real_contrast
from brainsynth.pipeline.render_fit import scratch_model
from brainsynth.schema import validate_manifest

FITTED_PATHOLOGIES = ("ms", "stroke")
ROUNDS = 3
BASE_SEED = 20261207

Log = Callable[[str], None]


def real_targets(real: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(pathology, contrast, lesion name) -> the real cases' lesion/WM ratios and their
    median, for the fitted pathologies."""
    got: dict[tuple[str, str, str], list[float]] = {}
    for c in real:
        if c["pathology"] not in FITTED_PATHOLOGIES:
            continue
        for name, r in c["lesions"].items():
            got.setdefault((c["pathology"], c["contrast"], name), []).append(float(r["lesionWm"]))
    return {k: {"cases": v, "median": float(np.median(v))} for k, v in got.items()}


def synthetic_ratios(
    model_dir: Path, keys: list[tuple[str, str, str]], seeds: list[int]
) -> dict[tuple[str, str, str], float]:
    """The stand-in cases' lesion/WM, median over seeds, for every key."""
    gen_mod = importlib.import_module("brainsynth.teacher.generate")
    gen_mod._load.cache_clear()  # the model folder's manifest changes between renders
    app = json.loads((model_dir / "manifest.json").read_text())["appearance"]
    out: dict[tuple[str, str, str], float] = {}
    for pathology in sorted({k[0] for k in keys}):
        contrasts = sorted({k[1] for k in keys if k[0] == pathology})
        cond = real_contrast.SYNTHETIC_CASES[pathology] | {"contrast": contrasts[0]}
        per_key: dict[tuple[str, str, str], list[float]] = {}
        for seed in seeds:
            vol = gen_mod.generate(
                model_dir,
                cond,
                seed,
                resolution_mm=2.0,
                contrasts=tuple(dict.fromkeys(("T1w", *contrasts))),
                device="numpy",
            )
            # tissue classes as the real MS patients get theirs: k-means of the T1w
            masks = real_contrast.twin_t1_masks(vol, app, pathology)
            for c in contrasts:
                r = real_contrast.ratios(vol.images[c].astype(np.float64), masks)
                for name, v in r["lesions"].items():
                    if (pathology, c, name) in keys:
                        per_key.setdefault((pathology, c, name), []).append(float(v["lesionWm"]))
        out |= {k: float(np.median(v)) for k, v in per_key.items()}
    return out


def label_indices(man: dict[str, Any], pathology: str, name: str) -> list[int]:
    values = set(real_contrast.SYNTHETIC_LESIONS[pathology][name])
    return [i for i, e in enumerate(man["labels"]) if int(e["value"]) in values]


def scaled(
    man: dict[str, Any],
    base: dict[str, dict[str, list[float]]],
    scales: dict[tuple[str, str, str], float],
) -> dict[str, Any]:
    """A copy of `man` whose fitted lesion labels are `base` times their scale."""
    m = json.loads(json.dumps(man))
    for (pathology, contrast, name), s in scales.items():
        table = m["appearance"]["contrasts"][contrast]
        for i in label_indices(m, pathology, name):
            table["mean"][i] = round(base[contrast]["mean"][i] * s, 4)
            table["sd"][i] = round(base[contrast]["sd"][i] * s, 4)
    return m


def fit(model_dir: Path, data: Path, n_seeds: int = 3, log: Log = print) -> dict[str, Any]:
    path = model_dir / "manifest.json"
    man = json.loads(path.read_text())
    app = man["appearance"]
    previous = app.get("measured", {}).get("lesionFit", {})
    targets = real_targets(real_contrast.real_cases(data))
    if not targets:
        raise real_contrast.RealDataError(f"{data}: no real MS or stroke lesion measured")
    keys = sorted(targets)
    contrasts = sorted({k[1] for k in keys})
    base = {
        c: {
            "mean": list(
                previous.get("base", {}).get(c, {}).get("mean") or app["contrasts"][c]["mean"]
            ),
            "sd": list(previous.get("base", {}).get(c, {}).get("sd") or app["contrasts"][c]["sd"]),
        }
        for c in contrasts
    }
    seeds = [BASE_SEED + k for k in range(n_seeds)]
    scales = {k: 1.0 for k in keys}
    history = []
    with scratch_model(model_dir) as work:

        def render() -> dict[tuple[str, str, str], float]:
            (work / "manifest.json").write_text(json.dumps(scaled(man, base, scales)))
            return synthetic_ratios(work, keys, seeds)

        syn = render()
        history.append({"/".join(k): round(syn[k], 4) for k in keys})
        for r in range(ROUNDS):
            for k in keys:
                scales[k] *= targets[k]["median"] / syn[k]
            syn = render()
            history.append({"/".join(k): round(syn[k], 4) for k in keys})
            log(
                f"  round {r + 1}: "
                + ", ".join(
                    f"{'/'.join(k)} {syn[k]:.3f} (real {targets[k]['median']:.3f})" for k in keys
                )
            )
    fitted = scaled(man, base, scales)
    app["contrasts"] = fitted["appearance"]["contrasts"]
    app.setdefault("measured", {})["lesionFit"] = {
        "method": "pipeline.lesion_fit: lesion median / WM median, real cases "
        "(pipeline.real_contrast) vs the 2 mm teacher's stand-in cases, labels scaled together",
        "real": {"/".join(k): v for k, v in targets.items()},
        "synthetic": {"/".join(k): round(syn[k], 4) for k in keys},
        "scale": {"/".join(k): round(v, 4) for k, v in scales.items()},
        "labels": {
            "/".join(k): [int(man["labels"][i]["value"]) for i in label_indices(man, k[0], k[2])]
            for k in keys
        },
        "seeds": seeds,
        "rounds": history,
        "base": base,
    }
    validate_manifest(man)
    path.write_text(json.dumps(man, indent=1) + "\n")
    return dict(app["measured"]["lesionFit"])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--seeds", type=int, default=3, help="synthetic cases per render (>= 1)")
    a = ap.parse_args(argv)
    if a.seeds < 1:
        ap.error("--seeds must be at least 1")
    if not a.data.is_dir():
        ap.error(f"{a.data} is not a folder (is --data the shared data folder?)")
    if not (a.model / "manifest.json").is_file():
        ap.error(f"{a.model} has no manifest.json (build the model first)")
    res = fit(a.model, a.data, a.seeds)
    print(json.dumps({k: res[k] for k in ("real", "synthetic", "scale")}, indent=1))


if __name__ == "__main__":
    main()

"""Add step 7b (individual cortical folding, brainsynth/folding.py) to a model folder.

    python -m brainsynth.pipeline.folding [--model public/models/brainsynth-shape-v1]

Writes `cortical_depth.u8.gz` (depth below the template's brain hull, half-millimetres; derived
from the label template only) and the manifest's `folding` parameters. The build runs it too.

Parameters (anatomy, not fitted to a statistic of the benchmark):
- wavelength 26 mm at a radius of 70 mm: sulci about 13 mm apart, the gyral period of the adult
  human cortex (a gyrus ~10 mm wide plus its sulcus);
- CSF core 1.8 mm wide (half width 0.9 mm): an adult sulcus seen at 1 mm;
- grey-matter lining 2 mm into the white matter at the fundus (the cortex is thinnest there);
- a cortical ribbon ~3 mm thick at the gyral crowns (template cortex deeper than 3 mm below the
  hull, away from the sulci and from CSF, is the gyral white-matter core);
- the core cuts to 12 mm below the hull (typical sulcal depth 10-20 mm; the template's own
  cortex band, up to 14 mm deep, is the rest);
- 32 waves (enough for an isotropic field), a 64-cell cube map (1.4 degrees, ~1.7 mm at 70 mm).
Re-running does not touch the shape model, gains or student: folding is applied after the
template lookup (steps 1-7 are unchanged).
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np

from brainsynth.common.grid import to_file_order
from brainsynth.folding import depth_array
from brainsynth.model_io import load_model
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline.model_folder import write_gzip
from brainsynth.schema import validate_manifest

DEPTH_FILE = "cortical_depth.u8.gz"
PARAMETERS: dict[str, Any] = {
    "waves": 32,
    "wavelengthMm": 26.0,
    "radiusMm": 70.0,
    "tableSize": 64,
    "sulcalHalfWidthMm": 0.9,
    "liningMm": 2.0,
    "sulcalDepthMm": 12.0,
    "crownMm": 3.0,
    "source": "brainsynth.pipeline.folding (anatomical literature values; depth from the template)",
}


def add_folding(model_dir: Path, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the depth array and the parameters into `model_dir` (manifest updated in place)."""
    model, man = load_model(model_dir)
    groups = [str(e["group"]) for e in man["labels"]]
    depth = depth_array(model.template, groups, float(model.grid.spacing[0]))
    write_gzip(model_dir / DEPTH_FILE, to_file_order(depth))
    man["arrays"]["corticalDepth"] = {
        "file": DEPTH_FILE,
        "dtype": "uint8",
        "shape": list(model.grid.shape),
        "scale": 0.5,
    }
    man["folding"] = dict(params or PARAMETERS)
    validate_manifest(man)
    path = model_dir / "manifest.json"
    path.write_text(json.dumps(man, indent=1) + "\n")
    return man


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    args = ap.parse_args(argv)
    if not (args.model / "manifest.json").is_file():
        raise SystemExit(f"{args.model} has no manifest.json")
    man = add_folding(args.model)
    d = np.frombuffer(gzip.decompress((args.model / DEPTH_FILE).read_bytes()), np.uint8)
    print(f"folding added to {man['id']}: depth max {d.max() * 0.5:.1f} mm, {man['folding']}")


if __name__ == "__main__":
    main()

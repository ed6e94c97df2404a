"""Read a model folder (MODEL_FORMAT.md) back into numpy, and sample anatomy for given
conditions exactly as the engine does (§3 steps 1-8, without pathology drawing)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.anatomy import AnatomyModel, region_volumes_ml, sample_label_indices
from brainsynth.common.grid import Grid, field_from_file_order
from brainsynth.common.rng import normals

DTYPES = {"uint8": "<u1", "int16": "<i2", "float32": "<f4"}


def _grid(spec: dict[str, Any]) -> Grid:
    return Grid(tuple(spec["shape"]), tuple(spec["spacing"]), tuple(spec["origin"]))


def _array(folder: Path, spec: dict[str, Any]) -> NDArray[np.generic]:
    raw = gzip.decompress((folder / spec["file"]).read_bytes())
    arr = np.frombuffer(raw, DTYPES[spec["dtype"]])
    expected = int(np.prod(spec["shape"]))
    if arr.size != expected:
        raise ValueError(f"{spec['file']}: {arr.size} values, manifest says {expected}")
    return arr


def _volume(folder: Path, spec: dict[str, Any]) -> NDArray[np.generic]:
    nx, ny, nz = spec["shape"]
    return _array(folder, spec).reshape(nz, ny, nx).T


def _fields(folder: Path, spec: dict[str, Any]) -> NDArray[np.float32]:
    arr = _array(folder, spec).reshape(spec["shape"]).astype(np.float32)
    return np.stack(
        [field_from_file_order(a * s) for a, s in zip(arr, spec["scale"], strict=True)]
    ).astype(np.float32)


def load_model(folder: Path) -> tuple[AnatomyModel, dict[str, Any]]:
    man: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    arrays = man["arrays"]
    sigma = np.asarray(man["shapeModel"]["sigma"], np.float32)
    comps = _fields(folder, arrays["shapeComponents"]) * sigma[:, None, None, None, None]
    model = AnatomyModel(
        template=_volume(folder, arrays["templateLabels"]).astype(np.uint8),
        label_values=np.asarray([e["value"] for e in man["labels"]], np.int32),
        components=comps.astype(np.float32),
        basis=_fields(folder, arrays["regionalBasis"]),
        region_names=[r["name"] for r in man["regions"]],
        region_labels=[r["labels"] for r in man["regions"]],
        template_icv_ml=float(man["calibration"]["templateIcvMl"]),
        grid_centre_mm=tuple(man["calibration"]["gridCentreMm"]),
        grid=_grid(man["grid"]),
        vgrid=_grid(man["velocityGrid"]),
    )
    return model, man


def gains_for(man: dict[str, Any], cond: dict[str, Any]) -> NDArray[np.float64]:
    cal = man["calibration"]
    table = np.asarray(cal["gains"][cond["sex"]], np.float64)
    ages = np.asarray(cal["ages"], np.float64)
    g = np.array([np.interp(cond["age"], ages, table[:, r]) for r in range(table.shape[1])])
    if cond.get("pathology") == "alzheimers":
        g += cond.get("adSeverity", 0.0) * np.asarray(
            man["pathology"]["alzheimers"]["gainsAtSeverity1"]
        )
    if cond.get("pathology") == "stroke":
        names = [r["name"] for r in man["regions"]]
        g[names.index("lateral-ventricles")] += man["pathology"]["stroke"][
            "exVacuoGain"
        ] * cond.get("strokeSize", 0.0)
    return g


def latents(man: dict[str, Any], seed: int) -> tuple[NDArray[np.float64], float]:
    k = int(man["shapeModel"]["components"])
    z = normals(seed, k + 1)
    return z[:k], float(z[k])


def sample_anatomy(
    model: AnatomyModel, man: dict[str, Any], cond: dict[str, Any], seed: int
) -> tuple[NDArray[np.uint8], dict[str, float]]:
    """Label indices on the output grid and their regional volumes (no pathology drawn)."""
    z, z_icv = latents(man, seed)
    cal = man["calibration"]
    icv = cal["icvMl"][cond["sex"]] * float(np.exp(cal["icvLogSd"] * z_icv))
    scale = (icv / cal["templateIcvMl"]) ** (1.0 / 3.0)
    idx = sample_label_indices(model, z, gains_for(man, cond), scale)
    return idx, region_volumes_ml(model, idx)

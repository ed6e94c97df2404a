"""Read a model folder (MODEL_FORMAT.md) back into numpy, and sample anatomy for given
conditions exactly as the engine does (§3 steps 1-8, without pathology drawing)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth import pathologies
from brainsynth.anatomy import AnatomyModel, icv_scale, region_volumes, sample_label_indices
from brainsynth.common.grid import Grid, field_from_file_order
from brainsynth.common.labels import label_ranges
from brainsynth.common.rng import normals

DTYPES = {"uint8": "<u1", "int16": "<i2", "float32": "<f4"}


def grid_from_json(spec: dict[str, Any]) -> Grid:
    return Grid(tuple(spec["shape"]), tuple(spec["spacing"]), tuple(spec["origin"]))


def _array(folder: Path, spec: dict[str, Any]) -> NDArray[np.generic]:
    raw = gzip.decompress((folder / spec["file"]).read_bytes())
    arr = np.frombuffer(raw, DTYPES[spec["dtype"]])
    expected = int(np.prod(spec["shape"]))
    if arr.size != expected:
        raise ValueError(f"{spec['file']}: {arr.size} values, manifest says {expected}")
    return arr


def read_volume(folder: Path, spec: dict[str, Any]) -> NDArray[np.generic]:
    nx, ny, nz = spec["shape"]
    return _array(folder, spec).reshape(nz, ny, nx).T


def cortical_depth_mm(folder: Path, man: dict[str, Any]) -> NDArray[np.float64] | None:
    """The model's corticalDepth [x, y, z] in mm (step 7b), or None without folding."""
    spec = man["arrays"].get("corticalDepth")
    if not spec or not man.get("folding"):
        return None
    return read_volume(folder, spec).astype(np.float64) * float(spec.get("scale", 1.0))


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
        template=read_volume(folder, arrays["templateLabels"]).astype(np.uint8),
        label_values=np.asarray([e["value"] for e in man["labels"]], np.int32),
        components=comps.astype(np.float32),
        basis=_fields(folder, arrays["regionalBasis"]),
        region_names=[r["name"] for r in man["regions"]],
        region_labels=[r["labels"] for r in man["regions"]],
        template_icv_ml=float(man["calibration"]["templateIcvMl"]),
        grid_centre_mm=tuple(man["calibration"]["gridCentreMm"]),
        grid=grid_from_json(man["grid"]),
        vgrid=grid_from_json(man["velocityGrid"]),
        label_names=[str(e["name"]) for e in man["labels"]],
        label_ranges=label_ranges(man),
        **_local_field(folder, man),
    )
    return model, man


def _local_field(folder: Path, man: dict[str, Any]) -> dict[str, Any]:
    """AnatomyModel's step 4b fields: the mask in mm per node [vx, vy, vz] and its smoothing."""
    spec = (man.get("shapeModel") or {}).get("localField")
    arr = man["arrays"].get("localFieldMask")
    if not spec or not arr:
        return {}
    raw = read_volume(folder, arr).astype(np.float32)
    mask = (raw * np.float32(arr.get("scale", 1.0))).astype(np.float32)
    return {
        "local_mask_mm": mask,
        "local_sigma_nodes": float(spec["sigmaNodes"]),
        "local_projection": str(spec.get("projection", "none")),
    }


def gains_for(man: dict[str, Any], cond: dict[str, Any]) -> NDArray[np.float64]:
    """Step 2: the calibrated gains at (age, sex), plus the pathology module's own change."""
    cal = man["calibration"]
    table = np.asarray(cal["gains"][cond["sex"]], np.float64)
    ages = np.asarray(cal["ages"], np.float64)
    g = np.array([np.interp(cond["age"], ages, table[:, r]) for r in range(table.shape[1])])
    pathologies.get(cond.get("pathology", "none")).gains(man, cond, g)
    return g


def latents(man: dict[str, Any], seed: int) -> tuple[NDArray[np.float64], float]:
    k = int(man["shapeModel"]["components"])
    z = normals(seed, k + 1)
    return z[:k], float(z[k])


def size_latent(man: dict[str, Any], seed: int) -> float:
    """The individual's size latent of step 7c (`individualLogSd`): the normal after z_icv in
    the seed's stream (normals(seed, K + 2)[K + 1]; the stream's prefix is the latents')."""
    return size_latents(man, seed)[0]


def size_latent_count(man: dict[str, Any]) -> int:
    """How many size latents step 7c reads: 1 + the largest `latent` of its structures (1 with
    none; the ventricles' latent is always drawn)."""
    structures = (man.get("sizing") or {}).get("structures", [])
    return 1 + max((int(s.get("latent", 0)) for s in structures), default=0)


def size_latents(man: dict[str, Any], seed: int) -> list[float]:
    """The individual's size latents of step 7c: latent j is normals(seed, K + 2 + j)[K + 1 + j]
    (after z and z_icv; the stream's prefix is the latents'). 0: the ventricles' size, 1: the
    skull's thickness, 2: the scalp's (MODEL_FORMAT.md §3, 7c)."""
    k = int(man["shapeModel"]["components"])
    n = size_latent_count(man)
    return [float(v) for v in normals(seed, k + 1 + n)[k + 1 :]]


def sample_anatomy(
    model: AnatomyModel, man: dict[str, Any], cond: dict[str, Any], seed: int
) -> tuple[NDArray[np.uint8], dict[str, float]]:
    """Label indices on the output grid and their regional volumes (no pathology drawn)."""
    z, z_icv = latents(man, seed)
    scale = icv_scale(man, cond["sex"], z_icv)
    idx = sample_label_indices(model, z, gains_for(man, cond), scale, seed=seed)
    return idx, region_volumes(model, idx)

"""The full-size teacher: the browser's model at 1 mm (or 2 mm), in every contrast, with labels.

Same latents, gains, deformation and lesion draws as the engine (MODEL_FORMAT.md §3-§5), so a
2 mm request reproduces the browser's brain and a 1 mm request is the same brain, finer: the
velocity field is shared, the 1 mm label template is the same groupwise average at 1 mm, and
MS lesion sites are drawn in template space with the engine's random draws, and the lesions are
rasterised on the requested grid.
"""

from __future__ import annotations

import json
import math
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import nibabel as nib
import numpy as np
from numpy.typing import NDArray

from brainsynth import __version__
from brainsynth.anatomy import AnatomyModel, velocity
from brainsynth.common.grid import OUTPUT_GRID, Grid
from brainsynth.common.inverse_map import PointField
from brainsynth.common.warp import exp_velocity, nearest_labels, trilinear
from brainsynth.model_io import _grid, _volume, gains_for, latents, load_model
from brainsynth.teacher import accel
from brainsynth.teacher import pathology as path
from brainsynth.teacher.render import anisotropic, bias_polynomial, label_means, render

ProgressFn = Callable[[float, str], None]
CONTRASTS = ("T1w", "T2w", "FLAIR")
RESOLUTIONS = (1.0, 2.0)
MS_STREAM_XOR = 0x9E3779B9


class GenerationError(ValueError):
    """Invalid request (conditions, seed, resolution, contrasts): the message says why."""


@dataclass
class GeneratedVolume:
    images: dict[str, NDArray[np.float32]]  # contrast -> [x, y, z] float32
    labels: NDArray[np.int16]  # [x, y, z] FreeSurfer / pathology label values
    affine: NDArray[np.float64]  # voxel -> RAS mm
    sidecar: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Loaded:
    model: AnatomyModel
    man: dict[str, Any]
    template_1mm: NDArray[np.uint8] | None
    grid_1mm: Grid | None
    territories: NDArray[np.uint8]  # x-fastest flat, 2 mm
    index_of: dict[int, int]
    groups: list[str]
    sites: path.TemplateSites  # MS lesion sites (template space, 2 mm)


@lru_cache(maxsize=4)
def _load(model_dir: str) -> _Loaded:
    folder = Path(model_dir)
    model, man = load_model(folder)
    t1 = man.get("teacherArrays", {}).get("templateLabels1mm")
    arrays = man["arrays"]
    prior = _volume(folder, arrays["msLesionPrior"]).astype(np.float32) * float(
        arrays["msLesionPrior"].get("scale", 1.0)
    )
    prior_flat = np.ascontiguousarray(prior.T).ravel()
    groups = [str(e["group"]) for e in man["labels"]]
    index_of = {int(e["value"]): int(e["index"]) for e in man["labels"]}
    sites = path.TemplateSites(
        model.template,
        model.grid,
        prior_flat,
        _mask(groups, "wm"),
        [index_of[v] for v in _lateral_ventricle_values(man) if v in index_of],
    )
    return _Loaded(
        model=model,
        man=man,
        template_1mm=_volume(folder, t1).astype(np.uint8) if t1 else None,
        grid_1mm=_grid(t1["grid"]) if t1 else None,
        territories=np.ascontiguousarray(_volume(folder, arrays["territories"]).T)
        .ravel()
        .astype(np.uint8),
        index_of=index_of,
        groups=groups,
        sites=sites,
    )


def _lateral_ventricle_values(man: dict[str, Any]) -> list[int]:
    region = next((r for r in man["regions"] if r["name"] == "lateral-ventricles"), None)
    return list(region["labels"]) if region else [4, 43]  # FreeSurfer L/R lateral ventricle


def complete_conditions(schema: dict[str, Any], conditions: dict[str, Any]) -> dict[str, Any]:
    """Validate against the model's schema (rejecting, never clamping), then fill the defaults
    of the properties that apply — as the engine's validateConditions does."""
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(conditions), key=str)
    reasons = [f"{'/'.join(map(str, e.path)) or 'conditions'}: {e.message}" for e in errors]
    # NaN / +-Infinity pass JSON Schema's range keywords (every comparison with NaN is false)
    reasons += [
        f"{k}: {v!r} is not a finite number"
        for k, v in conditions.items()
        if isinstance(v, float) and not math.isfinite(v)
    ]
    if reasons:
        raise GenerationError("; ".join(reasons))
    out = dict(conditions)
    for name, prop in schema["properties"].items():
        when = prop.get("x-showWhen", {})
        if name not in out and "default" in prop and all(out.get(k) == v for k, v in when.items()):
            out[name] = prop["default"]
    return out


def _mask(groups: list[str], *names: str) -> NDArray[np.bool_]:
    return np.array([g in names for g in groups], bool)


def _template_flat_index(grid: Grid, p: NDArray[np.float32]) -> NDArray[np.int64]:
    """Nearest 2 mm template voxel (x-fastest flat index) of each point; N when outside."""
    q = np.floor(grid.to_voxel(p) + 0.5).astype(np.int64)
    inside = np.ones(q.shape[1:], bool)
    for a in range(3):
        inside &= (q[a] >= 0) & (q[a] < grid.shape[a])
    nx, ny, nz = grid.shape
    flat = q[0] + nx * (q[1] + ny * q[2])
    return np.where(inside, flat, nx * ny * nz)


def _anatomy(
    ld: _Loaded,
    u: NDArray[np.float32],
    grid: Grid,
    template: NDArray[np.uint8],
    scale: float,
    glioma: tuple[tuple[float, float, float], float] | None,
    device: str = "numpy",
) -> tuple[NDArray[np.int32], NDArray[np.int64], NDArray[np.float32]]:
    m = ld.model
    x = grid.world_coords()
    xm = x
    if glioma:
        spec = ld.man["pathology"]["glioma"]
        xm = path.mass_effect(x, glioma[0], glioma[1], float(spec["massEffectDecayMm"]))
    if device != "numpy":
        idx_t, tflat_t = accel.anatomy(
            device, u, m.vgrid, grid, template, m.grid, scale, m.grid_centre_mm, xm
        )
        return idx_t, tflat_t, x
    c = np.asarray(m.grid_centre_mm, np.float32).reshape(3, 1, 1, 1)
    xp = c + (xm - c) / np.float32(scale)
    p = xp + trilinear(u, m.vgrid, xp)
    idx = nearest_labels(template, grid, p).astype(np.int32)
    return idx, _template_flat_index(m.grid, p), x


def _render(
    device: str,
    idx: NDArray[np.int32],
    app: dict[str, Any],
    contrast: str,
    age: float,
    seed: int,
    is_wm: NDArray[np.bool_],
    sigma_scale: float,
) -> NDArray[np.float32]:
    if device == "numpy":
        return render(idx, app, contrast, age, seed, is_wm, sigma_scale=sigma_scale)
    means = label_means(app, contrast, age)
    sds = np.asarray(app["contrasts"][contrast]["sd"], np.float32)
    bias = bias_polynomial(idx.shape, seed)
    return accel.render(device, idx, means, sds, app, seed, is_wm, bias, sigma_scale)


def _volumes(ld: _Loaded, idx: NDArray[np.int32], grid: Grid) -> dict[str, float]:
    labels = ld.man["labels"]
    counts = np.bincount(idx.ravel(), minlength=len(labels)) * (float(np.prod(grid.spacing)) / 1000)
    by_value: dict[int, float] = {}
    for e in labels:
        by_value[e["value"]] = by_value.get(e["value"], 0.0) + float(counts[e["index"]])
    out = {r["name"]: sum(by_value.get(v, 0.0) for v in r["labels"]) for r in ld.man["regions"]}
    out["icv"] = sum(v for k, v in by_value.items() if 1 <= k <= 499 or 700 <= k <= 799)
    for e in labels:
        if 700 <= e["value"] <= 799 and counts[e["index"]] > 0:
            out[e["name"]] = float(counts[e["index"]])
    return {k: round(v, 3) for k, v in out.items()}


def generate(
    model_dir: Path,
    conditions: dict[str, Any],
    seed: int,
    resolution_mm: float = 1.0,
    contrasts: Sequence[str] = ("T1w",),
    progress: ProgressFn | None = None,
    slice_thickness_mm: float | None = None,
    explicit_latents: tuple[NDArray[np.float64], float] | None = None,
    device: str | None = None,
) -> GeneratedVolume:
    """One volume for (conditions, seed). `explicit_latents` (z, z_icv) replaces the seed's
    latents — for QA at the mean individual (z = 0) and parity checks. `device`: 'numpy' (the
    reference), 'cpu' or 'cuda' (PyTorch, teacher/accel.py), default 'auto' (CUDA if present)."""
    t0 = time.perf_counter()
    report = progress or (lambda _f, _m: None)
    if not (isinstance(seed, int) and 0 <= seed <= 0xFFFFFFFF):
        raise GenerationError(f"seed must be an integer in [0, 4294967295] (got {seed!r})")
    if float(resolution_mm) not in RESOLUTIONS:
        raise GenerationError(f"resolution_mm must be one of {RESOLUTIONS} (got {resolution_mm!r})")
    bad = [c for c in contrasts if c not in CONTRASTS]
    if bad or not contrasts or len(set(contrasts)) != len(contrasts):
        raise GenerationError(
            f"contrasts must be distinct values of {CONTRASTS} (got {list(contrasts)})"
        )
    try:
        dev = accel.pick_device(device)
    except ValueError as exc:
        raise GenerationError(str(exc)) from exc
    ld = _load(str(Path(model_dir).resolve()))
    man = ld.man
    cond = complete_conditions(man["conditionsSchema"], conditions)
    report(0.05, "anatomy")

    z, z_icv = explicit_latents if explicit_latents is not None else latents(man, seed)
    gains = gains_for(man, cond)
    cal = man["calibration"]
    icv = cal["icvMl"][cond["sex"]] * float(np.exp(cal["icvLogSd"] * z_icv))
    scale = (icv / cal["templateIcvMl"]) ** (1.0 / 3.0)
    u = exp_velocity(velocity(ld.model, z, gains), ld.model.vgrid)

    full = float(resolution_mm) == 1.0
    if full and (ld.template_1mm is None or ld.grid_1mm is None):
        raise GenerationError(f"model {man['id']} has no 1 mm template (teacherArrays)")
    grid = ld.grid_1mm if full and ld.grid_1mm else OUTPUT_GRID
    template = ld.template_1mm if full and ld.template_1mm is not None else ld.model.template
    glioma = None
    if cond["pathology"] == "glioma":
        centre = (cond["gliomaCenterXMm"], cond["gliomaCenterYMm"], cond["gliomaCenterZMm"])
        glioma = (centre, float(cond["gliomaRadiusMm"]))
    idx, tflat, x = _anatomy(ld, u, grid, template, scale, glioma, dev)
    report(0.4, "pathology")

    is_wm = _mask(ld.groups, "wm")
    info: dict[str, Any] = {"type": cond["pathology"]}
    if glioma:
        idx = path.glioma_labels(
            idx, x, ld.index_of, is_wm, glioma[0], glioma[1], man["pathology"]["glioma"]
        )
        info.update(centreMm=list(glioma[0]), radiusMm=glioma[1])
    elif cond["pathology"] == "ms":
        spec = man["pathology"]["ms"]
        stream = None
        if ld.sites.total > 0:
            stream = path.LesionStream(
                ld.sites,
                PointField(u, ld.model.vgrid),
                scale,
                ld.model.grid_centre_mm,
                (seed ^ MS_STREAM_XOR) & 0xFFFFFFFF,
                spec,
            )
        idx, ms_info = path.ms_lesions(
            idx,
            grid,
            stream,
            is_wm,
            float(cond["msLesionLoadMl"]),
            ld.index_of[path.MS_LESION],
            int(spec["maxLesions"]),
        )
        info.update(ms_info)
    elif cond["pathology"] == "stroke":
        key = f"{cond['strokeTerritory']}-{cond['strokeSide']}"
        code = int(man["pathology"]["stroke"]["territoryCodes"][key])
        codes = np.where(
            tflat < ld.territories.size,
            ld.territories[np.minimum(tflat, ld.territories.size - 1)],
            0,
        )
        idx, st = path.stroke(
            idx,
            grid,
            codes.astype(np.uint8),
            code,
            _mask(ld.groups, "cortex", "wm"),
            float(cond["strokeSize"]),
            ld.index_of[path.INFARCT],
        )
        info.update(territory=key, **st)
    elif cond["pathology"] == "alzheimers":
        info.update(severity=cond["adSeverity"])

    report(0.6, "contrast")
    images: dict[str, NDArray[np.float32]] = {}
    for i, c in enumerate(contrasts):
        img = _render(
            dev,
            idx,
            man["appearance"],
            c,
            float(cond["age"]),
            seed,
            is_wm,
            sigma_scale=2.0 / grid.spacing[0],
        )
        if slice_thickness_mm:
            img = anisotropic(img, grid.spacing[2], slice_thickness_mm)
        images[c] = img
        report(0.6 + 0.35 * (i + 1) / len(contrasts), f"rendered {c}")
    values = np.asarray([e["value"] for e in man["labels"]], np.int16)
    labels = values[idx]
    sidecar = {
        "conditions": cond,
        "seed": seed,
        "modelId": man["id"],
        "modelVersion": man["version"],
        "softwareVersion": __version__,
        "generator": "brainsynth.teacher",
        "device": dev,
        "resolutionMm": float(resolution_mm),
        "contrasts": list(contrasts),
        "sliceThicknessMm": slice_thickness_mm,
        "orientation": "RAS",
        "spacing": list(grid.spacing),
        "dims": list(grid.shape),
        "latents": {"z": [round(float(v), 6) for v in z], "zIcv": round(z_icv, 6)},
        "regionalVolumesMl": _volumes(ld, idx, grid),
        "pathology": info,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "generationSeconds": round(time.perf_counter() - t0, 3),
        "intendedUse": "Research and teaching. Not for diagnosis.",
    }
    report(1.0, "done")
    return GeneratedVolume(images, labels.astype(np.int16), grid.affine, sidecar)


def _atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write to a hidden temporary file beside `path`, fsync, then rename over it: readers see
    the old file or the whole new one, never a partial write. The temporary name keeps the
    suffixes because nibabel picks compression from them."""
    tmp = path.with_name(f".{uuid.uuid4().hex}{''.join(path.suffixes)}")
    try:
        write(tmp)
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _nifti(data: NDArray[Any], affine: NDArray[np.float64], descrip: str) -> nib.Nifti1Image:
    img = nib.Nifti1Image(data, affine)
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    img.header.set_xyzt_units("mm")
    img.header["descrip"] = descrip[:79].encode()
    return img


def _save_nifti(path: Path, image: nib.Nifti1Image) -> None:
    _atomic_write(path, lambda t: nib.save(image, str(t)))


def write_outputs(volume: GeneratedVolume, folder: Path, stem: str) -> list[Path]:
    """`<stem>_<contrast>.nii.gz` per contrast, `<stem>_dseg.nii.gz`, `<stem>.json` (atomic)."""
    folder.mkdir(parents=True, exist_ok=True)
    desc = f"brainsynth {volume.sidecar.get('modelId', '')} seed {volume.sidecar.get('seed', '')}"
    out: list[Path] = []
    for contrast, img in volume.images.items():
        p = folder / f"{stem}_{contrast}.nii.gz"
        _save_nifti(p, _nifti(img.astype(np.float32), volume.affine, desc))
        out.append(p)
    p = folder / f"{stem}_dseg.nii.gz"
    seg = _nifti(volume.labels.astype(np.int16), volume.affine, desc)
    seg.header.set_intent("label")  # NIFTI_INTENT_LABEL (1002), as the browser writes it
    _save_nifti(p, seg)
    out.append(p)
    p = folder / f"{stem}.json"
    _atomic_write(p, lambda t: t.write_text(json.dumps(volume.sidecar, indent=1)))
    out.append(p)
    return out

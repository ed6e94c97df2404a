"""The full-size teacher: the browser's model at 1 mm (or 2 mm), in every contrast, with labels.

Same latents, gains, deformation and lesion draws as the engine (MODEL_FORMAT.md §3-§5), so a
2 mm request reproduces the browser's brain and a 1 mm request is the same brain, finer: the
velocity field is shared, the 1 mm label template is the same groupwise average at 1 mm, and
MS lesion sites are drawn in template space with the engine's random draws, and the lesions are
rasterised on the requested grid.

`generate` runs the stages of the engine's `sample()` in order: conditions -> latents and gains
-> displacement (the `displacement` hook: exp(v) by default, as the engine's `chooseSampler`)
-> anatomy (pathology deform, template lookup) -> pathology (the registry module's plan, then
draw) -> contrast -> volumes and sidecar. No stage names a pathology: each comes from
`brainsynth.pathologies`.
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

from brainsynth import __version__, pathologies
from brainsynth.anatomy import (
    icv_scale,
    region_volumes,
    template_points,
    velocity,
    with_local_field,
)
from brainsynth.common.grid import OUTPUT_GRID, FloatArray, Grid
from brainsynth.common.warp import exp_velocity, nearest_labels
from brainsynth.folding import apply_folding, indices_of
from brainsynth.model_io import (
    gains_for,
    grid_from_json,
    latents,
    load_model,
    read_volume,
    size_latent_count,
    size_latents,
)
from brainsynth.pathologies import ModelAssets, Plan, Scene
from brainsynth.schema import CONTRASTS, validate_sidecar
from brainsynth.sizing import apply_sizing, sizing_params
from brainsynth.teacher import accel
from brainsynth.teacher.render import anisotropic, render

ProgressFn = Callable[[float, str], None]
RESOLUTIONS = (1.0, 2.0)


class GenerationError(ValueError):
    """Invalid request (conditions, seed, resolution, contrasts): the message says why."""


@dataclass
class GeneratedVolume:
    images: dict[str, NDArray[np.float32]]  # contrast -> [x, y, z] float32
    labels: NDArray[np.int16]  # [x, y, z] FreeSurfer / pathology label values
    affine: NDArray[np.float64]  # voxel -> RAS mm
    sidecar: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VelocityState:
    """What a displacement hook gets: the velocity v (step 3) and what produced it."""

    v: FloatArray  # [3, vx, vy, vz] mm
    vgrid: Grid
    z: NDArray[np.float64]
    conditions: dict[str, Any]  # complete
    gains: NDArray[np.float64]


DisplacementFn = Callable[[VelocityState], FloatArray]


def exact_displacement(state: VelocityState) -> FloatArray:
    """Step 4 as the reference computes it: u = exp(v) by scaling and squaring."""
    return exp_velocity(state.v, state.vgrid)


@dataclass
class _Loaded:
    assets: ModelAssets
    template_1mm: NDArray[np.uint8] | None
    grid_1mm: Grid | None
    depth_flat: NDArray[np.float64] | None  # corticalDepth (mm), x-fastest, + 0 for "outside"


@lru_cache(maxsize=4)
def _load(model_dir: str) -> _Loaded:
    folder = Path(model_dir)
    model, man = load_model(folder)
    t1 = man.get("teacherArrays", {}).get("templateLabels1mm")
    assets = ModelAssets(
        folder=model_dir,
        model=model,
        manifest=man,
        index_of={int(e["value"]): int(e["index"]) for e in man["labels"]},
        groups=[str(e["group"]) for e in man["labels"]],
    )
    depth = man["arrays"].get("corticalDepth") if man.get("folding") else None
    depth_flat = None
    if depth:
        d = read_volume(folder, depth).astype(np.float64) * float(depth.get("scale", 1.0))
        depth_flat = np.append(d.ravel(order="F"), 0.0)
    return _Loaded(
        assets=assets,
        template_1mm=read_volume(folder, t1).astype(np.uint8) if t1 else None,
        grid_1mm=grid_from_json(t1["grid"]) if t1 else None,
        depth_flat=depth_flat,
    )


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


def _template_flat_index(grid: Grid, p: NDArray[np.float32]) -> NDArray[np.int64]:
    """Nearest 2 mm template voxel (x-fastest flat index) of each point; N when outside."""
    q = np.floor(grid.to_voxel(p) + 0.5).astype(np.int64)
    inside = np.ones(q.shape[1:], bool)
    for a in range(3):
        inside &= (q[a] >= 0) & (q[a] < grid.shape[a])
    nx, ny, nz = grid.shape
    flat = q[0] + nx * (q[1] + ny * q[2])
    return np.where(inside, flat, nx * ny * nz)


def _check_request(
    seed: int, resolution_mm: float, contrasts: Sequence[str], device: str | None
) -> str:
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
        return accel.pick_device(device)
    except ValueError as exc:
        raise GenerationError(str(exc)) from exc


def _output_grid(ld: _Loaded, resolution_mm: float) -> tuple[Grid, NDArray[np.uint8]]:
    """The requested grid and the label template sampled on it."""
    if float(resolution_mm) == 1.0:
        if ld.template_1mm is None or ld.grid_1mm is None:
            raise GenerationError(
                f"model {ld.assets.manifest['id']} has no 1 mm template (teacherArrays)"
            )
        return ld.grid_1mm, ld.template_1mm
    return OUTPUT_GRID, ld.assets.model.template


def stage_anatomy(
    ld: _Loaded,
    scene: Scene,
    template: NDArray[np.uint8],
    xm: FloatArray,
    device: str = "numpy",
) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
    """Steps 6-7 at the (possibly deformed) output points xm: label indices on the output grid
    and the nearest 2 mm template voxel of each point (for template-space atlases)."""
    m = ld.assets.model
    if device != "numpy":
        return accel.anatomy(
            device,
            scene.u,
            m.vgrid,
            scene.grid,
            template,
            m.grid,
            scene.scale,
            m.grid_centre_mm,
            xm,
        )
    p = template_points(m, scene.u, scene.scale, xm)
    idx = nearest_labels(template, scene.grid, p).astype(np.int32)
    return idx, _template_flat_index(m.grid, p)


def stage_folding(
    ld: _Loaded, scene: Scene, idx: NDArray[np.int32]
) -> tuple[NDArray[np.int32], NDArray[np.float32] | None]:
    """Step 7b (brainsynth/folding.py): the individual sulci, on label indices, with the
    sulcal partial-volume fraction for the image; unchanged when the model has no folding."""
    params = ld.assets.manifest.get("folding")
    if not params or ld.depth_flat is None or scene.template_flat is None:
        return idx, None
    values = ld.assets.model.label_values[idx]
    folded, frac = apply_folding(
        values,
        scene.x,
        ld.depth_flat[scene.template_flat],
        scene.seed,
        params,
        ld.assets.manifest["calibration"]["gridCentreMm"],
        float(scene.grid.spacing[0]),
    )
    return indices_of(folded, ld.assets.model.label_values), frac


def stage_sizing(
    ld: _Loaded,
    cond: dict[str, Any],
    idx: NDArray[np.int32],
    z_size: float | list[float] = 0.0,
) -> tuple[NDArray[np.int32], dict[str, Any] | None]:
    """Step 7c (brainsynth/sizing.py): the small structures (hippocampus, amygdala, 3rd/4th
    ventricles, temporal horns) sized for age, sex and Alzheimer's disease, the head's layers
    for the individual (`z_size`: the size latents, `model_io.size_latents`), on label indices;
    unchanged when the model has no `sizing` (nor the legacy `horns`)."""
    params = sizing_params(ld.assets.manifest)
    if params is None:
        return idx, None
    values, info = apply_sizing(ld.assets.model.label_values[idx], params, cond, z_size)
    return indices_of(values, ld.assets.model.label_values), info


def stage_contrast(
    ld: _Loaded,
    idx: NDArray[np.int32],
    grid: Grid,
    cond: dict[str, Any],
    seed: int,
    contrasts: Sequence[str],
    slice_thickness_mm: float | None,
    device: str,
    report: ProgressFn,
    csf_fraction: NDArray[np.float32] | None = None,
) -> dict[str, NDArray[np.float32]]:
    """Step §5: one image per contrast (and the thick-slice simulation when asked)."""
    images: dict[str, NDArray[np.float32]] = {}
    is_wm = ld.assets.mask("wm")
    csf_index = ld.assets.index_of.get(24, 0)
    for i, c in enumerate(contrasts):
        app = ld.assets.manifest["appearance"]
        img = render(
            idx,
            app,
            c,
            float(cond["age"]),
            seed,
            is_wm,
            2.0 / grid.spacing[0],
            device,
            csf_fraction,
            csf_index,
            ld.assets.model.label_values,
        )
        if slice_thickness_mm:
            img = anisotropic(img, grid.spacing[2], slice_thickness_mm)
        images[c] = img
        report(0.6 + 0.35 * (i + 1) / len(contrasts), f"rendered {c}")
    return images


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
    *,
    displacement: DisplacementFn = exact_displacement,
    pathology_plan: Plan | None = None,
) -> GeneratedVolume:
    """One volume for (conditions, seed). `explicit_latents` (z, z_icv) replaces the seed's
    latents — for QA at the mean individual (z = 0) and parity checks. `device`: 'numpy' (the
    reference), 'cpu' or 'cuda' (PyTorch, teacher/accel.py), default 'auto' (CUDA if present).
    `displacement` maps the velocity to the displacement (default exp(v); e.g. a student's
    forward pass). `pathology_plan` replaces the pathology module's seeded plan (explicit
    placement, e.g. a hand-placed lesion)."""
    t0 = time.perf_counter()
    report = progress or (lambda _f, _m: None)
    dev = _check_request(seed, resolution_mm, contrasts, device)
    ld = _load(str(Path(model_dir).resolve()))
    model, man = ld.assets.model, ld.assets.manifest
    # conditions
    cond = complete_conditions(man["conditionsSchema"], conditions)
    report(0.05, "anatomy")
    # latents and gains (steps 1-2, 5)
    z, z_icv = explicit_latents if explicit_latents is not None else latents(man, seed)
    gains = gains_for(man, cond)
    scale = icv_scale(man, cond["sex"], z_icv)
    # displacement (steps 3-4)
    u = displacement(VelocityState(velocity(model, z, gains), model.vgrid, z, cond, gains))
    # step 4b: the seed's local field (none for explicit latents: they define the individual)
    u = with_local_field(model, u, None if explicit_latents is not None else seed)
    # anatomy (steps 6-7), through the pathology's deform
    grid, template = _output_grid(ld, resolution_mm)
    patho = pathologies.get(cond["pathology"])
    scene = Scene(ld.assets, cond, seed, grid, grid.world_coords(), u, scale)
    plan = pathology_plan if pathology_plan is not None else patho.plan(scene)
    deformed = patho.deform(plan, scene.x)
    xm = scene.x if deformed is None else deformed
    idx, scene.template_flat = stage_anatomy(ld, scene, template, xm, dev)
    # individual folding (step 7b), label-level sizing of the small structures (step 7c)
    idx, csf_fraction = stage_folding(ld, scene, idx)
    # the individual's size latents (zeros for explicit latents: the mean individual)
    z_sizes = (
        [0.0] * size_latent_count(man) if explicit_latents is not None else size_latents(man, seed)
    )
    idx, _sizing = stage_sizing(ld, cond, idx, z_sizes)
    report(0.4, "pathology")
    # pathology (§4)
    idx, drawn = patho.draw(scene, plan, idx)
    if csf_fraction is not None:  # a lesion drawn over folded cortex is no longer cortex
        is_cortex = np.isin(model.label_values, (3, 42))[idx]
        csf_fraction = np.where(is_cortex, csf_fraction, np.float32(0)).astype(np.float32)
        csf_fraction = patho.adjust_csf_fraction(scene, plan, csf_fraction)
    info: dict[str, Any] = {"type": cond["pathology"], **drawn}
    report(0.6, "contrast")
    # contrast (§5)
    images = stage_contrast(
        ld, idx, grid, cond, seed, contrasts, slice_thickness_mm, dev, report, csf_fraction
    )
    # volumes and sidecar (step 8)
    labels = model.label_values.astype(np.int16)[idx]
    volumes = {k: round(v, 3) for k, v in region_volumes(model, idx, grid).items()}
    sidecar = {
        "conditions": cond,
        "seed": seed,
        "modelId": man["id"],
        "modelVersion": man["version"],
        "softwareVersion": __version__,
        "generator": "brainsynth.teacher",
        # sidecar.schema.json: the processor ('cpu' | 'cuda') and the code path ('numpy' | 'torch')
        "device": "cuda" if dev.startswith("cuda") else "cpu",
        "implementation": "numpy" if dev == "numpy" else "torch",
        "sampler": "teacher",
        "resolutionMm": float(resolution_mm),
        "contrasts": list(contrasts),
        "sliceThicknessMm": slice_thickness_mm or None,
        "orientation": "RAS",
        "spacing": list(grid.spacing),
        "dims": list(grid.shape),
        "affine": [[float(v) for v in row] for row in grid.affine],
        "units": {"spacing": "mm", "volumes": "mL"},
        "latents": {
            "z": [round(float(v), 6) for v in z],
            "zIcv": round(z_icv, 6),
            "zSize": round(z_sizes[0], 6),
            "sizeLatents": [round(v, 6) for v in z_sizes],
        },
        "regionalVolumesMl": volumes,
        "pathology": info,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "generationSeconds": round(time.perf_counter() - t0, 3),
        "intendedUse": "Research and teaching. Not for diagnosis.",
    }
    validate_sidecar(sidecar)
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
    # NIFTI_INTENT_LABEL (1002) and intent_name "labels", as the browser writes it (nifti.ts)
    seg.header.set_intent("label", name="labels")
    _save_nifti(p, seg)
    out.append(p)
    p = folder / f"{stem}.json"
    _atomic_write(p, lambda t: t.write_text(json.dumps(volume.sidecar, indent=1)))
    out.append(p)
    return out

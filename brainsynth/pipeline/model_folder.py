"""Write a model folder (MODEL_FORMAT.md): manifest.json + gzipped little-endian arrays."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.common.grid import (
    OUTPUT_GRID,
    OUTPUT_GRID_1MM,
    VELOCITY_GRID,
    field_to_file_order,
    to_file_order,
)
from brainsynth.common.labels import LABEL_RANGES
from brainsynth.pathologies.glioma import OEDEMA_FACTOR as GLIOMA_OEDEMA_FACTOR
from brainsynth.pathologies.glioma import SHAPE as GLIOMA_SHAPE
from brainsynth.pipeline.labels import REGIONS, LabelEntry
from brainsynth.schema import load_conditions_schema, validate_manifest

PROVENANCE = [
    {
        "source": "SynthSeg training label maps (20 whole-head, 1 mm)",
        "licence": "Apache-2.0",
        "use": "template, shape model (aggregates only; no individual map is shipped)",
    },
    {
        "source": "NiChart DLMUSE normative centiles (ages 40-93, by sex)",
        "licence": "SBIA licence",
        "use": "calibration of age and sex effects",
    },
    {
        "source": "IXI regional volumes (181 subjects) and T1 scans (42, 2 mm) - IXI, Information "
        "eXtraction from Images, Imperial College London",
        "licence": "CC BY-SA 3.0",
        "use": "age effects below 45, ICV by sex, T1w tissue intensities; derived artifacts are "
        "shared under CC BY-SA 3.0",
    },
    {
        "source": "ICBM152 2009a nonlinear symmetric GM/WM (nilearn)",
        "licence": "McGill notice",
        "use": "affine reference space",
    },
    {
        "source": "Open MS data (Lesjak et al. 2017), 30 patients' lesion masks in MNI",
        "licence": "CC-BY",
        "use": "MS lesion probability map (smoothed average) and lesion-size distribution",
    },
    {
        "source": "Arterial territory atlas (StrokeOutcomeOptimizationProjectDemo)",
        "licence": "BSD-2",
        "use": "ACA/MCA/PCA territory map at 2 mm",
    },
]


def write_gzip(path: Path, payload: bytes) -> None:
    """A model array file: `payload` gzip-compressed (level 9) into `path`. mtime=0: identical
    artifacts for identical inputs (reproducible builds)."""
    with (
        path.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f,
    ):
        f.write(payload)


def _quantise(fields: NDArray[np.float32]) -> tuple[NDArray[np.int16], list[float]]:
    """[N, 3, x, y, z] -> int16 [N, z, y, x, 3] with a per-field scale."""
    q, scales = [], []
    for f in fields:
        s = float(np.abs(f).max()) / 32767 or 1.0
        q.append(np.round(field_to_file_order(f).astype(np.float32) / s).astype("<i2"))
        scales.append(s)
    return np.stack(q), scales


def write_model(
    out: Path,
    *,
    model_id: str,
    version: str,
    software_version: str,
    labels: list[LabelEntry],
    template: NDArray[np.uint8],
    template_1mm: NDArray[np.uint8] | None,
    components: NDArray[np.float32],
    sigma: NDArray[np.float64],
    explained: NDArray[np.float64],
    basis: NDArray[np.float32],
    calibration: dict[str, Any],
    appearance: dict[str, Any],
    ms_prior: NDArray[np.float32],
    ms_stats: dict[str, float],
    territories: NDArray[np.uint8],
    metrics: dict[str, Any],
    template_icv_ml: float,
    grid_centre: tuple[float, float, float],
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_gzip(out / "template_labels.u8.gz", to_file_order(template.astype(np.uint8)))
    qc, sc = _quantise(components)
    write_gzip(out / "shape_components.i16.gz", qc.tobytes())
    qb, sb = _quantise(basis)
    write_gzip(out / "regional_basis.i16.gz", qb.tobytes())
    write_gzip(
        out / "ms_lesion_prior.u8.gz",
        to_file_order(np.round(np.clip(ms_prior, 0, 1) * 255).astype(np.uint8)),
    )
    write_gzip(out / "territories.u8.gz", to_file_order(territories.astype(np.uint8)))
    teacher_arrays: dict[str, Any] = {}
    if template_1mm is not None:
        write_gzip(out / "template_labels_1mm.u8.gz", to_file_order(template_1mm.astype(np.uint8)))
        teacher_arrays["templateLabels1mm"] = {
            "file": "template_labels_1mm.u8.gz",
            "dtype": "uint8",
            "shape": list(OUTPUT_GRID_1MM.shape),
            "grid": OUTPUT_GRID_1MM.as_json(),
        }
    vshape = [VELOCITY_GRID.shape[2], VELOCITY_GRID.shape[1], VELOCITY_GRID.shape[0], 3]
    manifest = {
        "format": "brainsynth-model/1",
        "id": model_id,
        "version": version,
        "kind": "shape-model",
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "softwareVersion": software_version,
        "description": "Population template of 20 real label maps + PCA shape model + regional "
        "volume basis calibrated to normative centiles; MR appearance from real T1 scans and "
        "signal equations; lesions from real lesion statistics.",
        "intendedUse": "Research and teaching. Not for diagnosis.",
        "conditionsSchema": load_conditions_schema(),
        "grid": OUTPUT_GRID.as_json(),
        "velocityGrid": VELOCITY_GRID.as_json(),
        "labels": labels,
        "labelRanges": LABEL_RANGES,
        "arrays": {
            "templateLabels": {
                "file": "template_labels.u8.gz",
                "dtype": "uint8",
                "shape": list(OUTPUT_GRID.shape),
            },
            "shapeComponents": {
                "file": "shape_components.i16.gz",
                "dtype": "int16",
                "shape": [len(sc), *vshape],
                "scale": sc,
            },
            "regionalBasis": {
                "file": "regional_basis.i16.gz",
                "dtype": "int16",
                "shape": [len(sb), *vshape],
                "scale": sb,
            },
            "msLesionPrior": {
                "file": "ms_lesion_prior.u8.gz",
                "dtype": "uint8",
                "shape": list(OUTPUT_GRID.shape),
                "scale": 1 / 255,
            },
            "territories": {
                "file": "territories.u8.gz",
                "dtype": "uint8",
                "shape": list(OUTPUT_GRID.shape),
            },
        },
        # Read by the full-size teacher only; the browser never downloads these.
        "teacherArrays": teacher_arrays,
        "shapeModel": {
            "components": len(sc),
            "sigma": [float(s) for s in sigma],
            "explainedVariance": [float(e) for e in explained],
        },
        "regions": [{"name": n, "labels": labs} for n, labs in REGIONS],
        "calibration": {
            "ages": calibration["ages"],
            "gains": calibration["gains"],
            "icvMl": calibration["icvMl"],
            "icvLogSd": 0.08,
            "templateIcvMl": template_icv_ml,
            "gridCentreMm": list(grid_centre),
            "referenceAge": calibration["referenceAge"],
            "tiedRegions": calibration.get("tiedRegions", {}),
            "solveMaxLogError": calibration.get("solveMaxLogError", {}),
        },
        "pathology": {
            "alzheimers": {"gainsAtSeverity1": calibration["adGainsAtSeverity1"]},
            "ms": {
                "lesionVolumeLogMeanMl": ms_stats["lesionVolumeLogMeanMl"],
                "lesionVolumeLogSdMl": ms_stats["lesionVolumeLogSdMl"],
                "elongation": 2.0,
                "maxLesions": 200,
                "source": ms_stats,
            },
            "glioma": {
                "oedemaFactor": GLIOMA_OEDEMA_FACTOR,
                "rimFraction": 0.25,
                "necrosisFraction": 0.5,
                "massEffectDecayMm": 30,
                **GLIOMA_SHAPE,
            },
            "stroke": {
                "territoryCodes": {
                    "ACA-left": 1,
                    "ACA-right": 2,
                    "MCA-left": 3,
                    "MCA-right": 4,
                    "PCA-left": 5,
                    "PCA-right": 6,
                },
                "exVacuoGain": 0.3,
            },
        },
        "appearance": appearance,
        "provenance": PROVENANCE,
        "metrics": metrics,
    }
    validate_manifest(manifest, f"the manifest for {out}")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")

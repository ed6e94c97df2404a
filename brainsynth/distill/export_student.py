"""Write the trained student into the model folder in TensorFlow.js weights format.

`python -m brainsynth.distill.export_student --config brainsynth/distill/config.json`

Files: `<model>/student/model.json` (format, a small custom `modelTopology` — the engine
implements the forward pass itself, tf.loadLayersModel cannot run it — and `weightsManifest`)
and the binary shard `<model>/student/group1-shard1of1.bin` (little-endian; dense layers
float32, decoder fields uint8 with tfjs's `quantization: {dtype, min, scale}`, value =
q · scale + min, one entry per decoder component so each has its own scale). Then the
manifest's `student` section (architecture with the input `featureNormalisation`, data size,
training time, hardware, sizes) is set through `set_manifest_section`, which validates the
manifest against brainsynth/schema/manifest.schema.json before writing it; `evaluate` adds
the fidelity metrics the same way.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth import __version__
from brainsynth.distill.data import (
    FEATURE_NORMALISATION,
    cli,
    feature_names,
    model_fingerprint,
    weights_path,
)
from brainsynth.distill.student import Weights, n_dense
from brainsynth.paths import DISTILL_CONFIG, REPO, repo_relative
from brainsynth.paths import DISTILL_TRAIN_LOG as TRAIN_LOG
from brainsynth.schema import validate_manifest

STUDENT_DIR = "student"
SHARD = "group1-shard1of1.bin.gz"
FORMAT = "brainsynth-student/1"
QUANT_DTYPES = {"uint8": (np.uint8, 255), "uint16": (np.uint16, 65535)}


def to_planes(field: NDArray[np.float32]) -> NDArray[np.float32]:
    """[..., 3, vx, vy, vz] → [..., 3, vz, vy, vx] (component planes, x fastest)."""
    nd = field.ndim
    return np.ascontiguousarray(np.swapaxes(field, nd - 1, nd - 3))


def from_planes(field: NDArray[np.float32]) -> NDArray[np.float32]:
    return to_planes(field)  # the swap is its own inverse


def quantise(
    x: NDArray[np.float32], dtype: str
) -> tuple[NDArray[np.unsignedinteger[Any]], dict[str, Any]]:
    """tfjs affine quantisation: q = round((x − min)/scale), x ≈ q · scale + min."""
    np_dtype, top = QUANT_DTYPES[dtype]
    lo, hi = float(x.min()), float(x.max())
    scale = (hi - lo) / top if hi > lo else 1.0
    q = np.clip(np.round((x.astype(np.float64) - lo) / scale), 0, top).astype(np_dtype)
    return q, {"dtype": dtype, "min": lo, "scale": scale, "original_dtype": "float32"}


def dequantise(q: NDArray[np.generic], spec: dict[str, Any]) -> NDArray[np.float32]:
    return (q.astype(np.float32) * np.float32(spec["scale"]) + np.float32(spec["min"])).astype(
        np.float32
    )


def student_topology(weights: Weights, feats: list[str], vgrid_shape: list[int]) -> dict[str, Any]:
    n = n_dense(weights)
    m = weights["decoder/basis"].shape[0]
    layers = [
        {
            "name": f"dense{i}",
            "class": "Dense",
            "units": int(weights[f"dense{i}/kernel"].shape[1]),
            "activation": "tanh" if i < n - 1 else "linear",
            "kernel": f"dense{i}/kernel",
            "bias": f"dense{i}/bias",
        }
        for i in range(n)
    ]
    return {
        "note": "Custom topology (not a Keras model): the engine implements this forward pass "
        "itself (src/engine/student). tf.loadLayersModel cannot run it.",
        "class": "DisplacementStudent",
        "input": {
            "name": "features",
            "size": len(feats),
            "names": feats,
            "definition": "z_0..z_{K-1} (shape latents), (age - offset)/scale "
            "(featureNormalisation), 1 if male else 0, each pathology's own features in "
            "registry order (adSeverity if pathology = alzheimers else 0, strokeSize if "
            "pathology = stroke else 0), then the gains g_0..g_{R-1} of MODEL_FORMAT.md §3 "
            "step 2 when listed",
            "featureNormalisation": FEATURE_NORMALISATION,
        },
        "layers": layers,
        "decoder": {
            "components": int(m),
            "basis": [f"decoder/basis_{i}" for i in range(m)],
            "mean": "decoder/mean",
            "layout": "[3, nz, ny, nx]: component planes (dx, dy, dz in mm, RAS), x fastest",
            "velocityGridShape": vgrid_shape,
        },
        "output": "u = v + decoder/mean + sum_m a_m decoder/basis_m, a = dense layers(features): "
        "the displacement exp(v) of MODEL_FORMAT.md §3 step 4 on the velocity grid",
    }


def write_student(
    folder: Path,
    weights: Weights,
    feats: list[str],
    quant: str = "uint8",
    wide_components: int = 0,
    mean_quant: str | None = None,
) -> dict[str, Any]:
    """Write model.json + shard; return their sizes. Decoder components are quantised with
    `quant`, except the first `wide_components` (the largest, whose range sets the error) and
    the mean field (`mean_quant`), which use uint16."""
    out = folder / STUDENT_DIR
    out.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for i in range(n_dense(weights)):
        for part in ("kernel", "bias"):
            a = weights[f"dense{i}/{part}"].astype("<f4")
            entries.append({"name": f"dense{i}/{part}", "shape": list(a.shape), "dtype": "float32"})
            chunks.append(a.tobytes())
    basis = to_planes(weights["decoder/basis"])
    fields = [
        (f"decoder/basis_{i}", b, "uint16" if i < wide_components else quant)
        for i, b in enumerate(basis)
    ]
    fields.append(("decoder/mean", to_planes(weights["decoder/mean"]), mean_quant or quant))
    for name, f, dtype in fields:
        q, spec = quantise(f, dtype)
        entries.append(
            {"name": name, "shape": list(f.shape), "dtype": "float32", "quantization": spec}
        )
        chunks.append(q.astype(q.dtype.newbyteorder("<")).tobytes())
    shard = b"".join(chunks)
    vshape = [int(basis.shape[4]), int(basis.shape[3]), int(basis.shape[2])]
    model_json = {
        "format": FORMAT,
        "generatedBy": f"brainsynth.distill {__version__}",
        "convertedBy": "brainsynth.distill.export_student",
        "modelTopology": student_topology(weights, feats, vshape),
        "weightsManifest": [{"paths": [SHARD], "compression": "gzip", "weights": entries}],
    }
    # The shard is gzip-compressed (as the model's other bulk arrays, MODEL_FORMAT.md §1):
    # 2.5x smaller to download. The engine inflates it; a stock tfjs loader needs it inflated.
    _atomic_bytes(out / SHARD, gzip.compress(shard, 9, mtime=0))
    _atomic_bytes(out / "model.json", (json.dumps(model_json, indent=1) + "\n").encode())
    return {
        "modelJsonBytes": (out / "model.json").stat().st_size,
        "shardBytes": len(shard),
        "shardGzipBytes": (out / SHARD).stat().st_size,
    }


def _atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def read_student(folder: Path) -> tuple[Weights, dict[str, Any]]:
    """Read `student/model.json` + shard back (dequantised), in the numpy forward's layout."""
    out = folder / STUDENT_DIR
    mj: dict[str, Any] = json.loads((out / "model.json").read_text())
    if mj.get("format") != FORMAT:
        raise ValueError(f"{out / 'model.json'}: format {mj.get('format')!r}, expected {FORMAT}")
    raw: dict[str, NDArray[np.float32]] = {}
    for group in mj["weightsManifest"]:
        buf = b"".join(_inflate((out / p).read_bytes()) for p in group["paths"])
        off = 0
        for e in group["weights"]:
            count = int(np.prod(e["shape"])) if e["shape"] else 1
            q = e.get("quantization")
            dt = np.dtype(QUANT_DTYPES[q["dtype"]][0] if q else np.float32).newbyteorder("<")
            a = np.frombuffer(buf, dt, count, off).reshape(e["shape"])
            off += count * dt.itemsize
            raw[e["name"]] = dequantise(a, q) if q else a.astype(np.float32)
        if off != len(buf):
            raise ValueError(f"student shard has {len(buf)} bytes, manifest describes {off}")
    topo = mj["modelTopology"]
    w: Weights = {}
    for layer in topo["layers"]:
        w[f"{layer['name']}/kernel"] = raw[layer["kernel"]]
        w[f"{layer['name']}/bias"] = raw[layer["bias"]]
    w["decoder/basis"] = from_planes(np.stack([raw[n] for n in topo["decoder"]["basis"]]))
    w["decoder/mean"] = from_planes(raw[topo["decoder"]["mean"]])
    return w, mj


def _inflate(data: bytes) -> bytes:
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def set_manifest_section(folder: Path, key: str, value: Any, merge: bool = False) -> None:
    """Set (or, with merge, update) one top-level key of manifest.json, atomically."""
    path = folder / "manifest.json"
    man = json.loads(path.read_text())
    if merge and isinstance(man.get(key), dict):
        man[key] = {**man[key], **value}
    else:
        man[key] = value
    validate_manifest(man, str(path))
    _atomic_bytes(path, json.dumps(man, indent=1).encode())


def export(cfg: dict[str, Any], weights: Weights, train_log: dict[str, Any]) -> dict[str, Any]:
    folder = (REPO / cfg["data"]["modelDir"]).resolve()
    man = json.loads((folder / "manifest.json").read_text())
    k, r = int(man["shapeModel"]["components"]), len(man["regions"])
    feats = feature_names(k, r, bool(cfg["student"]["useGains"]))
    if weights["dense0/kernel"].shape[0] != len(feats):
        raise ValueError("weights do not match the feature list of this model/config")
    for stale in (folder / STUDENT_DIR).glob("group1-shard*"):
        stale.unlink()
    ex = cfg["export"]
    sizes = write_student(
        folder,
        weights,
        feats,
        ex["quantization"],
        int(ex.get("uint16Components", 0)),
        ex.get("meanQuantization"),
    )
    n = n_dense(weights)
    section = {
        "file": f"{STUDENT_DIR}/model.json",
        "format": FORMAT,
        "kind": "displacement-mlp",
        "description": "Predicts the displacement u = exp(v) of MODEL_FORMAT.md §3 step 4 in one "
        "pass: u = v + D(MLP(features)); replaces the 6 scaling-and-squaring steps.",
        "modelFingerprint": model_fingerprint(folder),
        "architecture": {
            "features": feats,
            "hidden": [int(weights[f"dense{i}/kernel"].shape[1]) for i in range(n - 1)],
            "activation": "tanh",
            "decoderComponents": int(weights["decoder/basis"].shape[0]),
            "decoderQuantization": {
                "components": ex["quantization"],
                "uint16Components": int(ex.get("uint16Components", 0)),
                "mean": ex.get("meanQuantization") or ex["quantization"],
            },
            "parameters": int(sum(v.size for v in weights.values())),
            "featureNormalisation": FEATURE_NORMALISATION,
        },
        "trainingData": {
            "pairs": train_log["data"]["train"],
            "validationPairs": train_log["data"]["val"],
            "sampling": "z ~ N(0, I); age U(20, 90); sex 50/50; pathology "
            + ", ".join(f"{p} {w:g}" for p, w in cfg["data"]["pathologyMix"].items())
            + " (adSeverity U(0, 1), strokeSize U(0.1, 1)); teacher: anatomy.velocity + "
            "warp.exp_velocity",
            "seed": cfg["data"]["seed"],
        },
        "training": {
            "framework": f"PyTorch {train_log.get('torch', '?')}",
            "seconds": train_log["seconds"]["total"],
            "hardware": train_log["hardware"],
            "validation": train_log["validation"],
            "config": repo_relative(DISTILL_CONFIG),
            "log": repo_relative(TRAIN_LOG),
        },
        "sizeBytes": sizes,
    }
    old = man.get("student") or {}
    if "metrics" in old and old.get("modelFingerprint") == section["modelFingerprint"]:
        section["metrics"] = old["metrics"]  # kept until evaluate rewrites them
    set_manifest_section(folder, "student", section)
    return section


def main() -> None:
    from brainsynth.distill.train import load_weights

    cfg, log = cli(__doc__, TRAIN_LOG)
    weights = load_weights(weights_path(cfg))
    section = export(cfg, weights, json.loads((log or TRAIN_LOG).read_text()))
    print(json.dumps(section["sizeBytes"]))


if __name__ == "__main__":
    main()

"""The BIDS derivative layout: file names, NIfTI/JSON writing (atomic), the top-level files.

    <out>/dataset_description.json   DatasetType "derivative", GeneratedBy brainsynth
    <out>/participants.tsv / .json   one row per subject: covariates + measured volumes
    <out>/dataset_spec.json          the spec (defaults filled)
    <out>/manifest.sqlite3           the manifest database (manifest.py)
    <out>/qa/                        the QA report (qa.py)
    <out>/sub-XXXXX/anat/sub-XXXXX_<contrast>.nii.gz (+ .json), sub-XXXXX_dseg.nii.gz (+ .json)
                                     (T1c: sub-XXXXX_ce-gadolinium_T1w.nii.gz, `image_name`)

Files are written under a hidden temporary name in the target folder, fsynced and renamed, so
a reader (or a restart after kill -9) sees a whole file or none. Compression is deterministic
(gzip header time 0), so the same subject regenerates to the same bytes and checksums.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from numpy.typing import NDArray

from brainsynth import __version__

BIDS_VERSION = "1.9.0"
SPEC_FILE = "dataset_spec.json"
MANIFEST_FILE = "manifest.sqlite3"
QA_DIR = "qa"
TOP_LEVEL_EXTRAS = (SPEC_FILE, MANIFEST_FILE, f"{MANIFEST_FILE}-wal", f"{MANIFEST_FILE}-shm")


@dataclass(frozen=True)
class WriteOptions:
    """How images are stored. Defaults: float32, gzip level 1 (see bench.py for the choice)."""

    image_dtype: str = "float32"  # or "int16" (scaled: scl_slope/scl_inter)
    level: int = 1  # gzip level 0-9
    compressor: str = "zlib"  # "zlib" (stdlib gzip), "isal" or "zlib-ng" when installed


def compress(raw: bytes, options: WriteOptions) -> bytes:
    """gzip bytes (header time 0, so identical input gives identical output)."""
    if options.compressor == "isal":
        from isal import igzip  # optional: python-isal

        return bytes(igzip.compress(raw, compresslevel=min(options.level, 3), mtime=0))
    if options.compressor == "zlib-ng":
        from zlib_ng import gzip_ng  # optional: zlib-ng

        return bytes(gzip_ng.compress(raw, compresslevel=options.level, mtime=0))
    return gzip.compress(raw, compresslevel=options.level, mtime=0)


def nifti_bytes(
    data: NDArray[Any], affine: NDArray[np.float64], descrip: str, dtype: str, label: bool
) -> bytes:
    """An uncompressed single-file NIfTI-1 (RAS+, sform/qform code 1, mm), as the teacher
    writes it; `label`: NIFTI_INTENT_LABEL."""
    img = nib.Nifti1Image(np.asarray(data), affine)
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    img.header.set_xyzt_units("mm")
    img.header["descrip"] = descrip[:79].encode()
    img.set_data_dtype(np.dtype(dtype))
    if label:
        img.header.set_intent("label")
    raw: bytes = img.to_bytes()
    return raw


def atomic_write(path: Path, data: bytes) -> None:
    """Hidden temporary name beside `path`, fsync, rename (then fsync the folder)."""
    tmp = path.with_name(f".{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, value: Any) -> bytes:
    data = (json.dumps(value, indent=1, allow_nan=False) + "\n").encode()
    atomic_write(path, data)
    return data


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def image_name(participant_id: str, contrast: str) -> str:
    """BIDS file name of a contrast's image: `<pid>_<contrast>.nii.gz`, with the contrast
    module's entities before the suffix (T1c -> `<pid>_ce-gadolinium_T1w.nii.gz`)."""
    from brainsynth import contrasts

    try:
        entities, suffix = contrasts.get(contrast).bids_name()
    except KeyError:
        entities, suffix = {}, contrast
    ents = "".join(f"_{k}-{v}" for k, v in entities.items())
    return f"{participant_id}{ents}_{suffix}.nii.gz"


def anat_dir(out: Path, participant_id: str) -> Path:
    return out / participant_id / "anat"


def remove_temporaries(folder: Path) -> int:
    """Hidden temporaries left by a killed writer, anywhere under `folder`."""
    n = 0
    for p in folder.rglob(".*.tmp"):
        p.unlink(missing_ok=True)
        n += 1
    return n


def dataset_description(name: str, model: dict[str, Any], spec_digest: str) -> dict[str, Any]:
    return {
        "Name": name,
        "BIDSVersion": BIDS_VERSION,
        "DatasetType": "derivative",
        "License": "CC0",
        "GeneratedBy": [
            {
                "Name": "brainsynth",
                "Version": __version__,
                "Description": (
                    f"synthetic brains from model {model.get('id')} {model.get('version')}; "
                    f"spec sha256 {spec_digest}"
                ),
            }
        ],
        "HowToAcknowledge": "Synthetic data for research and teaching. Not for diagnosis.",
    }


PARTICIPANT_COLUMNS: dict[str, dict[str, Any]] = {
    "participant_id": {"Description": "subject label (sub-<index from 1>)"},
    "age": {"Description": "age asked of the model", "Units": "year"},
    "sex": {"Description": "sex asked of the model", "Levels": {"female": "F", "male": "M"}},
    "pathology": {"Description": "pathology asked of the model"},
    "seed": {"Description": "the teacher's seed (derived from the spec seed and the index)"},
    "icv_ml": {"Description": "measured intracranial volume of the label map", "Units": "mL"},
    "lesion_ml": {
        "Description": "measured volume of all pathology labels (700-799: MS lesions, tumour, "
        "infarct)",
        "Units": "mL",
    },
}


def write_top_level(
    out: Path, name: str, model: dict[str, Any], spec_raw: dict[str, Any], digest: str
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "dataset_description.json", dataset_description(name, model, digest))
    write_json(out / SPEC_FILE, spec_raw)
    columns = dict(PARTICIPANT_COLUMNS)
    for region in model.get("regions", []):
        columns[f"vol_{_column(region['name'])}"] = {
            "Description": f"measured volume of region {region['name']}",
            "Units": "mL",
        }
    write_json(out / "participants.json", columns)
    atomic_write(
        out / ".bidsignore", ("\n".join([*TOP_LEVEL_EXTRAS, f"/{QA_DIR}"]) + "\n").encode()
    )
    readme = (
        f"# {name}\n\nSynthetic brain MRI generated by brainsynth {__version__} from model "
        f"{model.get('id')} {model.get('version')} with the spec in {SPEC_FILE}.\n"
        f"Research and teaching use only; not for diagnosis. {MANIFEST_FILE} indexes every "
        "file (covariates, checksums, measured volumes); qa/ holds the quality report.\n"
    )
    atomic_write(out / "README", readme.encode())
    labels = sorted({(int(e["value"]), str(e["name"])) for e in model.get("labels", [])})
    atomic_write(
        out / "dseg.tsv",
        ("index\tname\n" + "".join(f"{v}\t{n}\n" for v, n in labels)).encode(),
    )


def _column(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def volume_column(name: str) -> str:
    return f"vol_{_column(name)}"


def write_participants(out: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    def cell(v: Any) -> str:
        if v is None:
            return "n/a"
        if isinstance(v, float):
            return f"{v:.6g}"
        return str(v)

    text = "\t".join(columns) + "\n"
    text += "".join("\t".join(cell(r.get(c)) for c in columns) + "\n" for r in rows)
    atomic_write(out / "participants.tsv", text.encode())

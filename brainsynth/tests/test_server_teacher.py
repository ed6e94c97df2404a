"""End to end with the real teacher: a 2 mm job on the committed model, through the HTTP API and
a worker process, and its NIfTI outputs checked with nibabel."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from brainsynth.teacher.generate import generate
from brainsynth.tests.server_support import REAL_MODELS, client_for, wait_for

MODEL = REAL_MODELS / "brainsynth-shape-v1"
pytestmark = pytest.mark.skipif(not (MODEL / "manifest.json").exists(), reason="model not built")

CONDITIONS = {
    "age": 55,
    "sex": "male",
    "pathology": "glioma",
    "gliomaRadiusMm": 18,
    "gliomaCenterXMm": 30,
    "gliomaCenterYMm": 10,
    "gliomaCenterZMm": 20,
    "contrast": "FLAIR",
}


def test_real_2mm_job_end_to_end(tmp_path: Path) -> None:
    manifest = json.loads((MODEL / "manifest.json").read_text())
    grid = manifest["grid"]
    with client_for(
        tmp_path, models_dir=REAL_MODELS, generator="brainsynth.server.generation:teacher"
    ) as client:
        detail = client.get("/api/v1/models/brainsynth-shape-v1").json()
        assert detail["conditionsSchema"] == manifest["conditionsSchema"]
        body = {
            "model_id": "brainsynth-shape-v1",
            "conditions": CONDITIONS,
            "seed": 1234,
            "resolution_mm": 2,
            "contrasts": ["T1w", "FLAIR"],
        }
        r = client.post("/api/v1/jobs", json=body)
        assert r.status_code == 202, r.text
        done = wait_for(client, r.json()["id"], timeout=300)
        assert done["state"] == "succeeded", done
        files = {f["name"]: f for f in done["results"]}
        stem = "brainsynth_seed-0000001234"
        assert set(files) == {
            f"{stem}_T1w.nii.gz",
            f"{stem}_FLAIR.nii.gz",
            f"{stem}_dseg.nii.gz",
            f"{stem}.json",
        }
        local: dict[str, Path] = {}
        for name, f in files.items():
            got = client.get(f["url"])
            assert got.status_code == 200 and len(got.content) == f["size"]
            local[name] = tmp_path / name
            local[name].write_bytes(got.content)

    expected_affine = np.asarray(grid["affine"], float)
    for name in (f"{stem}_T1w.nii.gz", f"{stem}_FLAIR.nii.gz", f"{stem}_dseg.nii.gz"):
        img = nib.load(str(local[name]))
        assert img.shape == tuple(grid["shape"])
        assert np.allclose(img.affine, expected_affine)
        assert nib.aff2axcodes(img.affine) == ("R", "A", "S")
        assert int(img.header["sform_code"]) == 1 and int(img.header["qform_code"]) == 1
        assert np.allclose(img.header.get_zooms(), (2, 2, 2))
    t1 = nib.load(str(local[f"{stem}_T1w.nii.gz"]))
    assert t1.get_data_dtype() == np.float32
    data = np.asarray(t1.dataobj)
    assert np.isfinite(data).all() and data.max() > 0

    dseg = nib.load(str(local[f"{stem}_dseg.nii.gz"]))
    assert np.issubdtype(dseg.get_data_dtype(), np.integer)
    labels = np.asarray(dseg.dataobj)
    present = set(np.unique(labels).tolist())
    assert {0, 2, 41, 3, 42, 4, 43, 17, 53} <= present  # FreeSurfer brain labels
    assert {711, 712, 713} <= present  # tumour core, rim, oedema
    assert present <= {int(e["value"]) for e in manifest["labels"]}

    sidecar = json.loads(local[f"{stem}.json"].read_text())
    assert sidecar["modelId"] == "brainsynth-shape-v1"
    assert sidecar["modelVersion"] == manifest["version"]
    assert sidecar["seed"] == 1234 and sidecar["resolutionMm"] == 2.0
    assert sidecar["contrasts"] == ["T1w", "FLAIR"]
    assert {k: sidecar["conditions"][k] for k in CONDITIONS} == CONDITIONS
    assert sidecar["pathology"]["type"] == "glioma"
    assert sidecar["regionalVolumesMl"]["icv"] > 900

    # the server's volume is the teacher's volume for the same request
    direct = generate(MODEL, CONDITIONS, 1234, 2.0, ("T1w",))
    assert np.array_equal(direct.labels, labels)

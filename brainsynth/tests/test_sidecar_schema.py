"""The teacher's sidecars follow brainsynth/schema/sidecar.schema.json at 1 mm and 2 mm, with the
same key set, and its label maps carry the same NIfTI intent as the browser's (code 1002,
name "labels"). Runs on the committed model."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import nibabel as nib
import pytest

from brainsynth.schema import SIDECAR_SCHEMA_PATH, SidecarError, sidecar_errors, validate_sidecar
from brainsynth.teacher.generate import generate, write_outputs

MODEL = Path(__file__).resolve().parents[2] / "public" / "models" / "brainsynth-shape-v1"
pytestmark = pytest.mark.skipif(not (MODEL / "manifest.json").exists(), reason="model not built")
COND = {"age": 70, "sex": "male", "pathology": "ms", "msLesionLoadMl": 4, "contrast": "T1w"}
SCHEMA = json.loads(SIDECAR_SCHEMA_PATH.read_text())


def test_schema_is_valid_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[float, tuple[dict, Path]]:
    out: dict[float, tuple[dict, Path]] = {}
    for res in (2.0, 1.0):
        folder = tmp_path_factory.mktemp(f"res{res}")
        files = write_outputs(generate(MODEL, COND, 5, res, device="numpy"), folder, "s")
        side = next(f for f in files if f.suffix == ".json")
        seg = next(f for f in files if f.name.endswith("_dseg.nii.gz"))
        out[res] = (json.loads(side.read_text()), seg)
    return out


@pytest.mark.parametrize("res", [2.0, 1.0])
def test_written_sidecar_conforms(written: dict[float, tuple[dict, Path]], res: float) -> None:
    side, _ = written[res]
    assert sidecar_errors(side) == []
    assert side["resolutionMm"] == res and side["spacing"] == [res] * 3
    assert side["device"] == "cpu" and side["implementation"] == "numpy"
    assert side["sampler"] == "teacher" and side["generator"] == "brainsynth.teacher"


def test_same_key_set_at_both_resolutions(written: dict[float, tuple[dict, Path]]) -> None:
    keys = {res: set(side) for res, (side, _) in written.items()}
    assert keys[1.0] == keys[2.0]
    assert set(SCHEMA["required"]) <= keys[1.0] <= set(SCHEMA["properties"])


@pytest.mark.parametrize("res", [2.0, 1.0])
def test_label_intent_as_the_browser(written: dict[float, tuple[dict, Path]], res: float) -> None:
    hdr = nib.load(written[res][1]).header
    assert int(hdr["intent_code"]) == 1002
    assert hdr["intent_name"].tobytes().rstrip(b"\0") == b"labels"


def test_nonconforming_sidecar_names_each_reason(written: dict[float, tuple[dict, Path]]) -> None:
    bad = {**written[2.0][0], "device": "numpy", "extra": 1}
    del bad["affine"]
    errors = sidecar_errors(bad)
    assert any(e.startswith("device:") for e in errors)
    assert any("'affine' is a required property" in e for e in errors)
    assert any("'extra'" in e for e in errors)
    with pytest.raises(SidecarError, match="device"):
        validate_sidecar(bad)

import json
from pathlib import Path

import jsonschema
import pytest

from brainsynth.schema import CONDITIONS_SCHEMA_PATH as SCHEMA_PATH
from brainsynth.schema import CONTRASTS, PATHOLOGIES, load_conditions_schema, manifest_errors


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def defaults(schema: dict) -> dict:
    return {k: p["default"] for k, p in schema["properties"].items()}


def test_defaults_are_valid(schema: dict) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(defaults(schema), schema)


@pytest.mark.parametrize(
    "patch",
    [
        {"age": 200},
        {"age": 19.9},
        {"sex": "robot"},
        {"pathology": "flu"},
        {"msLesionLoadMl": -1},
        {"gliomaRadiusMm": 31},
        {"contrast": "CT"},
        {"unknown": 1},
        {"age": "45"},
    ],
)
def test_out_of_range_is_rejected(schema: dict, patch: dict) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**defaults(schema), **patch}, schema)


def test_every_property_is_ordered_and_documented(schema: dict) -> None:
    assert set(schema["x-order"]) == set(schema["properties"])
    for name, prop in schema["properties"].items():
        assert "title" in prop and "default" in prop, name
        if prop["type"] == "number":
            assert prop["minimum"] <= prop["default"] <= prop["maximum"], name


@pytest.mark.parametrize(
    "manifest",
    sorted((Path(__file__).resolve().parents[2] / "public" / "models").glob("*/manifest.json")),
)
def test_committed_manifests_follow_the_manifest_schema(manifest: Path) -> None:
    assert manifest_errors(json.loads(manifest.read_text())) == []


def test_schema_lists_are_the_conditions_schema_enums(schema: dict) -> None:
    assert list(CONTRASTS) == schema["properties"]["contrast"]["enum"]
    assert list(PATHOLOGIES) == schema["properties"]["pathology"]["enum"]
    assert load_conditions_schema() == schema

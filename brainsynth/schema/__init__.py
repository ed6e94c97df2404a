"""The contracts shared with the engine, read at runtime from the JSON Schemas in this folder.

- `conditions.schema.json`: every generation control. `CONTRASTS` and `PATHOLOGIES` are its
  `contrast` and `pathology` enums, in schema order; nothing else in Python lists them.
- `manifest.schema.json`: the model folder's manifest.json (JSON Schema 2020-12; the engine
  validates the same file with Ajv). `validate_manifest` is called by every writer of a manifest.
- `sidecar.schema.json`: the JSON sidecar next to every generated volume, one key set for the
  browser engine (2 mm) and the teacher (1 and 2 mm). `validate_sidecar` is called by the teacher.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

HERE = Path(__file__).resolve().parent
CONDITIONS_SCHEMA_PATH = HERE / "conditions.schema.json"
MANIFEST_SCHEMA_PATH = HERE / "manifest.schema.json"
SIDECAR_SCHEMA_PATH = HERE / "sidecar.schema.json"


class ManifestError(ValueError):
    """A manifest that does not follow manifest.schema.json: the message lists each reason."""


@cache  # one entry per schema file
def _read(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def load_conditions_schema() -> dict[str, Any]:
    """A fresh copy of the conditions schema (callers may embed or edit it)."""
    return copy.deepcopy(_read(CONDITIONS_SCHEMA_PATH))


def load_manifest_schema() -> dict[str, Any]:
    return copy.deepcopy(_read(MANIFEST_SCHEMA_PATH))


def _enum(name: str) -> tuple[str, ...]:
    return tuple(str(v) for v in _read(CONDITIONS_SCHEMA_PATH)["properties"][name]["enum"])


CONTRASTS: tuple[str, ...] = _enum("contrast")
PATHOLOGIES: tuple[str, ...] = _enum("pathology")


@cache
def _validator(path: Path) -> jsonschema.Draft202012Validator:
    schema = _read(path)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _errors(path: Path, document: dict[str, Any]) -> list[str]:
    """Every way `document` departs from the schema at `path` ('path: message'), sorted."""
    return sorted(
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in _validator(path).iter_errors(document)
    )


def manifest_errors(manifest: dict[str, Any]) -> list[str]:
    """Every way `manifest` departs from manifest.schema.json ('path: message'), sorted."""
    return _errors(MANIFEST_SCHEMA_PATH, manifest)


def validate_manifest(manifest: dict[str, Any], where: str = "manifest") -> None:
    """Raise ManifestError naming every reason when `manifest` does not follow the schema."""
    errors = manifest_errors(manifest)
    if errors:
        shown = "; ".join(errors[:10]) + (
            f"; ... ({len(errors)} in all)" if len(errors) > 10 else ""
        )
        raise ManifestError(f"{where} does not follow manifest.schema.json: {shown}")


class SidecarError(ValueError):
    """A sidecar that does not follow sidecar.schema.json: the message lists each reason."""


def sidecar_errors(sidecar: dict[str, Any]) -> list[str]:
    """Every way `sidecar` departs from sidecar.schema.json ('path: message'), sorted."""
    return _errors(SIDECAR_SCHEMA_PATH, sidecar)


def validate_sidecar(sidecar: dict[str, Any]) -> None:
    """Raise SidecarError naming every reason when `sidecar` does not follow the schema."""
    errors = sidecar_errors(sidecar)
    if errors:
        raise SidecarError(f"sidecar does not follow sidecar.schema.json: {'; '.join(errors)}")

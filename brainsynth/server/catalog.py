"""Model folders under `models_dir`: discovered by listing, addressed by validated ids only.

A request names a model by id; the id must match MODEL_ID_PATTERN *and* be one of the folders
found here, and only then does the server build a path from it — no request text ever reaches
the filesystem otherwise. Manifests are re-read when they change (mtime/size), so a new model
appears without a restart; an unusable manifest is skipped with its reason.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.protocols import Validator

from brainsynth.server.config import CONTRASTS, MODEL_ID_PATTERN, RESOLUTIONS_MM

MAX_MANIFEST_BYTES = 32 * 1024 * 1024
_ID = re.compile(MODEL_ID_PATTERN)


@dataclass(frozen=True)
class ModelEntry:
    id: str
    path: Path
    manifest: dict[str, Any]
    validator: Validator
    resolutions_mm: tuple[int, ...]
    contrasts: tuple[str, ...]

    @property
    def conditions_schema(self) -> dict[str, Any]:
        return dict(self.manifest["conditionsSchema"])

    def condition_errors(
        self, conditions: Any, limit: int = 50
    ) -> list[tuple[list[str | int], str, str]]:
        """(path, message, validator keyword) of every schema violation, in a stable order.
        Non-finite numbers (NaN, +-Infinity: Python's JSON parser accepts them) are violations
        too: JSON Schema's range keywords cannot see them (every comparison with NaN is false)."""
        errors = sorted(
            self.validator.iter_errors(conditions),
            key=lambda e: (list(map(str, e.path)), e.message),
        )
        out = [(list(e.path), e.message, str(e.validator)) for e in errors]
        out += [
            (path, f"{value!r} is not a finite number", "finite")
            for path, value in non_finite(conditions)
        ]
        return out[:limit]


Path_ = list[str | int]


def non_finite(value: Any, path: Path_ | None = None) -> list[tuple[Path_, Any]]:
    """(path, value) of every NaN / +-Infinity float inside a JSON-like value."""
    here = path or []
    if isinstance(value, float):
        return [] if math.isfinite(value) else [(here, value)]
    if isinstance(value, dict):
        return [hit for k, v in value.items() for hit in non_finite(v, [*here, str(k)])]
    if isinstance(value, list | tuple):
        return [hit for i, v in enumerate(value) for hit in non_finite(v, [*here, i])]
    return []


def valid_model_id(model_id: str) -> bool:
    return bool(_ID.fullmatch(model_id))


def _load(folder: Path) -> ModelEntry:
    file = folder / "manifest.json"
    if file.stat().st_size > MAX_MANIFEST_BYTES:
        raise ValueError(f"manifest.json is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        man = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"manifest.json is not valid JSON: {e}") from None
    if not isinstance(man, dict):
        raise ValueError("manifest.json is not a JSON object")
    for key in ("id", "version", "kind", "conditionsSchema"):
        if key not in man:
            raise ValueError(f"manifest.json has no '{key}'")
    if man["id"] != folder.name:
        raise ValueError(f"manifest id {man['id']!r} differs from its folder name")
    schema = man["conditionsSchema"]
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        raise ValueError("conditionsSchema is not a JSON Schema object with 'properties'")
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as e:
        raise ValueError(f"conditionsSchema is not a valid JSON Schema: {e.message}") from None
    teacher = man.get("teacherArrays") or {}
    resolutions = tuple(r for r in RESOLUTIONS_MM if r == 2 or "templateLabels1mm" in teacher)
    looks = (man.get("appearance") or {}).get("contrasts")
    contrasts = tuple(c for c in CONTRASTS if not isinstance(looks, dict) or c in looks)
    return ModelEntry(folder.name, folder, man, cls(schema), resolutions, contrasts)


class Catalog:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple[int, int], ModelEntry | str]] = {}

    def scan(self) -> tuple[dict[str, ModelEntry], dict[str, str]]:
        """(usable models by id, skipped folder -> reason)."""
        models: dict[str, ModelEntry] = {}
        skipped: dict[str, str] = {}
        try:
            folders = sorted(p for p in self.root.iterdir() if p.is_dir())
        except OSError:
            return models, skipped
        with self._lock:
            seen: set[str] = set()
            for folder in folders:
                if not valid_model_id(folder.name):
                    continue
                file = folder / "manifest.json"
                try:
                    st = file.stat()
                except OSError:
                    continue
                key = (st.st_mtime_ns, st.st_size)
                seen.add(folder.name)
                cached = self._cache.get(folder.name)
                if cached is None or cached[0] != key:
                    try:
                        value: ModelEntry | str = _load(folder)
                    except (OSError, ValueError) as e:
                        value = str(e)
                    self._cache[folder.name] = (key, value)
                    cached = self._cache[folder.name]
                entry = cached[1]
                if isinstance(entry, str):
                    skipped[folder.name] = entry
                else:
                    models[folder.name] = entry
            for gone in set(self._cache) - seen:
                del self._cache[gone]
        return models, skipped

    def get(self, model_id: str) -> ModelEntry | None:
        if not valid_model_id(model_id):
            return None
        return self.scan()[0].get(model_id)

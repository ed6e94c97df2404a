"""The committed OpenAPI document (src/backend/openapi.json, from which the browser client's
types are generated) is the app's current `app.openapi()`. Fix a failure with `npm run gen:api`."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _dump_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "dump_openapi", ROOT / "scripts" / "dump_openapi.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_openapi_is_current() -> None:
    dump = _dump_module()
    fresh = dump.render(dump.build_openapi())
    committed = dump.OPENAPI_JSON.read_text(encoding="utf-8")
    assert committed == fresh, "src/backend/openapi.json is stale: run `npm run gen:api`"

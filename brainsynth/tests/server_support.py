"""Shared pieces of the server tests: a model folder, app/client factories, polling."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from brainsynth.server.config import Settings
from brainsynth.server.main import create_app

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "brainsynth" / "schema" / "conditions.schema.json"
REAL_MODELS = ROOT / "public" / "models"
FAKE = "brainsynth.tests.server_fakes:fake"
HEALTHY = {"age": 60, "sex": "female", "pathology": "none", "contrast": "T1w"}
TERMINAL = {"succeeded", "failed", "cancelled"}


def make_models(root: Path) -> Path:
    """`tiny-v1` (a usable manifest around the real conditions schema) and two broken ones."""
    schema = json.loads(SCHEMA.read_text())
    tiny = root / "tiny-v1"
    tiny.mkdir(parents=True)
    (tiny / "manifest.json").write_text(
        json.dumps(
            {
                "format": "brainsynth-model/1",
                "id": "tiny-v1",
                "version": "0.0.1",
                "kind": "shape-model",
                "description": "test manifest",
                "conditionsSchema": schema,
                "grid": {"shape": [8, 8, 8], "spacing": [2, 2, 2], "origin": [-8, -8, -8]},
                "labels": [{"index": 0, "value": 0, "name": "Unknown"}],
                "teacherArrays": {"templateLabels1mm": {}},
                "appearance": {"contrasts": {"T1w": {}, "T2w": {}, "FLAIR": {}}},
            }
        )
    )
    (root / "broken-json").mkdir()
    (root / "broken-json" / "manifest.json").write_text("{not json")
    (root / "wrong-id").mkdir()
    (root / "wrong-id" / "manifest.json").write_text(
        json.dumps({"id": "other", "version": "1", "kind": "x", "conditionsSchema": schema})
    )
    return root


def settings_for(tmp: Path, **overrides: Any) -> Settings:
    models = tmp / "models"
    if not models.exists():
        make_models(models)
    values: dict[str, Any] = {
        "models_dir": models,
        "data_dir": tmp / "data",
        "generator": FAKE,
    }
    values.update(overrides)
    return Settings(**values)


@contextmanager
def client_for(tmp: Path, **overrides: Any) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(tmp, **overrides))) as client:
        yield client


def job_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model_id": "tiny-v1", "conditions": dict(HEALTHY), "seed": 7}
    body.update(overrides)
    return body


def wait_for(
    client: TestClient,
    job_id: str,
    states: set[str] = TERMINAL,
    timeout: float = 60,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if job["state"] in states:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['state']} after {timeout} s: {job}")
        time.sleep(0.05)

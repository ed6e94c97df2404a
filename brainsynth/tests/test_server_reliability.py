"""Reliability of the server: non-finite numbers, full disks, quotas, 405 `Allow`, what the
token guards. A full disk is simulated: free space by replacing `disk.free_bytes`, a quota by
a tiny `disk_quota_mb`, a write failing with ENOSPC by the fake generator (age 55.5), and
SQLite's "database or disk is full" by making the store's writes raise."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from brainsynth.server import disk
from brainsynth.server.jobs.store import JobStore
from brainsynth.teacher.generate import GenerationError, complete_conditions
from brainsynth.tests.server_support import HEALTHY, SCHEMA, client_for, job_body, wait_for

API = "/api/v1"
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
@pytest.mark.parametrize("field", ["age", "msLesionLoadMl"])
def test_non_finite_conditions_are_422(tmp_path: Path, literal: str, field: str) -> None:
    conditions: dict[str, Any] = {**HEALTHY, "pathology": "ms" if field != "age" else "none"}
    conditions[field] = "@"
    body = json.dumps({"model_id": "tiny-v1", "conditions": conditions}).replace('"@"', literal)
    with client_for(tmp_path) as client:
        r = client.post(f"{API}/jobs", content=body.encode(), headers=JSON)
        assert r.status_code == 422, r.text
        items = r.json()["detail"]
        assert any(
            d["loc"] == ["body", "conditions", field] and "not a finite number" in d["msg"]
            for d in items
        ), items
        assert client.get(f"{API}/jobs").json()["total"] == 0


def test_the_teacher_rejects_non_finite_conditions() -> None:
    schema = json.loads(SCHEMA.read_text())
    for value in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(GenerationError, match="not a finite number"):
            complete_conditions(schema, {**HEALTHY, "age": value})


def test_405_lists_every_method_of_the_path(tmp_path: Path) -> None:
    with client_for(tmp_path) as client:
        job = "00000000-0000-0000-0000-000000000000"
        for path, allow in [
            (f"{API}/jobs", "GET, POST"),
            (f"{API}/jobs/{job}", "DELETE, GET"),
            (f"{API}/jobs/{job}/events", "GET"),
            (f"{API}/health", "GET"),
        ]:
            r = client.request("PUT", path)
            assert r.status_code == 405 and r.headers["allow"] == allow, (path, r.headers)


def test_token_guards_the_api_but_not_its_description(tmp_path: Path) -> None:
    with client_for(tmp_path, api_token="s3cret") as client:
        assert client.get(f"{API}/models").status_code == 401
        assert client.get(f"{API}/jobs").status_code == 401
        for open_path in ("/openapi.json", "/docs", "/redoc", f"{API}/health", f"{API}/ready"):
            assert client.get(open_path).status_code == 200, open_path
        doc = client.get("/openapi.json").json()
        assert "security" in doc["paths"][f"{API}/jobs"]["post"]
    text = (Path(__file__).resolve().parents[2] / "docs" / "API.md").read_text()
    assert "`/openapi.json`, `/docs` and `/redoc` are open" in text


def test_low_free_space_refuses_jobs_with_507_and_ready_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with client_for(tmp_path, min_free_mb=100) as client:
        monkeypatch.setattr(disk, "free_bytes", lambda _p: 50 * disk.MB)
        r = client.post(f"{API}/jobs", json=job_body())
        assert r.status_code == 507 and "not enough disk space" in r.json()["detail"], r.text
        ready = client.get(f"{API}/ready")
        assert ready.status_code == 503 and ready.json()["checks"]["disk"].startswith("low disk")
        # enough for a 2 mm job but not a 1 mm batch of 64: the estimate decides
        monkeypatch.setattr(disk, "free_bytes", lambda _p: 200 * disk.MB)
        assert client.get(f"{API}/ready").status_code == 200
        big = client.post(f"{API}/jobs", json=job_body(resolution_mm=1, count=64))
        assert big.status_code == 507 and "needs up to" in big.json()["detail"]
        small = client.post(f"{API}/jobs", json=job_body())
        assert small.status_code == 202
        assert wait_for(client, small.json()["id"])["state"] == "succeeded"


def test_disk_quota_refuses_what_cannot_fit(tmp_path: Path) -> None:
    with client_for(tmp_path, disk_quota_mb=0.05) as client:  # 50 kB: the database alone
        r = client.post(f"{API}/jobs", json=job_body())
        assert r.status_code == 507 and "disk quota exceeded" in r.json()["detail"], r.text
        assert "quota" in client.get(f"{API}/ready").json()["checks"]["disk"]


def test_disk_full_while_writing_fails_the_job_with_the_reason_and_cleans_up(
    tmp_path: Path,
) -> None:
    with client_for(tmp_path) as client:
        bad = client.post(f"{API}/jobs", json=job_body(conditions={**HEALTHY, "age": 55.5}))
        failed = wait_for(client, bad.json()["id"])
        assert failed["state"] == "failed"
        assert "No space left on device" in failed["message"], failed["message"]
        assert not (tmp_path / "data" / "jobs" / failed["id"]).exists()  # partial + temporary
        good = client.post(f"{API}/jobs", json=job_body()).json()
        assert wait_for(client, good["id"])["state"] == "succeeded"  # the slot still serves
        assert client.get(f"{API}/ready").status_code == 200


def test_database_full_keeps_the_slot_alive_and_records_the_outcome_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = {"on": True}
    real_progress, real_finish = JobStore.progress, JobStore.finish

    def progress(self: JobStore, *a: Any) -> bool:
        if full["on"]:
            raise sqlite3.OperationalError("database or disk is full")
        return real_progress(self, *a)

    def finish(self: JobStore, *a: Any) -> bool:
        if full["on"]:
            raise sqlite3.OperationalError("database or disk is full")
        return real_finish(self, *a)

    monkeypatch.setattr(JobStore, "progress", progress)
    monkeypatch.setattr(JobStore, "finish", finish)
    with client_for(tmp_path) as client:
        job = client.post(f"{API}/jobs", json=job_body()).json()
        deadline = time.monotonic() + 30
        while client.get(f"{API}/ready").status_code == 200:
            assert time.monotonic() < deadline, "the outcome never went missing"
            time.sleep(0.05)
        checks = client.get(f"{API}/ready").json()["checks"]
        assert "not yet recorded" in checks["workers"]
        full["on"] = False  # space freed: the slot records the outcome and goes on
        failed = wait_for(client, job["id"])
        assert failed["state"] == "failed"
        assert "database or disk is full" in failed["message"]
        again = client.post(f"{API}/jobs", json=job_body()).json()
        assert wait_for(client, again["id"])["state"] == "succeeded"
        assert client.get(f"{API}/ready").status_code == 200


def test_submit_when_the_database_cannot_write_is_507(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def create(self: JobStore, *a: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    with client_for(tmp_path) as client:
        monkeypatch.setattr(JobStore, "create", create)
        r = client.post(f"{API}/jobs", json=job_body())
        assert r.status_code == 507 and "database or disk is full" in r.json()["detail"]
        assert client.get(f"{API}/health").status_code == 200

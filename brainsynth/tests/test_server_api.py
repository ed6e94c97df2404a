"""The HTTP API with a fake generator in real worker processes: health, models, the job
lifecycle (submit, progress, events, download, cancel), failures inside jobs, limits."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import pytest

from brainsynth.tests.server_support import HEALTHY, client_for, job_body, wait_for

API = "/api/v1"


def test_health_and_ready(tmp_path: Path) -> None:
    with client_for(tmp_path) as client:
        health = client.get(f"{API}/health")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "ok" and body["device"]
        assert body["queue_depth"] == 0 and body["running"] == 0 and body["models"] == 1
        ready = client.get(f"{API}/ready")
        assert ready.status_code == 200 and ready.json()["ready"] is True


def test_not_ready_without_models(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with client_for(tmp_path, models_dir=tmp_path / "empty") as client:
        ready = client.get(f"{API}/ready")
        assert ready.status_code == 503
        assert "no usable model" in ready.json()["checks"]["models"]


def test_models_list_and_detail(tmp_path: Path) -> None:
    with client_for(tmp_path) as client:
        listing = client.get(f"{API}/models").json()
        assert [m["id"] for m in listing["models"]] == ["tiny-v1"]
        assert listing["models"][0]["resolutions_mm"] == [1, 2]
        skipped = {s["id"]: s["reason"] for s in listing["skipped"]}
        assert "not valid JSON" in skipped["broken-json"]
        assert "differs from its folder name" in skipped["wrong-id"]
        detail = client.get(f"{API}/models/tiny-v1").json()
        assert detail["version"] == "0.0.1"
        assert detail["conditionsSchema"]["properties"]["age"]["maximum"] == 90
        for bad in ("nope", "broken-json", "Tiny-v1"):
            r = client.get(f"{API}/models/{bad}")
            assert r.status_code in (404, 422), bad
            assert r.json()["detail"]


def test_new_model_folder_appears_without_restart(tmp_path: Path) -> None:
    with client_for(tmp_path) as client:
        src = tmp_path / "models" / "tiny-v1" / "manifest.json"
        man = json.loads(src.read_text())
        man["id"] = "tiny-v2"
        (tmp_path / "models" / "tiny-v2").mkdir()
        (tmp_path / "models" / "tiny-v2" / "manifest.json").write_text(json.dumps(man))
        ids = [m["id"] for m in client.get(f"{API}/models").json()["models"]]
        assert ids == ["tiny-v1", "tiny-v2"]


def test_job_lifecycle_submit_progress_download(tmp_path: Path) -> None:
    with client_for(tmp_path) as client:
        r = client.post(f"{API}/jobs", json=job_body(seed=41, count=2, contrasts=["T1w", "FLAIR"]))
        assert r.status_code == 202, r.text
        job = r.json()
        assert r.headers["location"] == job["url"] == f"{API}/jobs/{job['id']}"
        assert job["state"] in ("queued", "running") and job["request"]["count"] == 2
        done = wait_for(client, job["id"])
        assert done["state"] == "succeeded", done
        assert done["progress"] == 1.0 and done["attempts"] == 1
        assert done["started_at"] and done["finished_at"]
        names = {f["name"] for f in done["results"]}
        for seed in (41, 42):
            stem = f"brainsynth_seed-{seed:010d}"
            assert {f"{stem}_T1w.nii.gz", f"{stem}_FLAIR.nii.gz", f"{stem}_dseg.nii.gz"} <= names
            assert f"{stem}.json" in names
        image = next(f for f in done["results"] if f["kind"] == "image")
        assert image["contrast"] in ("T1w", "FLAIR")
        got = client.get(image["url"])
        assert got.status_code == 200 and got.headers["content-type"] == "application/gzip"
        assert len(got.content) == image["size"]
        path = tmp_path / "nii.nii.gz"
        path.write_bytes(got.content)
        assert nib.load(str(path)).shape == (8, 8, 8)
        sidecar = next(f for f in done["results"] if f["kind"] == "sidecar")
        meta = client.get(sidecar["url"]).json()
        assert meta["seed"] == sidecar["seed"] and meta["conditions"] == HEALTHY
        listing = client.get(f"{API}/jobs").json()
        assert listing["total"] == 1 and listing["jobs"][0]["id"] == job["id"]


def test_contrasts_default_to_the_conditions_contrast(tmp_path: Path) -> None:
    with client_for(tmp_path) as client:
        body = job_body(conditions={**HEALTHY, "contrast": "T2w"})
        job = client.post(f"{API}/jobs", json=body).json()
        assert job["request"]["contrasts"] == ["T2w"]
        done = wait_for(client, job["id"])
        assert {f["contrast"] for f in done["results"] if f["kind"] == "image"} == {"T2w"}


def test_events_stream_progress_then_final_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRAINSYNTH_FAKE_DELAY_S", "0.05")
    with client_for(tmp_path) as client:
        job = client.post(f"{API}/jobs", json=job_body(count=2)).json()
        events: list[tuple[str, dict]] = []
        with client.stream("GET", job["events_url"]) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            name = ""
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    events.append((name, json.loads(line[6:])))
        assert events[-1][0] == "end" and events[-1][1]["state"] == "succeeded"
        progress = [e for n, e in events if n == "progress"]
        assert len(progress) >= 3
        running = [e["progress"] for e in progress if e["state"] == "running"]
        assert running == sorted(running) and 0 < max(running) < 1
        assert any("volume 2/2" in e["message"] for e in progress)
        # a finished job's stream is just its final state
        with client.stream("GET", job["events_url"]) as stream:
            text = stream.read().decode()
        assert text.count("event: end") == 1 and "event: progress" not in text


def test_pagination_and_state_filter(tmp_path: Path) -> None:
    with client_for(tmp_path) as client:
        ids = [client.post(f"{API}/jobs", json=job_body(seed=s)).json()["id"] for s in range(5)]
        for job_id in ids:
            wait_for(client, job_id)
        page = client.get(f"{API}/jobs", params={"limit": 2, "offset": 1}).json()
        assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
        assert [j["id"] for j in page["jobs"]] == [ids[3], ids[2]]
        assert client.get(f"{API}/jobs", params={"state": "succeeded"}).json()["total"] == 5
        assert client.get(f"{API}/jobs", params={"state": "failed"}).json()["total"] == 0


def test_cancel_queued_and_running_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAINSYNTH_FAKE_DELAY_S", "0.5")
    with client_for(tmp_path) as client:
        first = client.post(f"{API}/jobs", json=job_body(count=3)).json()
        second = client.post(f"{API}/jobs", json=job_body()).json()
        wait_for(client, first["id"], {"running"})
        assert client.get(second["url"]).json()["queue_position"] == 1
        r = client.delete(second["url"])
        assert r.status_code == 200 and r.json()["state"] == "cancelled"
        r = client.delete(first["url"])
        assert r.status_code == 200 and r.json()["state"] == "cancelled"
        assert wait_for(client, first["id"])["state"] == "cancelled"
        again = client.delete(first["url"])
        assert again.status_code == 409 and "already finished" in again.json()["detail"]
        # the slot recovers: the next job runs in a fresh worker process
        monkeypatch.setenv("BRAINSYNTH_FAKE_DELAY_S", "0")
        third = client.post(f"{API}/jobs", json=job_body()).json()
        assert wait_for(client, third["id"])["state"] == "succeeded"


@pytest.mark.parametrize(
    ("age", "message"),
    [
        (66.6, "the fake generator refuses age 66.6"),
        (77.7, "ZeroDivisionError: division by zero"),
        (88.8, "worker process exited unexpectedly (exit code 7)"),
    ],
)
def test_failures_inside_a_job_fail_only_that_job(tmp_path: Path, age: float, message: str) -> None:
    with client_for(tmp_path) as client:
        bad = client.post(f"{API}/jobs", json=job_body(conditions={**HEALTHY, "age": age}))
        assert bad.status_code == 202
        failed = wait_for(client, bad.json()["id"])
        assert failed["state"] == "failed" and message in failed["message"]
        good = client.post(f"{API}/jobs", json=job_body()).json()
        assert wait_for(client, good["id"])["state"] == "succeeded"
        assert client.get(f"{API}/health").status_code == 200


def test_generator_that_cannot_load_fails_jobs_clearly(tmp_path: Path) -> None:
    with client_for(tmp_path, generator="brainsynth.tests.server_fakes:broken") as client:
        job = client.post(f"{API}/jobs", json=job_body()).json()
        failed = wait_for(client, job["id"])
        assert failed["state"] == "failed"
        assert "cannot load generator" in failed["message"]
        assert "dependencies are missing" in failed["message"]


def test_queue_bound_answers_429_with_retry_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRAINSYNTH_FAKE_DELAY_S", "1")
    with client_for(tmp_path, max_queued_jobs=2) as client:
        codes = [client.post(f"{API}/jobs", json=job_body(seed=s)).status_code for s in range(5)]
        assert codes.count(202) in (2, 3) and codes[-1] == 429
        r = client.post(f"{API}/jobs", json=job_body())
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1 and "queue full" in r.json()["detail"]
        assert client.get(f"{API}/health").json()["queue_depth"] == 2


def test_job_timeout_fails_the_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAINSYNTH_FAKE_DELAY_S", "1")
    with client_for(tmp_path, job_timeout_s=1.5) as client:
        job = client.post(f"{API}/jobs", json=job_body()).json()
        failed = wait_for(client, job["id"])
        assert failed["state"] == "failed" and "timed out" in failed["message"]


def test_bearer_token(tmp_path: Path) -> None:
    with client_for(tmp_path, api_token="s3cret") as client:
        assert client.get(f"{API}/health").status_code == 200  # probes stay open
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
            r = client.post(f"{API}/jobs", json=job_body(), headers=headers)
            assert r.status_code == 401 and "bearer token" in r.json()["detail"]
            assert r.headers["www-authenticate"] == "Bearer"
            assert client.get(f"{API}/jobs", headers=headers).status_code == 401
            assert client.get(f"{API}/models", headers=headers).status_code == 401
        ok = {"Authorization": "Bearer s3cret"}
        r = client.post(f"{API}/jobs", json=job_body(), headers=ok)
        assert r.status_code == 202
        assert wait_for(client, r.json()["id"], headers=ok)["state"] == "succeeded"


def test_cors_allows_the_dev_server_only(tmp_path: Path) -> None:
    with client_for(tmp_path) as client:
        pre = {"Access-Control-Request-Method": "POST"}
        ok = client.options(f"{API}/jobs", headers={"Origin": "http://127.0.0.1:5173", **pre})
        assert ok.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"
        bad = client.options(f"{API}/jobs", headers={"Origin": "http://evil.example", **pre})
        assert "access-control-allow-origin" not in bad.headers


def test_openapi_shows_configured_limits(tmp_path: Path) -> None:
    with client_for(tmp_path, max_batch_count=8, allowed_resolutions_mm=[2]) as client:
        doc = client.get("/openapi.json").json()
        props = doc["components"]["schemas"]["JobRequest"]["properties"]
        assert props["count"]["maximum"] == 8 and props["resolution_mm"]["enum"] == [2]
        assert client.get("/docs").status_code == 200
        r = client.post(f"{API}/jobs", json=job_body(resolution_mm=1))
        assert r.status_code == 422 and "allows [2] mm" in r.text


def test_finished_jobs_are_pruned_beyond_retention(tmp_path: Path) -> None:
    with client_for(tmp_path, retain_jobs=10) as client:
        ids = []
        for s in range(12):
            ids.append(client.post(f"{API}/jobs", json=job_body(seed=s)).json()["id"])
            wait_for(client, ids[-1])
        assert client.get(f"{API}/jobs").json()["total"] == 10
        assert client.get(f"{API}/jobs/{ids[0]}").status_code == 404
        assert not (tmp_path / "data" / "jobs" / ids[0]).exists()
        assert (tmp_path / "data" / "jobs" / ids[-1]).exists()


def test_second_server_on_the_same_data_dir_refuses(tmp_path: Path) -> None:
    with client_for(tmp_path), pytest.raises(RuntimeError, match="another server"):
        with client_for(tmp_path):
            pass


def test_health_reports_the_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from brainsynth.server.routes.health import device_name

    monkeypatch.setenv("BRAINSYNTH_DEVICE", "NVIDIA Test GPU")
    device_name.cache_clear()
    try:
        with client_for(tmp_path) as client:
            assert client.get(f"{API}/health").json()["device"] == "NVIDIA Test GPU"
    finally:
        device_name.cache_clear()

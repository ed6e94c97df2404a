"""Datasets through the API: order (422 with every reason, 507 when it cannot fit), follow
(poll and SSE, with rate), query the manifest, download files, cancel."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from brainsynth.server import disk
from brainsynth.tests.datasets_support import small_spec
from brainsynth.tests.server_support import REAL_MODELS, client_for

API = "/api/v1/datasets"


def wait_done(client: TestClient, url: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        ds = client.get(url).json()
        if ds["state"] in ("succeeded", "failed", "cancelled"):
            return ds
        assert time.monotonic() < deadline, ds
        time.sleep(0.2)


def test_order_follow_query_download(tmp_path: Path) -> None:
    with client_for(tmp_path, models_dir=REAL_MODELS) as client:
        bad = client.post(API, json={"count": 0, "seed": 1, "femaleFraction": 2, "model": "x y"})
        assert bad.status_code == 422
        msgs = " | ".join(d["msg"] for d in bad.json()["detail"])
        assert "count: 0 is less than the minimum of 1" in msgs and "femaleFraction" in msgs
        nan = client.post(
            API,
            content=b'{"count": 2, "seed": 1, "femaleFraction": NaN}',
            headers={"content-type": "application/json"},
        )
        assert nan.status_code == 422 and "not a finite number" in nan.text
        schema = client.get("/api/v1/dataset-spec-schema").json()
        assert schema["title"] == "BrainSynth dataset spec"

        r = client.post(API, json=small_spec(count=2, contrasts=["T1w"]))
        assert r.status_code == 202, r.text
        url = r.headers["location"]
        with client.stream("GET", f"{url}/events") as events:
            text = "".join(events.iter_text())
        assert "event: progress" in text and "event: end" in text
        ds = wait_done(client, url)
        assert ds["state"] == "succeeded" and ds["done"] == 2, ds
        assert ds["rate_per_h"] and ds["rate_per_h"] > 0
        assert client.get(API).json()["datasets"][0]["id"] == ds["id"]

        page = client.get(f"{url}/subjects", params={"where": ["sex=female"]}).json()
        assert page["total"] == len(page["subjects"]) >= 1
        assert all(s["sex"] == "female" for s in page["subjects"])
        assert client.get(f"{url}/subjects", params={"where": ["nope>1"]}).status_code == 422
        assert client.get(f"{url}/subjects", params={"where": ["age>"]}).status_code == 422

        qa = client.get(ds["qa_report_url"])
        assert qa.status_code == 200 and "<img" in qa.text
        img = client.get(f"{url}/files/sub-00001/anat/sub-00001_T1w.nii.gz")
        assert img.status_code == 200 and img.content[:2] == b"\x1f\x8b"
        assert client.get(f"{url}/files/participants.tsv").text.startswith("participant_id")
        for bad_path in ("manifest.sqlite3", "../state.json", "sub-00001/../../state.json", "x"):
            assert client.get(f"{url}/files/{bad_path}").status_code == 404, bad_path
        assert client.delete(url).status_code == 409
        assert client.get(f"{API}/00000000-0000-0000-0000-000000000000").status_code == 404


def test_what_cannot_fit_is_507(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with client_for(tmp_path, models_dir=REAL_MODELS) as client:
        r = client.post(API, json=small_spec(count=100, resolutionMm=1, quotaMb=50))
        assert r.status_code == 507 and "more than its quotaMb" in r.json()["detail"]
        monkeypatch.setattr(disk, "free_bytes", lambda _p: 600 * disk.MB)
        r = client.post(API, json=small_spec(count=1000, resolutionMm=1))
        assert r.status_code == 507 and "not enough disk space" in r.json()["detail"]
        assert client.get(API).json()["datasets"] == []


def test_cancel_a_running_dataset(tmp_path: Path) -> None:
    with client_for(tmp_path, models_dir=REAL_MODELS) as client:
        url = client.post(API, json=small_spec(count=50, contrasts=["T1w"])).headers["location"]
        deadline = time.monotonic() + 60
        while client.get(url).json()["state"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        r = client.delete(url)
        assert r.status_code == 200 and r.json()["state"] == "cancelled"

"""Every malformed or out-of-range request is a 4xx with a clear JSON detail (never a 5xx),
and nothing from a request reaches the filesystem."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from brainsynth.tests.server_support import HEALTHY, client_for, job_body, wait_for

API = "/api/v1"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with client_for(tmp_path_factory.mktemp("validation"), max_queued_jobs=1000) as c:
        yield c


def reasons(response: Any) -> str:
    detail = response.json()["detail"]
    return (
        detail
        if isinstance(detail, str)
        else " | ".join(f"{'/'.join(map(str, d['loc']))}: {d['msg']}" for d in detail)
    )


BAD_BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("unknown model", job_body(model_id="nope"), "unknown model 'nope'"),
    ("traversal model id", job_body(model_id="../etc"), "body/model_id"),
    ("absolute model id", job_body(model_id="/etc/passwd"), "body/model_id"),
    ("model id too long", job_body(model_id="a" * 65), "body/model_id"),
    ("age too high", job_body(conditions={**HEALTHY, "age": 150}), "150 is greater than"),
    ("age too low", job_body(conditions={**HEALTHY, "age": 19.9}), "less than the minimum"),
    ("age not a number", job_body(conditions={**HEALTHY, "age": "old"}), "conditions/age"),
    ("unknown sex", job_body(conditions={**HEALTHY, "sex": "x"}), "conditions/sex"),
    ("unknown condition", job_body(conditions={**HEALTHY, "iq": 3}), "'iq' was unexpected"),
    ("missing condition", job_body(conditions={"age": 40}), "'sex' is a required property"),
    ("conditions not object", job_body(conditions=[1, 2]), "body/conditions"),
    ("unknown contrast", job_body(contrasts=["T1w", "PD"]), "body/contrasts"),
    ("duplicate contrasts", job_body(contrasts=["T1w", "T1w"]), "must not repeat"),
    ("empty contrasts", job_body(contrasts=[]), "body/contrasts"),
    ("count 0", job_body(count=0), "body/count"),
    ("count too large", job_body(count=65), "count must be at most 64"),
    ("count huge", job_body(count=10**12), "body/count"),
    ("resolution 3", job_body(resolution_mm=3), "body/resolution_mm"),
    ("resolution text", job_body(resolution_mm="2mm"), "body/resolution_mm"),
    ("resolution true", job_body(resolution_mm=True), "body/resolution_mm"),
    ("seed -1", job_body(seed=-1), "body/seed"),
    ("seed false", job_body(seed=False), "body/seed"),
    ("seed string", job_body(seed="7"), "body/seed"),
    ("count string", job_body(count="2"), "body/count"),
    ("seed too large", job_body(seed=2**32), "body/seed"),
    ("seed float", job_body(seed=1.5), "body/seed"),
    ("seed range overflow", job_body(seed=2**32 - 2, count=3), "seed + count - 1"),
    ("extra field", {**job_body(), "priority": 9}, "body/priority"),
    ("missing model", {"conditions": HEALTHY}, "body/model_id"),
]


@pytest.mark.parametrize(("name", "body", "reason"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_job_bodies_are_422_with_reason(
    client: TestClient, name: str, body: dict[str, Any], reason: str
) -> None:
    r = client.post(f"{API}/jobs", json=body)
    assert r.status_code == 422, (name, r.text)
    assert reason in reasons(r), reasons(r)


def test_every_reason_is_listed_at_once(client: TestClient) -> None:
    body = job_body(
        conditions={"age": 150, "sex": "x", "pathology": "none", "contrast": "T1w"},
        contrasts=["T1w", "T1w"],
        count=0,
        resolution_mm=3,
    )
    text = reasons(client.post(f"{API}/jobs", json=body))
    for part in ("conditions/age", "conditions/sex", "contrasts", "count", "resolution_mm"):
        assert part in text, text


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"{not json", {"Content-Type": "application/json"}),
        (b"", {"Content-Type": "application/json"}),
        (b"[]", {"Content-Type": "application/json"}),
        (b'"text"', {"Content-Type": "application/json"}),
        (b"model_id=tiny-v1", {"Content-Type": "application/x-www-form-urlencoded"}),
        (b"\xff\xfe\x00", {"Content-Type": "application/json"}),
    ],
)
def test_malformed_bodies_are_4xx(client: TestClient, content: bytes, headers: dict) -> None:
    r = client.post(f"{API}/jobs", content=content, headers=headers)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["detail"]


def test_oversize_body_is_413(client: TestClient) -> None:
    body = job_body(conditions={**HEALTHY, "padding": "x" * 70_000})
    r = client.post(f"{API}/jobs", json=body)
    assert r.status_code == 413 and "larger than 65536" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit still holds
        yield b'{"model_id": "tiny-v1", "conditions": {"pad": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}}'

    r = client.post(f"{API}/jobs", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize(
    "path",
    [
        "/jobs/not-a-uuid",
        "/jobs/../etc/passwd",
        "/jobs/%2e%2e%2fetc",
        "/jobs/00000000-0000-0000-0000-000000000000",
        "/jobs/00000000-0000-0000-0000-000000000000/events",
        "/jobs/00000000-0000-0000-0000-000000000000/files/x.json",
        "/models/..",
        "/models/%2e%2e%2fetc",
        "/models/..%2F..%2Fetc%2Fpasswd",
        "/models/UPPER",
        "/nothing-here",
    ],
)
def test_unknown_or_malformed_ids_are_4xx(client: TestClient, path: str) -> None:
    r = client.get(API + path)
    assert r.status_code in (404, 422), (path, r.status_code, r.text)
    assert r.json()["detail"]


def test_list_parameters_are_checked(client: TestClient) -> None:
    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"state": "weird"}):
        assert client.get(f"{API}/jobs", params=params).status_code == 422, params


def test_unknown_method_is_405(client: TestClient) -> None:
    assert client.put(f"{API}/jobs", json={}).status_code == 405


def test_file_names_must_be_recorded_results(client: TestClient, tmp_path: Path) -> None:
    job = client.post(f"{API}/jobs", json=job_body()).json()
    done = wait_for(client, job["id"])
    assert done["state"] == "succeeded"
    base = f"{API}/jobs/{job['id']}/files"
    real = done["results"][0]["name"]
    for name in (
        "jobs.sqlite3",
        "..%2F..%2Fjobs.sqlite3",
        "%2e%2e",
        real.upper(),
        real + ".bak",
        " " + real,
        "x" * 300,
    ):
        r = client.get(f"{base}/{name}")
        assert r.status_code in (404, 422), (name, r.status_code)
    assert client.get(f"{base}/{real}").status_code == 200

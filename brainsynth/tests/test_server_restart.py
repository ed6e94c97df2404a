"""A restart loses nothing: jobs left running by a killed server are re-queued (or failed after
repeated interruptions), queued jobs resume, finished volumes of a batch are kept."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from brainsynth.server.generation import stem_for
from brainsynth.server.jobs.store import JobStore
from brainsynth.teacher.generate import write_outputs
from brainsynth.tests import server_fakes
from brainsynth.tests.server_support import (
    FAKE,
    ROOT,
    client_for,
    job_body,
    make_models,
    settings_for,
    wait_for,
)

API = "/api/v1"


def _request(seed: int = 7, count: int = 1) -> dict:
    body = job_body(seed=seed, count=count)
    return {**body, "resolution_mm": 2, "contrasts": ["T1w"], "count": count}


def test_running_and_queued_jobs_resume_after_a_crash(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    store = JobStore(settings.db_path)
    interrupted = store.create(_request(1), 10)
    assert interrupted is not None and store.claim_next() is not None  # "running" when killed
    waiting = store.create(_request(2), 10)
    assert waiting is not None
    store.close()

    with client_for(tmp_path) as client:
        for job_id, attempts in ((interrupted.id, 2), (waiting.id, 1)):
            done = wait_for(client, job_id)
            assert done["state"] == "succeeded", done
            assert done["attempts"] == attempts


def test_a_job_interrupted_too_often_fails_with_a_reason(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, max_attempts=2)
    store = JobStore(settings.db_path)
    job = store.create(_request(), 10)
    assert job is not None
    for _ in range(2):  # started twice, the server died both times
        assert store.claim_next() is not None
        store.recover(max_attempts=99)
    assert store.claim_next() is not None
    store.close()
    with client_for(tmp_path, max_attempts=2) as client:
        failed = client.get(f"{API}/jobs/{job.id}").json()
        assert failed["state"] == "failed"
        assert "interrupted 3 times" in failed["message"]


def test_finished_volumes_of_a_batch_are_kept(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    store = JobStore(settings.db_path)
    job = store.create(_request(seed=100, count=3), 10)
    assert job is not None and store.claim_next() is not None
    # the first volume was written and recorded before the crash
    folder = settings.jobs_dir / job.id
    volume = server_fakes._volume({}, 100, ["T1w"], 2.0)
    paths = write_outputs(volume, folder, stem_for(100))
    store.add_results(
        job.id,
        [{"name": p.name, "size": p.stat().st_size, "seed": 100, "kind": "other"} for p in paths]
        + [{"name": paths[-1].name, "size": 1, "seed": 100, "kind": "sidecar"}],
    )
    (folder / ".half-written.nii.gz").write_bytes(b"partial")
    before = {p.name: p.stat().st_mtime_ns for p in paths}
    store.close()

    with client_for(tmp_path) as client:
        done = wait_for(client, job.id)
    assert done["state"] == "succeeded"
    assert {r["seed"] for r in done["results"]} == {100, 101, 102}
    assert {p.name: p.stat().st_mtime_ns for p in paths} == before  # not generated again
    assert not (folder / ".half-written.nii.gz").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(tmp_path: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "BRAINSYNTH_GENERATOR": FAKE,
        "BRAINSYNTH_FAKE_DELAY_S": "0.3",  # 1.5 s per volume
        "PYTHONPATH": str(ROOT),
    }
    log = open(tmp_path / f"server-{time.time_ns()}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "brainsynth.server",
            "--port",
            str(port),
            "--models-dir",
            str(tmp_path / "models"),
            "--data-dir",
            str(tmp_path / "data"),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{API}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((tmp_path / log.name).read_text())
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        log.close()


def _poll(base: str, job_id: str, until: object, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = httpx.get(f"{base}/jobs/{job_id}", timeout=5).json()
        if until(job):  # type: ignore[operator]
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def _workers_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid,ppid,args"], capture_output=True, text=True).stdout
    return [
        int(line.split()[0])
        for line in out.splitlines()[1:]
        if "brainsynth.server.jobs.child" in line and f" {pid} " in f" {line} "
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_kill_9_then_restart_completes_the_jobs(tmp_path: Path) -> None:
    make_models(tmp_path / "models")
    port = _free_port()
    base = f"http://127.0.0.1:{port}{API}"
    with _server(tmp_path, port) as proc:
        batch = httpx.post(f"{base}/jobs", json=job_body(seed=5, count=3)).json()
        later = httpx.post(f"{base}/jobs", json=job_body(seed=9)).json()
        # kill -9 once the first volume is on disk and the second is being generated
        _poll(base, batch["id"], lambda j: len({r["seed"] for r in j["results"]}) >= 1)
        workers = _workers_of(proc.pid)
        assert workers, "no worker process found"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    # the orphaned worker notices and stops (it must not write into the re-queued job)
    deadline = time.monotonic() + 10
    while any(os.path.exists(f"/proc/{w}") for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(os.path.exists(f"/proc/{w}") for w in workers)

    with _server(tmp_path, port):
        done = _poll(base, batch["id"], lambda j: j["state"] in ("succeeded", "failed"))
        assert done["state"] == "succeeded", done
        assert done["attempts"] == 2
        assert sorted({r["seed"] for r in done["results"]}) == [5, 6, 7]
        assert len(done["results"]) == 9  # per seed: T1w, dseg, sidecar
        for r in done["results"]:
            got = httpx.get(f"http://127.0.0.1:{port}{r['url']}")
            assert got.status_code == 200 and len(got.content) == r["size"]
        second = _poll(base, later["id"], lambda j: j["state"] == "succeeded")
        assert second["attempts"] == 1


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_graceful_stop_requeues_the_running_job(tmp_path: Path) -> None:
    make_models(tmp_path / "models")
    port = _free_port()
    base = f"http://127.0.0.1:{port}{API}"
    with _server(tmp_path, port) as proc:
        job = httpx.post(f"{base}/jobs", json=job_body(count=2)).json()
        _poll(base, job["id"], lambda j: j["state"] == "running")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal on exit
    with _server(tmp_path, port):
        done = _poll(base, job["id"], lambda j: j["state"] == "succeeded")
        assert done["attempts"] == 1  # a clean stop does not count as an attempt

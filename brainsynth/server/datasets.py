"""Dataset runs ordered through the API: each runs as its own process
(`python -m brainsynth.datasets run`), which is resumable, so a run interrupted by a server
restart simply starts again and continues where it stopped.

State lives in files (one folder per dataset under `<data-dir>/datasets/<id>/`: `request.json`,
`state.json`, `run.log`, the dataset in `bids/`); progress is read from the dataset's own
manifest database. One dataset runs at a time (they use every core); the others wait.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brainsynth.datasets import bids
from brainsynth.datasets.manifest import Manifest

log = logging.getLogger("brainsynth.server.datasets")
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
POLL_S = 0.5


@dataclass
class DatasetRecord:
    id: str
    state: str
    message: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    attempts: int
    spec: dict[str, Any]
    estimated_bytes: int

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _atomic_json(path: Path, value: Any) -> None:
    tmp = path.with_name(f".{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(value))
    os.replace(tmp, path)


class DatasetRunner:
    def __init__(self, root: Path, models_dir: Path, max_attempts: int = 3) -> None:
        self.root = root
        self.models_dir = models_dir
        self.max_attempts = max_attempts
        self._lock = threading.RLock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._running: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="datasets")

    # -- records ---------------------------------------------------------------------------
    def folder(self, dataset_id: str) -> Path:
        return self.root / dataset_id

    def bids_dir(self, dataset_id: str) -> Path:
        return self.folder(dataset_id) / "bids"

    def get(self, dataset_id: str) -> DatasetRecord | None:
        try:
            value = json.loads((self.folder(dataset_id) / "state.json").read_text())
        except (OSError, ValueError):
            return None
        return DatasetRecord(**value)

    def _save(self, rec: DatasetRecord) -> None:
        _atomic_json(self.folder(rec.id) / "state.json", rec.to_json())

    def all(self) -> list[DatasetRecord]:
        if not self.root.is_dir():
            return []
        recs = [self.get(p.name) for p in self.root.iterdir() if p.is_dir()]
        return sorted((r for r in recs if r), key=lambda r: r.created_at, reverse=True)

    def create(self, spec_raw: dict[str, Any], estimated_bytes: int) -> DatasetRecord:
        rec = DatasetRecord(
            id=str(uuid.uuid4()),
            state="queued",
            message="waiting for the dataset runner",
            created_at=time.time(),
            started_at=None,
            finished_at=None,
            attempts=0,
            spec=spec_raw,
            estimated_bytes=estimated_bytes,
        )
        folder = self.folder(rec.id)
        folder.mkdir(parents=True)
        try:
            _atomic_json(folder / "request.json", spec_raw)
            self._save(rec)
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return rec

    def cancel(self, dataset_id: str) -> DatasetRecord | None:
        with self._lock:
            rec = self.get(dataset_id)
            if rec is None or rec.state in TERMINAL:
                return rec
            if self._running == dataset_id and self._proc is not None:
                self._proc.kill()
                self._proc.wait(10)
                self._proc, self._running = None, None
            rec.state, rec.message, rec.finished_at = (
                "cancelled",
                "cancelled on request",
                time.time(),
            )
            self._save(rec)
            return rec

    def progress(self, dataset_id: str) -> dict[str, Any]:
        """Subjects done (from the manifest), rate and ETA."""
        db = self.bids_dir(dataset_id) / bids.MANIFEST_FILE
        if not db.exists():
            return {"done": 0, "rate_per_h": None}
        m = Manifest(db)
        try:
            rate = m.get_meta("rate_per_h")
            return {
                "done": m.count(),
                "rate_per_h": float(rate) if rate else None,
                "qa_report": m.get_meta("qa_report"),
                "qa_json": m.get_meta("qa_json"),
            }
        finally:
            m.close()

    # -- the run loop ----------------------------------------------------------------------
    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for rec in self.all():  # the server stopped under these: they resume
            if rec.state == "running":
                rec.state, rec.message = "queued", "re-queued after a server restart"
                self._save(rec)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait(10)
            if self._running:
                rec = self.get(self._running)
                if rec is not None and rec.state == "running":
                    rec.state, rec.message = "queued", "re-queued: the server stopped while it ran"
                    self._save(rec)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self._step()
            except Exception:  # noqa: BLE001 - the loop must keep running
                log.exception("dataset runner step failed")

    def _step(self) -> None:
        with self._lock:
            if self._proc is not None:
                code = self._proc.poll()
                if code is None:
                    return
                self._finished(code)
            queued = [r for r in self.all() if r.state == "queued"]
            if queued:
                self._launch(min(queued, key=lambda r: r.created_at))

    def _launch(self, rec: DatasetRecord) -> None:
        folder = self.folder(rec.id)
        if rec.attempts >= self.max_attempts:
            rec.state, rec.finished_at = "failed", time.time()
            rec.message = f"interrupted {rec.attempts} times; not retried again"
            self._save(rec)
            return
        cmd = [
            sys.executable, "-m", "brainsynth.datasets", "--models-dir",
            str(self.models_dir.resolve()), "run", str(folder / "request.json"),
            "--out", str(self.bids_dir(rec.id)), "--parent-pid", str(os.getpid()),
        ]  # fmt: skip
        log_file = open(folder / "run.log", "ab")  # noqa: SIM115 - the child holds it
        try:
            self._proc = subprocess.Popen(
                cmd, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        finally:
            log_file.close()
        self._running = rec.id
        rec.state, rec.attempts, rec.message = "running", rec.attempts + 1, "running"
        rec.started_at = rec.started_at or time.time()
        self._save(rec)

    def _finished(self, code: int) -> None:
        assert self._running is not None
        rec = self.get(self._running)
        self._proc, running = None, self._running
        self._running = None
        if rec is None or rec.state != "running":
            return
        rec.finished_at = time.time()
        if code == 0:
            rec.state, rec.message = "succeeded", "complete"
        else:
            rec.state = "failed"
            rec.message = _last_error(self.folder(running) / "run.log") or f"exit code {code}"
        self._save(rec)


def _last_error(log_path: Path) -> str:
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    errors = [ln for ln in lines if ln.startswith("error:")]
    return "; ".join(e[len("error: ") :] for e in errors[-5:]) or (lines[-1] if lines else "")

"""Jobs in SQLite (stdlib sqlite3, WAL): the single source of truth for every job's state.

Every state change is one transaction guarded by the state it expects (`WHERE state = ...`),
so a cancel and a worker's late progress report cannot overwrite each other. The connection is
shared by the event loop and the worker threads behind a lock; each call is short.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    request TEXT NOT NULL,
    results TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS jobs_state_seq ON jobs (state, seq);
"""
_COLUMNS = (
    "seq, id, state, progress, message, created_at, started_at, finished_at, attempts, "
    "request, results"
)


@dataclass
class Job:
    seq: int
    id: str
    state: str
    progress: float
    message: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    attempts: int
    request: dict[str, Any]
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def done_seeds(self) -> set[int]:
        return {int(r["seed"]) for r in self.results if r.get("kind") == "sidecar"}

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Job:
        seq, id_, state, progress, message, created, started, finished, attempts, req, res = row
        return cls(
            seq=seq,
            id=id_,
            state=state,
            progress=progress,
            message=message,
            created_at=created,
            started_at=started,
            finished_at=finished,
            attempts=attempts,
            request=json.loads(req),
            results=json.loads(res),
        )


class JobStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        with self._tx() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{path} was written by a newer server (schema {version} > {SCHEMA_VERSION})"
                )
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- reads ---------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
        return Job.from_row(row) if row else None

    def recent(self, limit: int, offset: int, state: str | None = None) -> tuple[list[Job], int]:
        where, args = ("WHERE state = ?", (state,)) if state else ("", ())
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM jobs {where}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM jobs {where} ORDER BY seq DESC LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
        return [Job.from_row(r) for r in rows], int(total)

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        return {str(s): int(n) for s, n in rows}

    def queue_position(self, job: Job) -> int:
        with self._lock:
            ahead = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND seq < ?", (job.seq,)
            ).fetchone()[0]
        return int(ahead) + 1

    def mean_duration_s(self, last: int = 20) -> float | None:
        with self._lock:
            row = self._db.execute(
                "SELECT AVG(finished_at - started_at) FROM (SELECT finished_at, started_at FROM "
                "jobs WHERE state = 'succeeded' AND started_at IS NOT NULL "
                "ORDER BY seq DESC LIMIT ?)",
                (last,),
            ).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def pending(self) -> list[Job]:
        """Jobs still to write files (queued or running)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE state IN ('queued', 'running')"
            ).fetchall()
        return [Job.from_row(r) for r in rows]

    # -- transitions -----------------------------------------------------------------------
    def create(self, request: dict[str, Any], max_queued: int) -> Job | None:
        """A new queued job, or None when `max_queued` jobs are already waiting."""
        job_id = str(uuid.uuid4())
        with self._tx() as db:
            queued = db.execute("SELECT COUNT(*) FROM jobs WHERE state = 'queued'").fetchone()[0]
            if queued >= max_queued:
                return None
            db.execute(
                "INSERT INTO jobs (id, state, message, created_at, request) VALUES (?, ?, ?, ?, ?)",
                (job_id, "queued", "waiting for a worker", time.time(), json.dumps(request)),
            )
        job = self.get(job_id)
        assert job is not None
        return job

    def claim_next(self) -> Job | None:
        """Oldest queued job -> running (attempts + 1)."""
        with self._tx() as db:
            row = db.execute(
                "SELECT id FROM jobs WHERE state = 'queued' ORDER BY seq LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?, "
                "message = 'starting' WHERE id = ?",
                (time.time(), row[0]),
            )
        return self.get(row[0])

    def progress(self, job_id: str, progress: float, message: str) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET progress = ?, message = ? WHERE id = ? AND state = 'running'",
                (min(max(float(progress), 0.0), 1.0), message[:500], job_id),
            )
        return cur.rowcount == 1

    def add_results(self, job_id: str, files: list[dict[str, Any]]) -> bool:
        with self._tx() as db:
            row = db.execute(
                "SELECT results FROM jobs WHERE id = ? AND state = 'running'", (job_id,)
            ).fetchone()
            if row is None:
                return False
            known = json.loads(row[0])
            names = {f["name"] for f in files}
            merged = [r for r in known if r["name"] not in names] + files
            db.execute("UPDATE jobs SET results = ? WHERE id = ?", (json.dumps(merged), job_id))
        return True

    def finish(self, job_id: str, state: str, message: str, progress: float | None = None) -> bool:
        """running -> succeeded | failed | cancelled."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET state = ?, message = ?, finished_at = ?, "
                "progress = COALESCE(?, progress) WHERE id = ? AND state = 'running'",
                (state, message[:2000], time.time(), progress, job_id),
            )
        return cur.rowcount == 1

    def cancel(self, job_id: str) -> Job | None:
        """queued | running -> cancelled. Returns the job as it is afterwards (None: unknown)."""
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET state = 'cancelled', message = 'cancelled on request', "
                "finished_at = ? WHERE id = ? AND state IN ('queued', 'running')",
                (time.time(), job_id),
            )
        return self.get(job_id)

    def requeue(self, job_id: str, message: str, refund_attempt: bool) -> bool:
        """running -> queued (a graceful shutdown refunds the attempt)."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET state = 'queued', message = ?, "
                "attempts = MAX(attempts - ?, 0) WHERE id = ? AND state = 'running'",
                (message, 1 if refund_attempt else 0, job_id),
            )
        return cur.rowcount == 1

    def recover(self, max_attempts: int) -> tuple[list[str], list[str]]:
        """After a crash: jobs left `running` go back to the queue, or fail once they have been
        interrupted `max_attempts` times. Returns (requeued ids, failed ids)."""
        requeued: list[str] = []
        failed: list[str] = []
        with self._tx() as db:
            rows = db.execute("SELECT id, attempts FROM jobs WHERE state = 'running'").fetchall()
            for job_id, attempts in rows:
                if attempts >= max_attempts:
                    db.execute(
                        "UPDATE jobs SET state = 'failed', finished_at = ?, message = ? "
                        "WHERE id = ?",
                        (
                            time.time(),
                            f"interrupted {attempts} times (the server stopped while it ran); "
                            "not retried again",
                            job_id,
                        ),
                    )
                    failed.append(job_id)
                else:
                    db.execute(
                        "UPDATE jobs SET state = 'queued', message = ? WHERE id = ?",
                        ("re-queued after a server restart", job_id),
                    )
                    requeued.append(job_id)
        return requeued, failed

    def prune(self, retain: int) -> list[str]:
        """Delete the oldest finished jobs beyond the newest `retain`; returns their ids."""
        with self._tx() as db:
            rows = db.execute(
                "SELECT id FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') "
                "ORDER BY seq DESC LIMIT -1 OFFSET ?",
                (retain,),
            ).fetchall()
            ids = [r[0] for r in rows]
            db.executemany("DELETE FROM jobs WHERE id = ?", [(i,) for i in ids])
        return ids

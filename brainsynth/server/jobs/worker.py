"""Runs queued jobs in worker processes, one job per process at a time.

Each of `max_running_jobs` slots is a thread in the server that claims the oldest queued job
from the store and hands it to its own child process (`python -m brainsynth.server.jobs.child`,
talking over a socket pair; see child.py). The child loads
the generator once and keeps it (and the teacher's model cache) between jobs; it reports
progress and each finished volume over a pipe, and the slot writes them to the store. Because
generation runs in another process, the event loop keeps serving, a crash or an out-of-memory
kill of the child fails only that job, and a running job is cancelled by killing its child.

Volumes are recorded as they finish; a job that is interrupted (server restart, shutdown)
resumes with the seeds it has not finished yet.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from brainsynth.server.catalog import Catalog
from brainsynth.server.config import Settings
from brainsynth.server.jobs.store import Job, JobStore

log = logging.getLogger("brainsynth.server.worker")
POLL_S = 0.2
READY_TIMEOUT_S = 300.0


# -- server side --------------------------------------------------------------------------------
class _Interrupted(Exception):
    pass


class _Slot:
    def __init__(self, index: int, pool: WorkerPool) -> None:
        self.index = index
        self.pool = pool
        self.proc: subprocess.Popen[bytes] | None = None
        self.conn: Connection | None = None
        self.job_id: str | None = None
        self.cancel_id: str | None = None  # the job a DELETE asked this slot to stop
        self.thread = threading.Thread(target=self._loop, daemon=True, name=f"job-slot-{index}")

    # child management
    def _start_child(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "brainsynth.server.jobs.child",
                    str(theirs.fileno()),
                    str(os.getpid()),
                    self.pool.settings.generator,
                ],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        parent = Connection(ours.detach())
        self.conn = parent
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            self._check_interrupt()
            try:
                msg = parent.recv() if parent.poll(POLL_S) else None
            except (EOFError, OSError):
                msg = None
                self.proc.wait(5)
            if msg is not None:
                if msg[0] == "ready":
                    return
                self.kill_child()
                raise RuntimeError(str(msg[1]))
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.kill_child()
                raise RuntimeError(f"worker process exited while starting (exit code {code})")
            if time.monotonic() > deadline:
                self.kill_child()
                raise RuntimeError("worker process did not start in time")

    def kill_child(self) -> None:
        proc, conn = self.proc, self.conn
        self.proc = self.conn = None
        if proc is not None and proc.poll() is None:
            proc.kill()
        if proc is not None:
            proc.wait(10)
        if conn is not None:
            conn.close()

    def stop_child(self) -> None:
        if self.proc is not None and self.conn is not None and self.proc.poll() is None:
            try:
                self.conn.send(None)
                self.proc.wait(5)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
        self.kill_child()

    def _check_interrupt(self) -> None:
        if self.pool.stopping.is_set() or (self.cancel_id and self.cancel_id == self.job_id):
            raise _Interrupted

    # job loop
    def _loop(self) -> None:
        store = self.pool.store
        while not self.pool.stopping.is_set():
            try:
                self.pool.record_pending()
                job = store.claim_next()
            except sqlite3.Error as exc:  # e.g. disk full: keep the slot alive and retry
                log.error("worker slot %d cannot read the queue: %s", self.index, exc)
                self.pool.wait_for_work()
                continue
            if job is None:
                self.pool.wait_for_work()
                continue
            self.job_id = job.id
            self.pool.publish(job.id)
            try:
                self._run(job)
            except Exception as exc:  # noqa: BLE001 - the server keeps serving whatever happens
                log.exception("job %s: error in the worker slot", job.id)
                self.kill_child()
                self.pool.finish(job.id, "failed", _reason(exc))
            finally:
                self.job_id = None
                self.pool.publish(job.id)
                try:
                    self.pool.after_job()
                except (OSError, sqlite3.Error) as exc:
                    log.error("pruning old jobs failed: %s", exc)
        self.stop_child()

    def _run(self, job: Job) -> None:
        store, settings = self.pool.store, self.pool.settings
        req = job.request
        entry = self.pool.catalog.get(str(req["model_id"]))
        if entry is None:
            self.pool.finish(job.id, "failed", f"model {req['model_id']!r} is no longer available")
            return
        first, count = int(req["seed"]), int(req["count"])
        done = job.done_seeds
        seeds = [s for s in range(first, first + count) if s not in done]
        folder = settings.jobs_dir / job.id
        folder.mkdir(parents=True, exist_ok=True)
        _remove_temporaries(folder)  # left by a killed server
        task = {
            "model_dir": str(entry.path.resolve()),
            "conditions": req["conditions"],
            "seed": first,
            "count": count,
            "seeds": seeds,
            "resolution_mm": req["resolution_mm"],
            "contrasts": req["contrasts"],
            "folder": str(folder.resolve()),
        }
        store.progress(job.id, len(done) / count, "starting a worker" if seeds else "finishing")
        self.pool.publish(job.id)
        try:
            if seeds:
                self._execute(job, task)
            else:
                self.pool.finish(job.id, "succeeded", f"done: {count} volume(s)", 1.0)
        except _Interrupted:
            self.kill_child()
            _remove_temporaries(folder)
            current = store.get(job.id)
            if current is not None and current.state == "running":  # not cancelled: stopping
                store.requeue(job.id, "re-queued: the server stopped while it ran", True)
        except RuntimeError as exc:  # the worker process could not start
            self.pool.finish(job.id, "failed", str(exc))

    def _execute(self, job: Job, task: dict[str, Any]) -> None:
        store = self.pool.store
        if self.proc is None or self.proc.poll() is not None:
            self.kill_child()
            self._start_child()
        assert self.conn is not None and self.proc is not None
        self.conn.send(task)
        deadline = time.monotonic() + self.pool.settings.job_timeout_s
        last_check = time.monotonic()
        while True:
            self._check_interrupt()
            now = time.monotonic()
            if now > deadline:
                self.kill_child()
                self.pool.finish(
                    job.id, "failed", f"timed out after {self.pool.settings.job_timeout_s:g} s"
                )
                return
            if now - last_check > 2.0:  # cancelled by a path that did not reach this slot
                last_check = now
                current = store.get(job.id)
                if current is None or current.state != "running":
                    raise _Interrupted
            try:
                ready = self.conn.poll(POLL_S)
                msg = self.conn.recv() if ready else None
            except (EOFError, OSError):
                msg, ready = None, False
            if msg is None:
                if self.proc.poll() is not None:
                    code = self.proc.returncode
                    self.kill_child()
                    self.pool.finish(job.id, "failed", _death_message(code))
                    return
                continue
            kind = msg[0]
            if kind == "progress":
                if not store.progress(job.id, float(msg[1]), str(msg[2])):
                    raise _Interrupted
            elif kind == "volume":
                if not store.add_results(job.id, list(msg[2])):
                    raise _Interrupted
            elif kind == "done":
                self.pool.finish(job.id, "succeeded", f"done: {task['count']} volume(s)", 1.0)
                return
            elif kind == "error":
                log.warning("job %s failed: %s\n%s", job.id, msg[1], msg[2])
                self.pool.finish(job.id, "failed", str(msg[1]))
                return
            self.pool.publish(job.id)


def _reason(exc: BaseException) -> str:
    """The real cause, for the job's message (e.g. 'OperationalError: database or disk is
    full', 'OSError: [Errno 28] No space left on device')."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _death_message(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"the worker process was killed by {name}{hint}"
    return f"the worker process exited unexpectedly (exit code {code})"


def _remove_temporaries(folder: Path) -> None:
    """Half-written files of an interrupted volume (the writers use hidden temporary names)."""
    for p in folder.glob(".*"):
        p.unlink(missing_ok=True)


def _remove_unrecorded(folder: Path, recorded: set[str]) -> None:
    """After a failure: temporaries and the files of the unfinished volume (written but not
    recorded as results) go; the folder too when nothing in it was recorded."""
    if not folder.is_dir():
        return
    for p in folder.iterdir():
        if p.name not in recorded:
            try:
                p.unlink()
            except OSError as exc:
                log.warning("cannot remove %s: %s", p, exc)
    if not recorded:
        shutil.rmtree(folder, ignore_errors=True)


class WorkerPool:
    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        catalog: Catalog,
        publish: Callable[[str], None],
    ) -> None:
        self.settings = settings
        self.store = store
        self.catalog = catalog
        self.publish = publish
        self.stopping = threading.Event()
        self._work = threading.Condition()
        self._slots = [_Slot(i, self) for i in range(settings.max_running_jobs)]
        self.recovered: tuple[list[str], list[str]] = ([], [])
        # outcomes the store could not record yet (database or disk full): retried before
        # every claim, reported by /ready
        self.unrecorded: dict[str, tuple[str, str, float | None]] = {}
        self._unrecorded_lock = threading.Lock()

    def finish(self, job_id: str, state: str, message: str, progress: float | None = None) -> None:
        """Record a job's end. A failed job's unrecorded files are removed first (which also
        frees the space a full disk needs to record it); if the store still cannot write, the
        outcome is kept and retried, and the slot goes on serving."""
        if state == "failed":
            job = None
            try:
                job = self.store.get(job_id)
            except sqlite3.Error:
                pass
            if job is not None:
                _remove_unrecorded(
                    self.settings.jobs_dir / job_id, {str(r["name"]) for r in job.results}
                )
        try:
            self.store.finish(job_id, state, message, progress)
        except sqlite3.Error as exc:
            log.error("job %s: cannot record '%s' yet (%s); will retry", job_id, state, exc)
            with self._unrecorded_lock:
                self.unrecorded[job_id] = (state, message, progress)

    def record_pending(self) -> None:
        with self._unrecorded_lock:
            items = list(self.unrecorded.items())
        for job_id, (state, message, progress) in items:
            self.store.finish(job_id, state, message, progress)  # raises while still full
            with self._unrecorded_lock:
                self.unrecorded.pop(job_id, None)
            self.publish(job_id)

    def start(self) -> None:
        self.recovered = self.store.recover(self.settings.max_attempts)
        requeued, failed = self.recovered
        if requeued or failed:
            log.warning(
                "recovered after a restart: %d re-queued, %d failed", len(requeued), len(failed)
            )
        for slot in self._slots:
            slot.thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self.stopping.set()
        self.notify()
        for slot in self._slots:
            slot.thread.join(timeout)

    def notify(self) -> None:
        with self._work:
            self._work.notify_all()

    def wait_for_work(self) -> None:
        with self._work:
            self._work.wait(timeout=1.0)

    def cancel(self, job_id: str) -> None:
        for slot in self._slots:
            slot.cancel_id = job_id if slot.job_id == job_id else slot.cancel_id

    def after_job(self) -> None:
        for job_id in self.store.prune(self.settings.retain_jobs):
            shutil.rmtree(self.settings.jobs_dir / job_id, ignore_errors=True)

    @property
    def alive(self) -> bool:
        return all(s.thread.is_alive() for s in self._slots)

"""Generation jobs: submit, follow (poll or Server-Sent Events), cancel, download."""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from brainsynth.server import disk
from brainsynth.server.config import SEED_MAX
from brainsynth.server.deps import Authorized, Services, ServicesDep
from brainsynth.server.jobs.store import Job
from brainsynth.server.models import (
    TERMINAL_STATES,
    ErrorItem,
    ErrorResponse,
    JobList,
    JobParameters,
    JobRequest,
    JobState,
    JobStatus,
    ResultFile,
)
from brainsynth.server.sse import event_schema

log = logging.getLogger("brainsynth.server.jobs")
PREFIX = "/api/v1/jobs"
HEARTBEAT_S = 15.0
router = APIRouter(
    prefix="/jobs",
    tags=["jobs"],
    dependencies=Authorized,
    responses={401: {"model": ErrorResponse, "description": "token required"}},
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "no such job"}
}
JobId = Annotated[UUID, Path(description="the id returned by POST /api/v1/jobs")]


def _time(t: float | None) -> datetime | None:
    return datetime.fromtimestamp(t, tz=timezone.utc) if t is not None else None


def status(job: Job, services: Services) -> JobStatus:
    url = f"{PREFIX}/{job.id}"
    results = [
        ResultFile(
            name=r["name"],
            size=int(r["size"]),
            seed=int(r["seed"]),
            kind=r.get("kind", "other"),
            contrast=r.get("contrast"),
            url=f"{url}/files/{r['name']}",
        )
        for r in job.results
    ]
    created = _time(job.created_at)
    assert created is not None
    return JobStatus(
        id=job.id,
        state=job.state,  # type: ignore[arg-type]
        progress=round(job.progress, 4),
        message=job.message,
        created_at=created,
        started_at=_time(job.started_at),
        finished_at=_time(job.finished_at),
        attempts=job.attempts,
        queue_position=services.store.queue_position(job) if job.state == "queued" else None,
        request=JobParameters(**job.request),
        results=results,
        url=url,
        events_url=f"{url}/events",
    )


def _get(services: Services, job_id: UUID) -> Job:
    job = services.store.get(str(job_id))
    if job is None:
        raise HTTPException(404, f"unknown job {job_id}")
    return job


def _retry_after(services: Services) -> int:
    """Seconds until a queue place is likely to free: one job's mean run time per worker."""
    mean = services.store.mean_duration_s() or 10.0
    return int(min(max(math.ceil(mean / services.settings.max_running_jobs), 1), 600))


def _check(services: Services, body: JobRequest) -> dict[str, Any]:
    """Everything the pydantic model cannot know (the model's schema, this server's limits).
    Every reason is reported, not just the first."""
    settings = services.settings
    errors: list[ErrorItem] = []

    def bad(loc: list[str | int], msg: str, kind: str) -> None:
        errors.append(ErrorItem(loc=["body", *loc], msg=msg, type=kind))

    entry = services.catalog.get(body.model_id)
    if entry is None:
        known = ", ".join(sorted(services.catalog.scan()[0])) or "none"
        bad(["model_id"], f"unknown model {body.model_id!r} (available: {known})", "unknown_model")
    else:
        for path, msg, keyword in entry.condition_errors(body.conditions):
            bad(["conditions", *path], msg, f"conditions.{keyword}")
        if body.resolution_mm not in entry.resolutions_mm:
            bad(
                ["resolution_mm"],
                f"model {entry.id} offers {list(entry.resolutions_mm)} mm",
                "resolution_unavailable",
            )
    if body.resolution_mm not in settings.allowed_resolutions_mm:
        bad(
            ["resolution_mm"],
            f"this server allows {settings.allowed_resolutions_mm} mm",
            "resolution_not_allowed",
        )
    contrasts: list[str] = list(body.contrasts or [])
    if not contrasts:
        default = body.conditions.get("contrast")
        contrasts = [default] if isinstance(default, str) else ["T1w"]
    for i, c in enumerate(contrasts):
        allowed = [x for x in settings.allowed_contrasts if entry is None or x in entry.contrasts]
        if c not in allowed:
            bad(["contrasts", i], f"{c!r} is not one of {allowed}", "contrast_not_allowed")
    if body.count > settings.max_batch_count:
        bad(
            ["count"],
            f"count must be at most {settings.max_batch_count} (got {body.count})",
            "less_than_equal",
        )
    if body.seed + body.count - 1 > SEED_MAX:
        bad(["seed"], f"seed + count - 1 must not exceed {SEED_MAX}", "seed_range")
    if errors:
        raise HTTPException(422, [e.model_dump() for e in errors])
    return {
        "model_id": body.model_id,
        "conditions": body.conditions,
        "seed": body.seed,
        "resolution_mm": body.resolution_mm,
        "contrasts": list(contrasts),
        "count": body.count,
    }


def condition_reasons(services: Services, raw: Any) -> list[dict[str, Any]]:
    """The conditions' schema violations of a raw body that failed the pydantic model, so that
    a 422 lists every reason at once (the model's fields and the conditions)."""
    if not isinstance(raw, dict):
        return []
    model_id, conditions = raw.get("model_id"), raw.get("conditions")
    entry = services.catalog.get(model_id) if isinstance(model_id, str) else None
    if entry is None or not isinstance(conditions, dict):
        return []
    return [
        {"loc": ["body", "conditions", *path], "msg": msg, "type": f"conditions.{keyword}"}
        for path, msg, keyword in entry.condition_errors(conditions)
    ]


@router.post(
    "",
    status_code=202,
    response_model=JobStatus,
    summary="Submit a generation job",
    responses={
        400: {"model": ErrorResponse, "description": "body or headers cannot be parsed"},
        413: {"model": ErrorResponse, "description": "body larger than the limit"},
        422: {"model": ErrorResponse, "description": "invalid request; every reason listed"},
        429: {"model": ErrorResponse, "description": "queue full; see Retry-After"},
        507: {"model": ErrorResponse, "description": "not enough disk space or quota left"},
    },
)
async def submit_job(body: JobRequest, services: ServicesDep, response: Response) -> JobStatus:
    request = _check(services, body)
    needed = disk.job_bytes(request["resolution_mm"], request["contrasts"], request["count"])
    problem = services.space_problem(needed)
    if problem is not None:
        raise HTTPException(507, problem)
    try:
        job = services.store.create(request, services.settings.max_queued_jobs)
    except sqlite3.OperationalError as exc:  # e.g. "database or disk is full"
        log.error("cannot record a new job: %s", exc)
        raise HTTPException(507, f"cannot record the job: {exc}") from None
    if job is None:
        limit = services.settings.max_queued_jobs
        raise HTTPException(
            429,
            f"queue full: {limit} jobs are waiting (the limit); retry later",
            headers={"Retry-After": str(_retry_after(services))},
        )
    services.pool.notify()
    response.headers["Location"] = f"{PREFIX}/{job.id}"
    return status(job, services)


@router.get("", response_model=JobList, summary="Recent jobs, newest first")
async def list_jobs(
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    state: JobState | None = None,
) -> JobList:
    jobs, total = services.store.recent(limit, offset, state)
    return JobList(
        jobs=[status(j, services) for j in jobs], total=total, limit=limit, offset=offset
    )


@router.get("/{job_id}", response_model=JobStatus, summary="A job's state", responses=NOT_FOUND)
async def get_job(job_id: JobId, services: ServicesDep) -> JobStatus:
    return status(_get(services, job_id), services)


@router.delete(
    "/{job_id}",
    response_model=JobStatus,
    summary="Cancel a queued or running job",
    responses={
        **NOT_FOUND,
        409: {"model": ErrorResponse, "description": "the job has already finished"},
    },
)
async def cancel_job(job_id: JobId, services: ServicesDep) -> JobStatus:
    before = _get(services, job_id)
    if before.state in TERMINAL_STATES:
        raise HTTPException(409, f"job {job_id} has already finished ({before.state})")
    job = services.store.cancel(str(job_id))
    assert job is not None
    services.pool.cancel(job.id)
    services.broker.publish(job.id)
    if job.state not in ("cancelled",):  # finished in the meantime
        raise HTTPException(409, f"job {job_id} has already finished ({job.state})")
    return status(job, services)


SSE_EVENT = event_schema(
    "one event; `data` is the job's JSON (as GET /jobs/{job_id})",
    {
        "anyOf": [
            {"$ref": "#/components/schemas/JobStatus"},
            {"$ref": "#/components/schemas/ErrorResponse"},
        ]
    },
)


def _sse(event: str, data: str, seq: int) -> bytes:
    return f"id: {seq}\nevent: {event}\ndata: {data}\n\n".encode()


@router.get(
    "/{job_id}/events",
    summary="Progress as Server-Sent Events; the last event ('end') is the final state",
    response_class=StreamingResponse,
    responses={
        **NOT_FOUND,
        200: {
            "content": {"text/event-stream": {"schema": SSE_EVENT}},
            "description": "events 'progress' (job JSON) ... then 'end' (final job JSON)",
        },
        429: {"model": ErrorResponse, "description": "too many open streams"},
    },
)
async def job_events(job_id: JobId, services: ServicesDep) -> Response:
    _get(services, job_id)
    if services.broker.streams >= services.settings.max_event_streams:
        raise HTTPException(
            429, "too many open event streams; poll the job instead", headers={"Retry-After": "5"}
        )
    key = str(job_id)

    async def stream() -> AsyncIterator[bytes]:
        seq = 0
        last = ""
        with services.broker.subscribe(key) as wakeups:
            yield b"retry: 2000\n\n"
            while True:
                job = services.store.get(key)
                if job is None:  # pruned while streaming
                    yield _sse("end", '{"detail": "job no longer exists"}', seq)
                    return
                payload = status(job, services).model_dump_json()
                final = job.state in TERMINAL_STATES
                if payload != last or final:
                    seq += 1
                    last = payload
                    yield _sse("end" if final else "progress", payload, seq)
                if final:
                    return
                try:
                    await asyncio.wait_for(wakeups.get(), timeout=HEARTBEAT_S)
                except asyncio.TimeoutError:
                    yield b": keep-alive\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


MEDIA_TYPES = {".json": "application/json", ".gz": "application/gzip"}


@router.get(
    "/{job_id}/files/{name}",
    summary="Download one result file (the name must be one of the job's results)",
    response_class=FileResponse,
    responses={
        **NOT_FOUND,
        200: {
            "content": {
                "application/gzip": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {"type": "object"}},
            },
            "description": "the file",
        },
        410: {"model": ErrorResponse, "description": "the file has been removed"},
    },
)
async def download_file(
    job_id: JobId,
    name: Annotated[str, Path(max_length=255)],
    services: ServicesDep,
) -> Response:
    job = _get(services, job_id)
    match = next((r for r in job.results if r["name"] == name), None)
    if match is None:
        raise HTTPException(404, f"job {job_id} has no result file named {name!r}")
    # job.id comes from the store and the name from the job's own record, not the request
    path = services.settings.jobs_dir / job.id / str(match["name"])
    if not path.is_file():
        return JSONResponse({"detail": f"{name} has been removed from the server"}, 410)
    suffix = path.suffix
    return FileResponse(
        path,
        media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"),
        filename=path.name,
    )

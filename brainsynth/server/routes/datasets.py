"""Datasets: order one from a spec, follow it (poll or Server-Sent Events), query its
subjects, download its files, cancel it. See docs/DATASETS.md for the spec."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import PurePosixPath
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, HTTPException, Path, Query, Response
from fastapi.responses import FileResponse, StreamingResponse

from brainsynth.datasets import bids
from brainsynth.datasets.manifest import Manifest, QueryError, parse_filter
from brainsynth.datasets.spec import SpecError, check_spec, spec_schema
from brainsynth.server import disk
from brainsynth.server.deps import Authorized, Services, ServicesDep
from brainsynth.server.models import DatasetList, DatasetStatus, ErrorResponse, SubjectPage
from brainsynth.server.sse import event_schema

PREFIX = "/api/v1/datasets"
router = APIRouter(
    prefix="/datasets",
    tags=["datasets"],
    dependencies=Authorized,
    responses={401: {"model": ErrorResponse, "description": "token required"}},
)
# beside the collection, not under it: /datasets/<anything> is a dataset id
schema_router = APIRouter(
    tags=["datasets"],
    dependencies=Authorized,
    responses={401: {"model": ErrorResponse, "description": "token required"}},
)


@schema_router.get("/dataset-spec-schema", summary="The JSON Schema of a dataset spec")
async def dataset_spec_schema() -> dict[str, Any]:
    return spec_schema()


EXAMPLE_SPEC = {
    "name": "example",
    "count": 2,
    "seed": 1,
    "resolutionMm": 2,
    "contrasts": ["T1w"],
    "age": {"min": 40, "max": 80},
    "pathology": [
        {"type": "none", "fraction": 0.5},
        {"type": "ms", "fraction": 0.5, "parameters": {"msLesionLoadMl": {"min": 5, "max": 30}}},
    ],
}
SSE_EVENT = event_schema(
    "one event; `data` is the dataset's JSON (as GET /datasets/{dataset_id})",
    {"$ref": "#/components/schemas/DatasetStatus"},
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "no such dataset"}
}
DatasetId = Annotated[UUID, Path(description="the id returned by POST /api/v1/datasets")]
TOP_FILES = ("participants.tsv", "participants.json", "dataset_description.json", "README",
             "dataset_spec.json", "dseg.tsv", "qa/report.html", "qa/qa.json")  # fmt: skip
MEDIA = {".json": "application/json", ".gz": "application/gzip", ".html": "text/html",
         ".tsv": "text/tab-separated-values"}  # fmt: skip


def _time(t: float | None) -> datetime | None:
    return datetime.fromtimestamp(t, tz=timezone.utc) if t is not None else None


def status(services: Services, dataset_id: str) -> DatasetStatus:
    runner = services.datasets
    rec = runner.get(dataset_id)
    if rec is None:
        raise HTTPException(404, f"unknown dataset {dataset_id}")
    prog = runner.progress(dataset_id)
    count = int(rec.spec["count"])
    done = int(prog["done"])
    rate = prog.get("rate_per_h")
    eta = (count - done) / rate * 3600 if rate and rec.state == "running" else None
    url = f"{PREFIX}/{rec.id}"
    qa = prog.get("qa_report")
    return DatasetStatus(
        id=rec.id,
        state=rec.state,  # type: ignore[arg-type]
        message=rec.message,
        count=count,
        done=done,
        progress=round(done / count, 4),
        rate_per_h=rate,
        eta_s=round(eta, 1) if eta is not None else None,
        created_at=_time(rec.created_at),  # type: ignore[arg-type]
        started_at=_time(rec.started_at),
        finished_at=_time(rec.finished_at),
        attempts=rec.attempts,
        estimated_bytes=rec.estimated_bytes,
        spec=rec.spec,
        url=url,
        events_url=f"{url}/events",
        subjects_url=f"{url}/subjects",
        qa_report_url=f"{url}/files/{qa}" if qa else None,
    )


@router.post(
    "",
    status_code=202,
    response_model=DatasetStatus,
    summary="Order a dataset from a spec",
    responses={
        400: {"model": ErrorResponse, "description": "body or headers cannot be parsed"},
        413: {"model": ErrorResponse, "description": "body larger than the limit"},
        422: {"model": ErrorResponse, "description": "invalid spec; every reason listed"},
        507: {"model": ErrorResponse, "description": "not enough disk space or quota"},
    },
)
async def create_dataset(
    services: ServicesDep,
    response: Response,
    spec: Annotated[
        dict[str, Any],
        Body(description="a dataset spec (docs/DATASETS.md)", examples=[EXAMPLE_SPEC]),
    ],
) -> DatasetStatus:
    try:
        checked = await asyncio.to_thread(check_spec, spec, services.settings.models_dir)
    except SpecError as exc:
        items = [
            {"loc": ["body", *r.split(":", 1)[0].split("/")], "msg": r, "type": "spec"}
            for r in exc.reasons
        ]
        raise HTTPException(422, items) from None
    limit = services.settings.max_dataset_subjects
    if checked.count > limit:
        raise HTTPException(
            422,
            [{"loc": ["body", "count"], "msg": f"count must be at most {limit}", "type": "spec"}],
        )
    if checked.resolution_mm not in services.settings.allowed_resolutions_mm:
        msg = f"this server allows {services.settings.allowed_resolutions_mm} mm"
        raise HTTPException(422, [{"loc": ["body", "resolutionMm"], "msg": msg, "type": "spec"}])
    needed = disk.job_bytes(checked.resolution_mm, checked.contrasts, checked.count)
    if checked.quota_mb is not None and needed > checked.quota_mb * disk.MB:
        raise HTTPException(
            507,
            f"the dataset needs up to {disk.describe(needed)}, more than its quotaMb "
            f"({disk.describe(checked.quota_mb * disk.MB)})",
        )
    problem = services.space_problem(needed)
    if problem is not None:
        raise HTTPException(507, problem)
    try:
        rec = services.datasets.create(checked.raw, needed)
    except OSError as exc:
        raise HTTPException(507, f"cannot record the dataset: {exc}") from None
    response.headers["Location"] = f"{PREFIX}/{rec.id}"
    return status(services, rec.id)


@router.get("", response_model=DatasetList, summary="Datasets, newest first")
async def list_datasets(services: ServicesDep) -> DatasetList:
    return DatasetList(datasets=[status(services, r.id) for r in services.datasets.all()])


@router.get(
    "/{dataset_id}", response_model=DatasetStatus, summary="A dataset's state", responses=NOT_FOUND
)
async def get_dataset(dataset_id: DatasetId, services: ServicesDep) -> DatasetStatus:
    return status(services, str(dataset_id))


@router.delete(
    "/{dataset_id}",
    response_model=DatasetStatus,
    summary="Cancel a queued or running dataset (files made so far stay)",
    responses={**NOT_FOUND, 409: {"model": ErrorResponse, "description": "already finished"}},
)
async def cancel_dataset(dataset_id: DatasetId, services: ServicesDep) -> DatasetStatus:
    rec = services.datasets.get(str(dataset_id))
    if rec is None:
        raise HTTPException(404, f"unknown dataset {dataset_id}")
    if rec.state in ("succeeded", "failed", "cancelled"):
        raise HTTPException(409, f"dataset {dataset_id} has already finished ({rec.state})")
    await asyncio.to_thread(services.datasets.cancel, str(dataset_id))
    return status(services, str(dataset_id))


@router.get(
    "/{dataset_id}/events",
    summary="Progress as Server-Sent Events ('progress' ... 'end'), with rate and ETA",
    response_class=StreamingResponse,
    responses={
        **NOT_FOUND,
        200: {
            "content": {"text/event-stream": {"schema": SSE_EVENT}},
            "description": "events 'progress' (dataset JSON) ... then 'end'",
        },
    },
)
async def dataset_events(dataset_id: DatasetId, services: ServicesDep) -> Response:
    key = str(dataset_id)
    status(services, key)

    async def stream() -> AsyncIterator[bytes]:
        seq, last, quiet = 0, "", 0.0
        yield b"retry: 2000\n\n"
        while True:
            now = status(services, key)
            payload = now.model_dump_json()
            final = now.state in ("succeeded", "failed", "cancelled")
            if payload != last or final:
                seq, last, quiet = seq + 1, payload, 0.0
                kind = "end" if final else "progress"
                yield f"id: {seq}\nevent: {kind}\ndata: {payload}\n\n".encode()
            if final:
                return
            await asyncio.sleep(1.0)
            quiet += 1.0
            if quiet >= 15:
                quiet = 0.0
                yield b": keep-alive\n\n"

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


@router.get(
    "/{dataset_id}/subjects",
    response_model=SubjectPage,
    summary="Subjects matching filters (`where=sex=female&where=age>70&where=lesion_ml>10`)",
    responses={**NOT_FOUND, 422: {"model": ErrorResponse, "description": "bad filter"}},
)
async def query_subjects(
    dataset_id: DatasetId,
    services: ServicesDep,
    where: Annotated[list[str] | None, Query(max_length=20, description="column op value")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> SubjectPage:
    status(services, str(dataset_id))
    db = services.datasets.bids_dir(str(dataset_id)) / bids.MANIFEST_FILE
    if not db.exists():
        return SubjectPage(subjects=[], total=0, limit=limit, offset=offset)
    m = Manifest(db)
    try:
        filters = [parse_filter(w) for w in where or []]
        total = m.count_where(filters)
        rows = m.subjects(filters, limit, offset)
    except QueryError as exc:
        loc: list[str | int] = ["query", "where"]
        raise HTTPException(422, [{"loc": loc, "msg": str(exc), "type": "filter"}]) from None
    finally:
        m.close()
    return SubjectPage(subjects=rows, total=total, limit=limit, offset=offset)


@router.get(
    "/{dataset_id}/files/{path:path}",
    summary="Download a file of the dataset (a manifest entry or a top-level file)",
    response_class=FileResponse,
    responses={
        **NOT_FOUND,
        200: {"content": {"application/octet-stream": {"schema": {"type": "string"}}}},
    },
)
async def dataset_file(
    dataset_id: DatasetId,
    path: Annotated[str, Path(max_length=300)],
    services: ServicesDep,
) -> Response:
    status(services, str(dataset_id))
    root = services.datasets.bids_dir(str(dataset_id))
    known = path in TOP_FILES
    if not known and (root / bids.MANIFEST_FILE).exists():
        m = Manifest(root / bids.MANIFEST_FILE)
        try:
            row = m.db.execute("SELECT 1 FROM files WHERE path = ?", (path,)).fetchone()
            known = row is not None
        finally:
            m.close()
    rel = PurePosixPath(path)
    if not known or rel.is_absolute() or ".." in rel.parts:
        raise HTTPException(404, f"dataset {dataset_id} has no file {path!r}")
    file = root / rel  # a path the dataset recorded itself (checked above)
    if not file.is_file():
        raise HTTPException(404, f"{path} is not written yet")
    return FileResponse(file, media_type=MEDIA.get(file.suffix, "application/octet-stream"))

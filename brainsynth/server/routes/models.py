"""The model folders the server can generate from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from brainsynth.server.catalog import ModelEntry
from brainsynth.server.config import MODEL_ID_PATTERN
from brainsynth.server.deps import Authorized, ServicesDep
from brainsynth.server.models import (
    ErrorResponse,
    ModelDetail,
    ModelList,
    ModelSummary,
    SkippedModel,
)

router = APIRouter(
    prefix="/models",
    tags=["models"],
    dependencies=Authorized,
    responses={401: {"model": ErrorResponse, "description": "token required"}},
)


def summary(entry: ModelEntry) -> ModelSummary:
    man = entry.manifest
    return ModelSummary(
        id=entry.id,
        version=str(man["version"]),
        kind=str(man["kind"]),
        description=str(man.get("description", "")),
        resolutions_mm=list(entry.resolutions_mm),
        contrasts=list(entry.contrasts),
    )


@router.get("", response_model=ModelList, summary="Usable model folders (and skipped ones)")
async def list_models(services: ServicesDep) -> ModelList:
    models, skipped = services.catalog.scan()
    return ModelList(
        models=[summary(e) for e in models.values()],
        skipped=[SkippedModel(id=k, reason=v) for k, v in skipped.items()],
    )


@router.get(
    "/{model_id}",
    response_model=ModelDetail,
    response_model_by_alias=True,
    summary="One model: manifest summary and its conditions schema",
    responses={404: {"model": ErrorResponse, "description": "no such model"}},
)
async def get_model(
    services: ServicesDep,
    model_id: Annotated[str, Path(pattern=MODEL_ID_PATTERN, max_length=64)],
) -> ModelDetail:
    entry = services.catalog.get(model_id)
    if entry is None:
        raise HTTPException(404, f"unknown model {model_id!r}")
    man = entry.manifest
    grid = man.get("grid")
    return ModelDetail(
        **summary(entry).model_dump(),
        format=man.get("format"),
        created=man.get("created"),
        software_version=man.get("softwareVersion"),
        intended_use=man.get("intendedUse"),
        grid={k: grid[k] for k in ("shape", "spacing", "origin") if k in grid}
        if isinstance(grid, dict)
        else None,
        labels=len(man.get("labels") or []),
        conditionsSchema=entry.conditions_schema,
    )

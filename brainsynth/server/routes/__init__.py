"""HTTP routes, one module per resource, all under /api/v1."""

from fastapi import APIRouter

from brainsynth.server.routes import datasets, health, jobs, models

api = APIRouter(prefix="/api/v1")
api.include_router(health.router)
api.include_router(models.router)
api.include_router(jobs.router)
api.include_router(datasets.router)
api.include_router(datasets.schema_router)

__all__ = ["api"]

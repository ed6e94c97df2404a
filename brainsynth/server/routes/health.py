"""Liveness and readiness."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from functools import lru_cache

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from brainsynth import __version__
from brainsynth.server.deps import ServicesDep
from brainsynth.server.models import Health, Ready

router = APIRouter(tags=["health"])


_PROBE = (
    "import torch\nprint(torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')"
)


@lru_cache(maxsize=1)
def device_name() -> str:
    """The CUDA device's name when PyTorch is importable and sees one, else 'cpu'.

    Asked in a short-lived subprocess, so the server process never holds a CUDA context (the
    GPU's memory is for the worker processes). Cached: computed once, at start-up."""
    if os.environ.get("BRAINSYNTH_DEVICE"):
        return os.environ["BRAINSYNTH_DEVICE"]
    if importlib.util.find_spec("torch") is None:
        return "cpu"
    try:
        out = subprocess.run(
            [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired):
        return "cpu"
    lines = out.stdout.strip().splitlines()
    return lines[-1].strip() if out.returncode == 0 and lines else "cpu"


@router.get("/health", response_model=Health, summary="Liveness, version, device, queue")
async def health(services: ServicesDep) -> Health:
    counts = services.store.counts()
    return Health(
        status="ok",
        version=__version__,
        device=await run_in_threadpool(device_name),
        queue_depth=counts.get("queued", 0),
        running=counts.get("running", 0),
        max_running=services.settings.max_running_jobs,
        models=len(services.catalog.scan()[0]),
        uptime_s=round(time.time() - services.started, 3),
    )


@router.get(
    "/ready",
    response_model=Ready,
    summary="Ready to take jobs (200) or not (503, with the failing checks)",
    responses={503: {"model": Ready, "description": "not ready"}},
)
async def ready(services: ServicesDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        services.store.counts()
        checks["database"] = "ok"
    except Exception as e:  # noqa: BLE001
        checks["database"] = f"error: {e}"
    checks["workers"] = "ok" if services.pool.alive else "worker threads not running"
    if not services.datasets.alive:
        checks["workers"] = "the dataset runner is not running"
    try:
        checks["disk"] = services.disk_status()
    except OSError as e:
        checks["disk"] = f"error: {e}"
    if services.pool.unrecorded:
        checks["workers"] = f"{len(services.pool.unrecorded)} job outcome(s) not yet recorded"
    models = services.catalog.scan()[0]
    checks["models"] = f"ok ({len(models)})" if models else "no usable model folder"
    ok = all(v.startswith("ok") for v in checks.values())
    body = Ready(ready=ok, checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

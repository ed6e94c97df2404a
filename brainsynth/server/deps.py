"""What the routes share: the services container on `app.state` and the token check."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from brainsynth.server import disk
from brainsynth.server.catalog import Catalog
from brainsynth.server.config import Settings
from brainsynth.server.datasets import DatasetRunner
from brainsynth.server.jobs.events import EventBroker
from brainsynth.server.jobs.store import JobStore
from brainsynth.server.jobs.worker import WorkerPool


@dataclass
class Services:
    settings: Settings
    store: JobStore
    catalog: Catalog
    broker: EventBroker
    pool: WorkerPool
    datasets: DatasetRunner
    started: float = field(default_factory=time.time)

    def pending_bytes(self) -> int:
        """Upper bound of what accepted work (queued/running jobs, datasets) will still write."""
        total = 0
        for rec in self.datasets.all():
            if rec.state in ("queued", "running"):
                total += rec.estimated_bytes
        for job in self.store.pending():
            req = job.request
            left = int(req["count"]) - len(job.done_seeds)
            total += disk.job_bytes(float(req["resolution_mm"]), req["contrasts"], left)
        return total

    def space_problem(self, needed: int) -> str | None:
        """Why `needed` more bytes cannot be accepted now (free space, quota), or None."""
        s = self.settings
        pending = self.pending_bytes()
        free = disk.free_bytes(s.data_dir)
        keep = s.min_free_mb * disk.MB
        if free - pending - needed < keep:
            return (
                f"not enough disk space: {disk.describe(free)} free, this needs up to "
                f"{disk.describe(needed)} (+ {disk.describe(pending)} for accepted work) and "
                f"{disk.describe(keep)} must stay free"
            )
        if s.disk_quota_mb is not None:
            quota = s.disk_quota_mb * disk.MB
            used = disk.tree_bytes(s.data_dir)
            if used + pending + needed > quota:
                return (
                    f"disk quota exceeded: the data folder holds {disk.describe(used)} of "
                    f"{disk.describe(quota)}; this needs up to {disk.describe(needed)} "
                    f"(+ {disk.describe(pending)} for accepted work)"
                )
        return None

    def disk_status(self) -> str:
        """'ok (...)' or why the disk is too full to take work (for /ready)."""
        s = self.settings
        free = disk.free_bytes(s.data_dir)
        keep = s.min_free_mb * disk.MB
        if free < keep:
            return f"low disk: {disk.describe(free)} free < {disk.describe(keep)} kept free"
        if s.disk_quota_mb is not None:
            used = disk.tree_bytes(s.data_dir)
            if used >= s.disk_quota_mb * disk.MB:
                return f"disk quota reached: {disk.describe(used)} used"
        return f"ok ({disk.describe(free)} free)"


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

_bearer = HTTPBearer(auto_error=False, description="needed when BRAINSYNTH_API_TOKEN is set")


def require_token(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 unless the configured bearer token is presented (no token configured: open)."""
    token = services.settings.api_token
    if token is None:
        return
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong bearer token (send 'Authorization: Bearer <token>')",
            headers={"WWW-Authenticate": "Bearer"},
        )


Authorized = [Depends(require_token)]

"""What the routes share: the services container on `app.state` and the token check."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from brainsynth.server.catalog import Catalog
from brainsynth.server.config import Settings
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
    started: float = field(default_factory=time.time)


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

"""The app factory and the command line (`python -m brainsynth.server --port 8000`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from brainsynth import __version__
from brainsynth.server.catalog import Catalog
from brainsynth.server.config import Settings
from brainsynth.server.datasets import DatasetRunner
from brainsynth.server.deps import Services
from brainsynth.server.jobs.events import EventBroker
from brainsynth.server.jobs.store import JobStore
from brainsynth.server.jobs.worker import WorkerPool
from brainsynth.server.routes import api, datasets, jobs
from brainsynth.server.routes.health import device_name

log = logging.getLogger("brainsynth.server")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DESCRIPTION = """Full-size generation for the BrainSynth browser app: the teacher model at 1 or
2 mm, every contrast, label maps and JSON sidecars, as persistent jobs. See docs/API.md."""


class BodyLimit:
    """Rejects request bodies over `max_bytes` with 413 before the app reads them: the declared
    Content-Length is checked first, and a body sent without one is buffered up to the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _reject(self, send: Send, status: int, detail: str) -> None:
        response = JSONResponse({"detail": detail}, status_code=status)
        await response({"type": "http"}, _no_receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await self._reject(send, 400, "invalid Content-Length header")
                return
            if int(declared) > self.max_bytes:
                await self._reject(send, 413, f"request body larger than {self.max_bytes} bytes")
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(send, 413, f"request body larger than {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _lock_data_dir(data_dir: Path) -> Any:
    """One server per data folder (a second one would run the same jobs)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(data_dir / "server.lock", "a+")  # noqa: SIM115 - held for the app's life
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:  # not POSIX: no lock
        pass
    except OSError:
        handle.close()
        raise RuntimeError(f"another server is using {data_dir} (lock held)") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _error_items(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors():
        loc = [p for p in e.get("loc", ()) if isinstance(p, str | int)]
        out.append({"loc": loc, "msg": str(e.get("msg", "invalid")), "type": str(e.get("type"))})
    return out


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some operation serves on this path (for a complete `Allow`), from the
    OpenAPI document's paths — the public description of the routes — and the plain routes
    (documentation pages)."""
    methods: set[str] = set()
    for template, operations in app.openapi()["paths"].items():
        if compile_path(template)[0].fullmatch(path):
            methods |= {m.upper() for m in operations if m.upper() in HTTP_METHODS}
    for route in app.router.routes:
        route_methods = getattr(route, "methods", None)
        regex = getattr(route, "path_regex", None)
        if route_methods and regex is not None and regex.fullmatch(path):
            methods |= set(route_methods)
    return sorted(methods)


HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    store = JobStore(settings.db_path)
    catalog = Catalog(settings.models_dir)
    broker = EventBroker()
    pool = WorkerPool(settings, store, catalog, broker.publish)
    runner = DatasetRunner(settings.datasets_dir, settings.models_dir, settings.max_attempts)
    services = Services(settings, store, catalog, broker, pool, runner)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        lock = _lock_data_dir(settings.data_dir)
        broker.bind(asyncio.get_running_loop())
        pool.start()
        runner.start()
        threading.Thread(target=device_name, daemon=True, name="device-probe").start()
        models, skipped = catalog.scan()
        log.info("serving %d model(s) from %s", len(models), settings.models_dir)
        for name, reason in skipped.items():
            log.warning("model folder %s skipped: %s", name, reason)
        try:
            yield
        finally:
            await asyncio.to_thread(pool.stop)
            await asyncio.to_thread(runner.stop)
            store.close()
            lock.close()

    app = FastAPI(
        title="BrainSynth backend",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name,  # operationId = function name
    )
    app.state.services = services
    app.include_router(api)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        items = _error_items(exc)
        if request.method == "POST" and request.url.path == jobs.PREFIX:
            items += jobs.condition_reasons(services, exc.body)
        return JSONResponse({"detail": jsonable_encoder(items)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette names only the first route matching the path
            headers["Allow"] = ", ".join(_allowed_methods(app, request.url.path))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal server error (logged)"}, status_code=500)

    def openapi() -> dict[str, Any]:
        """The generated document, with the limits narrowed to this server's settings."""
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        props = doc["components"]["schemas"]["JobRequest"]["properties"]
        props["count"]["maximum"] = settings.max_batch_count
        props["resolution_mm"]["enum"] = list(settings.allowed_resolutions_mm)
        props["contrasts"].pop("uniqueItems", None)
        for option in props["contrasts"].get("anyOf", [props["contrasts"]]):
            if option.get("type") == "array":
                option["items"]["enum"] = list(settings.allowed_contrasts)
                option["uniqueItems"] = True
        # the conditions are checked against the models' own schemas: show them (as found now)
        schemas = []
        for entry in catalog.scan()[0].values():
            cond = {k: v for k, v in entry.conditions_schema.items() if k not in ("$schema", "$id")}
            if cond not in schemas:
                schemas.append(cond)
        if schemas:
            props["conditions"] = {
                "description": props["conditions"].get("description", ""),
                **(schemas[0] if len(schemas) == 1 else {"anyOf": schemas}),
            }
        # a new job's id leads to its other operations (lets clients and fuzzers follow it)
        job_id = {"job_id": "$response.body#/id"}
        doc["paths"][jobs.PREFIX]["post"]["responses"]["202"]["links"] = {
            name: {"operationId": name, "parameters": job_id}
            for name in ("get_job", "cancel_job", "job_events")
        }
        dataset_id = {"dataset_id": "$response.body#/id"}
        doc["paths"][datasets.PREFIX]["post"]["responses"]["202"]["links"] = {
            name: {"operationId": name, "parameters": dataset_id}
            for name in ("get_dataset", "cancel_dataset", "dataset_events", "query_subjects")
        }
        if settings.api_token is None:  # an open server: say so (no security requirement)
            doc.get("components", {}).pop("securitySchemes", None)
            for operations in doc["paths"].values():
                for operation in operations.values():
                    operation.pop("security", None)
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Location", "Retry-After"],
        max_age=600,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


def run(argv: list[str] | None = None) -> None:
    """`brainsynth-server` / `python -m brainsynth.server`: serve on 127.0.0.1 by default."""
    parser = argparse.ArgumentParser(prog="python -m brainsynth.server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: loopback)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--models-dir", type=Path, help="default: public/models")
    parser.add_argument("--data-dir", type=Path, help="default: .brainsynth-data")
    parser.add_argument("--max-running", type=int, help="concurrent jobs (default: 1)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {
        k: v
        for k, v in {
            "models_dir": args.models_dir,
            "data_dir": args.data_dir,
            "max_running_jobs": args.max_running,
        }.items()
        if v is not None
    }
    import uvicorn

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    app = create_app(Settings(**overrides))
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=5,
    )

"""Serve the real app on 127.0.0.1 in a background thread, counting every response by status
(on the server side, so the numbers do not depend on what the client believes)."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from brainsynth.server.config import Settings
from brainsynth.server.main import create_app

ROOT = Path(__file__).resolve().parents[2]
FAKE_GENERATOR = "brainsynth.tests.server_fakes:fake"


@dataclass
class Served:
    base_url: str
    statuses: Counter[int] = field(default_factory=Counter)
    by_route: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500)


class _Count:
    def __init__(self, app: Any, served: Served) -> None:
        self.app, self.served = app, served

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                self.served.statuses[status] += 1
                self.served.by_route[(scope["method"], _route(scope["path"]), status)] += 1
                if message["status"] >= 500:
                    self.served.errors.append(f"{scope['method']} {scope['path']}")
            await send(message)

        await self.app(scope, receive, counting_send)


def _route(path: str) -> str:
    """/api/v1/jobs/<uuid>/files/x -> /api/v1/jobs/{id}/files/{name} (for the tables)."""
    parts = path.split("/")
    names = {4: "{id}", 6: "{name}"} if parts[3:4] == ["jobs"] else {4: "{model_id}"}
    return "/".join(names.get(i, p) if i > 3 else p for i, p in enumerate(parts[:7]))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(**overrides: Any) -> Iterator[Served]:
    """The app with the fake generator and the repository's models, on a free loopback port."""
    with tempfile.TemporaryDirectory(prefix="brainsynth-bench-") as tmp:
        values: dict[str, Any] = {
            "models_dir": ROOT / "public" / "models",
            "data_dir": Path(tmp) / "data",
            "generator": FAKE_GENERATOR,
        }
        values.update(overrides)
        port = free_port()
        served = Served(f"http://127.0.0.1:{port}")
        app = _Count(create_app(Settings(**values)), served)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        try:
            yield served
        finally:
            server.should_exit = True
            thread.join(30)

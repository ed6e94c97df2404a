"""HTTP backend: full-size generation jobs over a versioned JSON API (FastAPI).

`create_app` and `run` live in `brainsynth.server.main` (imported on first use here, so the
worker processes, which import this package, do not load the web stack)."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from brainsynth.server import main

        return getattr(main, name)
    raise AttributeError(name)

"""Wake-ups for the progress streams: worker threads publish 'job X changed', each SSE stream
waits on its own asyncio queue and then reads the job's current state from the store (so
coalesced or lost wake-ups never show a stale state)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def _poke(queue: asyncio.Queue[None]) -> None:
    if not queue.full():
        queue.put_nowait(None)


class EventBroker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[asyncio.Queue[None]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @property
    def streams(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subs.values())

    def publish(self, job_id: str) -> None:
        """Thread-safe; a no-op when nobody listens or the loop has gone."""
        with self._lock:
            queues = list(self._subs.get(job_id, ()))
        loop = self._loop
        if not queues or loop is None:
            return
        for q in queues:
            try:
                loop.call_soon_threadsafe(_poke, q)
            except RuntimeError:  # loop closed during shutdown
                return

    @contextmanager
    def subscribe(self, job_id: str) -> Iterator[asyncio.Queue[None]]:
        queue: asyncio.Queue[None] = asyncio.Queue(maxsize=1)
        with self._lock:
            self._subs.setdefault(job_id, set()).add(queue)
        try:
            yield queue
        finally:
            with self._lock:
                subs = self._subs.get(job_id)
                if subs is not None:
                    subs.discard(queue)
                    if not subs:
                        del self._subs[job_id]

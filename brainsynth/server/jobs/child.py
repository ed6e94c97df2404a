"""A worker process: `python -m brainsynth.server.jobs.child FD PARENT_PID GENERATOR_SPEC`.

Started by the server's worker slots (worker.py) with one end of a socket pair as FD. It loads
the generator once, then runs tasks sent over the socket: for each seed it calls `generate`
and `write_outputs` into the job's folder and reports progress and the finished volume's files.
It stops when told to, when the socket closes, or when its parent (the server) dies.
"""

from __future__ import annotations

import re
import signal
import sys
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from brainsynth.common.process import exit_with_parent
from brainsynth.server.generation import Generator, classify, load_generator, stem_for

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, ValueError) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _run_task(conn: Connection, gen: Generator, task: dict[str, Any]) -> None:
    folder = Path(task["folder"])
    first, count = int(task["seed"]), int(task["count"])
    try:
        for seed in task["seeds"]:
            i = seed - first

            def progress(frac: float, message: str, i: int = i) -> None:
                frac = min(max(float(frac), 0.0), 1.0)
                text = f"volume {i + 1}/{count}: {message}" if count > 1 else str(message)
                conn.send(("progress", (i + frac) / count, text))

            progress(0.0, "started")
            volume = gen.generate(
                Path(task["model_dir"]),
                dict(task["conditions"]),
                seed,
                float(task["resolution_mm"]),
                tuple(task["contrasts"]),
                progress,
            )
            stem = stem_for(seed)
            files = []
            for p in gen.write_outputs(volume, folder, stem):
                p = Path(p)
                if p.parent.resolve() != folder.resolve() or not SAFE_NAME.fullmatch(p.name):
                    raise RuntimeError(f"generator wrote an unexpected file: {p.name!r}")
                kind, contrast = classify(p.name, stem)
                files.append(
                    {"name": p.name, "size": p.stat().st_size, "seed": seed, "kind": kind}
                    | ({"contrast": contrast} if contrast else {})
                )
            # the sidecar last: its presence marks the volume as complete (see Job.done_seeds)
            files.sort(key=lambda f: f["kind"] == "sidecar")
            conn.send(("volume", seed, files))
        conn.send(("done",))
    except Exception as exc:  # noqa: BLE001 - every failure becomes the job's message
        conn.send(("error", _describe(exc), traceback.format_exc()))


def child_main(conn: Connection, generator_spec: str, parent_pid: int) -> None:
    """Entry point of a worker process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    exit_with_parent(parent_pid)
    try:
        gen = load_generator(generator_spec)
    except Exception as exc:  # noqa: BLE001
        conn.send(("fatal", f"cannot load generator {generator_spec!r}: {_describe(exc)}"))
        return
    conn.send(("ready",))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        _run_task(conn, gen, task)


def main(argv: list[str]) -> None:
    fd, parent_pid, spec = int(argv[0]), int(argv[1]), argv[2]
    child_main(Connection(fd), spec, parent_pid)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Load on 127.0.0.1: N concurrent clients submit jobs and poll them, against a real server
process (`python -m brainsynth.server`) with a fake fast generator.

    python -m bench.backend.load [--clients 32] [--submits 20] [--polls 10] [--queue 16]

Each client does a bounded loop: submit a job (count 1-3); on 202 poll its status `--polls`
times; on 429 honour a short back-off. A monitor samples /health to check that the queue never
exceeds its bound. At the end the accepted jobs are drained and must all have succeeded.
Prints a table: requests by status, 429s, 5xx (goal 0), p50/p95/p99 latency of the status
endpoint and of submissions, the largest queue depth seen. Exit status 1 on any 5xx, a queue
over its bound, or an accepted job that did not succeed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from bench.backend._serve import FAKE_GENERATOR, ROOT, free_port

BODY = {
    "model_id": "brainsynth-shape-v1",
    "conditions": {"age": 60, "sex": "female", "pathology": "none", "contrast": "T1w"},
    "resolution_mm": 2,
    "contrasts": ["T1w"],
}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] * 1000


class Stats:
    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.status_latency: list[float] = []
        self.submit_latency: list[float] = []
        self.accepted: list[str] = []
        self.max_queue = 0
        self.transport_errors = 0


async def _timed(client: httpx.AsyncClient, method: str, url: str, **kw: object) -> tuple:
    t0 = time.perf_counter()
    r = await client.request(method, url, **kw)  # type: ignore[arg-type]
    return r, time.perf_counter() - t0


async def _client(base: str, n: int, args: argparse.Namespace, stats: Stats) -> None:
    rng = random.Random(n)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for i in range(args.submits):
            body = {**BODY, "seed": n * 10_000 + i * 10, "count": rng.randint(1, 3)}
            try:
                r, dt = await _timed(client, "POST", "/api/v1/jobs", json=body)
            except httpx.TransportError:
                stats.transport_errors += 1
                continue
            stats.statuses[r.status_code] += 1
            stats.submit_latency.append(dt)
            if r.status_code == 202:
                job_id = r.json()["id"]
                stats.accepted.append(job_id)
                for _ in range(args.polls):
                    try:
                        s, dt = await _timed(client, "GET", f"/api/v1/jobs/{job_id}")
                    except httpx.TransportError:
                        stats.transport_errors += 1
                        continue
                    stats.statuses[s.status_code] += 1
                    stats.status_latency.append(dt)
                    await asyncio.sleep(rng.uniform(0.01, 0.05))
            elif r.status_code == 429:
                await asyncio.sleep(min(float(r.headers.get("retry-after", "1")), 1.0) * 0.2)


async def _monitor(base: str, stats: Stats, stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while not stop.is_set():
            try:
                h = (await client.get("/api/v1/health")).json()
                stats.max_queue = max(stats.max_queue, int(h["queue_depth"]))
            except (httpx.TransportError, ValueError, KeyError):
                stats.transport_errors += 1
            await asyncio.sleep(0.05)


async def _drain(base: str, ids: list[str], timeout: float) -> Counter[str]:
    states: Counter[str] = Counter()
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for job_id in ids:
            while True:
                state = (await client.get(f"/api/v1/jobs/{job_id}")).json()["state"]
                if state in ("succeeded", "failed", "cancelled") or time.monotonic() > deadline:
                    states[state] += 1
                    break
                await asyncio.sleep(0.1)
    return states


async def _run(base: str, args: argparse.Namespace) -> tuple[Stats, float, Counter[str]]:
    stats = Stats()
    stop = asyncio.Event()
    monitor = asyncio.create_task(_monitor(base, stats, stop))
    t0 = time.perf_counter()
    await asyncio.gather(*(_client(base, n, args, stats) for n in range(args.clients)))
    elapsed = time.perf_counter() - t0
    states = await _drain(base, stats.accepted, timeout=args.drain_timeout)
    stop.set()
    await monitor
    return stats, elapsed, states


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backend.load")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--submits", type=int, default=20, help="jobs each client tries")
    parser.add_argument("--polls", type=int, default=10, help="status polls per accepted job")
    parser.add_argument("--queue", type=int, default=16, help="server's max queued jobs")
    parser.add_argument("--delay", type=float, default=0.01, help="fake s per step (5/volume)")
    parser.add_argument("--drain-timeout", type=float, default=300)
    args = parser.parse_args(argv)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="brainsynth-load-") as tmp:
        env = {
            **os.environ,
            "BRAINSYNTH_GENERATOR": FAKE_GENERATOR,
            "BRAINSYNTH_FAKE_DELAY_S": str(args.delay),
            "BRAINSYNTH_MAX_QUEUED_JOBS": str(args.queue),
            "PYTHONPATH": str(ROOT),
        }
        cmd = [sys.executable, "-m", "brainsynth.server", "--port", str(port)]
        cmd += ["--data-dir", str(Path(tmp) / "data"), "--log-level", "warning"]
        cmd += ["--models-dir", str(ROOT / "public" / "models")]
        server = subprocess.Popen(cmd, env=env, cwd=ROOT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/api/v1/ready", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    print("server did not start", file=sys.stderr)
                    return 1
                time.sleep(0.1)
            stats, elapsed, states = asyncio.run(_run(base, args))
        finally:
            server.terminate()
            server.wait(30)

    errors = sum(n for s, n in stats.statuses.items() if s >= 500)
    requests = sum(stats.statuses.values())
    ok = not errors and stats.max_queue <= args.queue and set(states) <= {"succeeded"}
    print(f"load: {args.clients} clients x {args.submits} submits, queue bound {args.queue}, ")
    print(f"fake generator {args.delay * 5:.2f} s/volume, one worker process, 127.0.0.1\n")
    print("| metric | value |")
    print("|---|---:|")
    rate = requests / elapsed
    print(f"| requests (submit + status) | {requests} in {elapsed:.1f} s ({rate:.0f}/s) |")
    for status, n in sorted(stats.statuses.items()):
        print(f"| HTTP {status} | {n} |")
    print(f"| jobs accepted (202) | {len(stats.accepted)} |")
    print(f"| rejected, queue full (429) | {stats.statuses.get(429, 0)} |")
    print(f"| 5xx | {errors} |")
    print(f"| transport errors | {stats.transport_errors} |")
    print(f"| max queue depth seen / bound | {stats.max_queue} / {args.queue} |")
    print(f"| accepted jobs at the end | {dict(states)} |")
    for name, values in (
        ("status GET", stats.status_latency),
        ("submit POST", stats.submit_latency),
    ):
        print(
            f"| {name} latency p50 / p95 / p99 | {_pct(values, 0.5):.1f} / {_pct(values, 0.95):.1f}"
            f" / {_pct(values, 0.99):.1f} ms (n={len(values)}, "
            f"mean {statistics.fmean(values) * 1000 if values else float('nan'):.1f}) |"
        )
    print(f"\nresult: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

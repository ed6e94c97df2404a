"""Schemathesis against the backend's own OpenAPI document, over real HTTP on 127.0.0.1.

    python -m bench.backend.fuzz [--max-examples 30] [--max-time 150] [--seed 1]

The server runs the real app (real models folder, SQLite, worker processes) with a fake fast
generator; every response is counted on the server side. Reports the requests tried, the
responses by route and status, 5xx seen (the goal is 0) and schemathesis's check failures
(phases: examples, coverage, fuzzing, stateful via the OpenAPI links). Bounded:
`--max-examples` per operation and `--max-time` for the whole run. Exit status 1 on any 5xx.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.backend._serve import serve

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "unsupported_method",
    ]
)


def _schemathesis() -> list[str]:
    exe = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "schemathesis.cli"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backend.fuzz")
    parser.add_argument("--max-examples", type=int, default=30, help="per operation")
    parser.add_argument("--max-time", type=int, default=150, help="seconds, whole run")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--checks", default=CHECKS)
    parser.add_argument("--token", help="also configure a bearer token and send it")
    parser.add_argument("--verbose", action="store_true", help="schemathesis's whole output")
    args = parser.parse_args(argv)

    overrides = {"api_token": args.token} if args.token else {}
    with serve(**overrides) as served:
        cmd = [
            *_schemathesis(),
            "run",
            f"{served.base_url}/openapi.json",
            "--max-examples",
            str(args.max_examples),
            "--max-time",
            str(args.max_time),
            "--seed",
            str(args.seed),
            "--checks",
            args.checks,
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--workers",
            "1",
            "--request-timeout",
            "10",
            "--suppress-health-check",
            "all",
        ]
        if args.token:
            cmd += ["-H", f"Authorization: Bearer {args.token}"]
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as scratch:  # schemathesis's own files go here
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=scratch)
        elapsed = time.perf_counter() - t0

    out = proc.stdout
    if args.verbose:
        print(out)
    else:
        print("\n".join(out.strip().splitlines()[-14:]))
    section = out.split("Failures:")[-1] if "Failures:" in out else ""
    failures = re.findall(r"(ST\d+ [^:\n]+): (\d+)", section.split("Warnings:")[0])
    generated = re.search(r"(\d+) generated", out)
    print()
    print("| route | requests | statuses |")
    print("|---|---:|---|")
    routes: dict[tuple[str, str], dict[int, int]] = {}
    for (method, route, status), n in served.by_route.items():
        if status == 405:
            method, route = "(other methods)", "(any path)"
        statuses = routes.setdefault((method, route), {})
        statuses[status] = statuses.get(status, 0) + n
    for (method, route), statuses in sorted(routes.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        text = ", ".join(f"{s}×{n}" for s, n in sorted(statuses.items()))
        print(f"| {method} {route} | {sum(statuses.values())} | {text} |")
    print()
    print("| metric | value |")
    print("|---|---:|")
    print(f"| test cases generated (schemathesis) | {generated.group(1) if generated else '?'} |")
    print(f"| requests served | {served.requests} |")
    print(f"| 5xx responses | {served.server_errors} |")
    print(f"| schemathesis check failures | {sum(int(n) for _, n in failures)} |")
    for name, n in failures:
        print(f"| - {name} | {n} |")
    print(f"| schemathesis exit code | {proc.returncode} |")
    print(f"| wall time | {elapsed:.1f} s |")
    if served.errors:
        print("5xx on:", ", ".join(sorted(set(served.errors))))
    return 1 if served.server_errors else 0


if __name__ == "__main__":
    sys.exit(main())

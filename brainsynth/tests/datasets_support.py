"""Shared pieces of the dataset tests: a small spec, the BIDS validator, the models folder."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "public" / "models"


def small_spec(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "test-cohort",
        "count": 4,
        "seed": 1,
        "resolutionMm": 2,
        "contrasts": ["T1w", "FLAIR"],
        "age": {"min": 40, "max": 80},
        "femaleFraction": 0.5,
        "pathology": [
            {"type": "none", "fraction": 0.4},
            {
                "type": "ms",
                "fraction": 0.3,
                "parameters": {"msLesionLoadMl": {"min": 5, "max": 30}},
            },
            {
                "type": "stroke",
                "fraction": 0.3,
                "parameters": {"strokeTerritory": {"choices": ["MCA", "ACA"]}},
            },
        ],
    }
    spec.update(overrides)
    return spec


def write_spec(folder: Path, spec: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "spec.json"
    path.write_text(json.dumps(spec))
    return path


def bids_validator() -> list[str] | None:
    """The schema-based BIDS validator (the one that knows derivative datasets): the
    `bids-validator-deno` executable (PyPI `bids-validator-deno`), `$BIDS_VALIDATOR`, or the
    importable module; None when none is installed."""
    if os.environ.get("BIDS_VALIDATOR"):
        return os.environ["BIDS_VALIDATOR"].split()
    exe = shutil.which("bids-validator-deno")
    if exe:
        return [exe]
    if importlib.util.find_spec("bids_validator_deno") is not None:
        return [
            sys.executable,
            "-c",
            "import sys; from bids_validator_deno import cli; sys.exit(cli())",
        ]
    return None


def validate_bids(folder: Path) -> list[dict[str, Any]]:
    """The validator's issues of severity 'error'."""
    cmd = bids_validator()
    assert cmd is not None
    out = subprocess.run([*cmd, str(folder), "--json"], capture_output=True, text=True, timeout=300)
    report = json.loads(out.stdout)
    return [i for i in report["issues"]["issues"] if i["severity"] == "error"]

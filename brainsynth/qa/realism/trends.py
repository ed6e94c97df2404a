"""How each realism statistic changes with age and how much it varies between scans, real vs
synthetic, from a benchmark run's `realism.json` (its `perScan` values and the scans' ages).

    python -m brainsynth.qa.realism.trends [reports/realism/realism.json]

Per statistic: the least-squares slope on age of the real and of each synthetic set, in real sd
per decade (the twins have the real scans' ages, so the slopes compare directly), and the
synthetic sd over the real sd. A mean can match while a statistic ages the wrong way or varies
too little between people; these columns show it (MODEL.md, realism benchmark).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np


def age_slope(ages: list[float], values: list[float], unit: float) -> float:
    """Least-squares slope of `values` on age, per decade, in units of `unit`."""
    if len(ages) != len(values) or len(ages) < 3:
        raise ValueError("need at least 3 (age, value) pairs")
    return float(np.polyfit(np.asarray(ages) / 10.0, np.asarray(values), 1)[0]) / unit


def trends(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per statistic with a real spread: real and synthetic age slopes (real sd per
    decade) and the synthetic sd / real sd, for every synthetic set of the run."""
    ages = [float(s["age"]) for s in summary["scans"]]
    per_scan = summary["perScan"]
    rows = []
    for name in summary["statistics"]:
        real = [float(r[name]) for r in per_scan["real"]]
        sd = float(np.std(real, ddof=1))
        if not sd > 0:
            continue
        row: dict[str, Any] = {"statistic": name, "realAgeSlope": age_slope(ages, real, sd)}
        for kind, scans in per_scan.items():
            if kind == "real":
                continue
            syn = [float(r[name]) for r in scans]
            row[kind] = {
                "ageSlope": age_slope(ages, syn, sd),
                "sdRatio": float(np.std(syn, ddof=1)) / sd,
            }
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "reports/realism/realism.json")
    if not path.is_file():
        print(f"{path} not found: run python -m brainsynth.qa.realism first", file=sys.stderr)
        return 2
    summary = json.loads(path.read_text())
    for row in trends(summary):
        cols = [f"{row['statistic']:26s} age slope (sd/decade): real {row['realAgeSlope']:+.2f}"]
        for kind, v in row.items():
            if isinstance(v, dict):
                cols.append(f"{kind} {v['ageSlope']:+.2f}; spread {v['sdRatio']:.2f} x real")
        print(" | ".join(cols))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Print the model's measured conditioning table as Markdown.

python -m brainsynth.pipeline.report
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from brainsynth.paths import DEFAULT_MODEL_DIR

MAIN = ["cortex", "cerebral-wm", "lateral-ventricles", "hippocampus", "icv"]
SMALL = [
    "amygdala",
    "third-fourth-ventricles",
    "inf-lat-ventricles",
    "deep-gm",
    "cerebellum",
    "brainstem",
]


def _table(rows: list[dict[str, Any]], regions: list[str], brackets: bool) -> list[str]:
    out = [
        "| sex | age | " + " | ".join(regions) + " |",
        "|---|---|" + "---|" * len(regions),
    ]
    for sex in ("female", "male"):
        for age in sorted({r["age"] for r in rows}):
            cells = []
            for reg in regions:
                r = next(
                    (x for x in rows if x["sex"] == sex and x["age"] == age and x["region"] == reg),
                    None,
                )
                if r is None:
                    cells.append("—")
                elif reg == "icv":
                    err = 100 * r["relativeError"]
                    cells.append(f"{r['modelMl']:.0f} / {r['normativeMl']:.0f} ({err:+.1f} %)")
                else:
                    cell = (
                        f"{r['modelRatioTo45']:.3f} / {r['normativeRatioTo45']:.3f} "
                        f"({100 * r['relativeError']:+.1f} %)"
                    )
                    if brackets:
                        cell += f" [{r['modelMl']:.1f} | {r['normativeMl']:.1f}]"
                    cells.append(cell)
            out.append(f"| {sex} | {age} | " + " | ".join(cells) + " |")
    return out


def conditioning_markdown(manifest: dict[str, object]) -> str:
    metrics = manifest["metrics"]
    assert isinstance(metrics, dict)
    cond = metrics["conditioning"]
    rows = cond["rows"]
    out = [
        "Model (z = 0) vs normative median. Regions: ratio to age 45, model/normative, and the "
        "error; ICV: absolute mL. Absolute regional mL (model FreeSurfer-defined | normative "
        "DLMUSE-defined) in brackets.",
        "",
        *_table(rows, MAIN, brackets=True),
    ]
    small = [r for r in SMALL if any(x["region"] == r for x in rows)]
    tied = cond.get("tiedRegions", [])
    if small:
        out += [
            "",
            "Smaller structures (ratio to age 45, model / normative (error)"
            + (f"; tied to a neighbour's gain, not steered: {', '.join(tied)}" if tied else "")
            + "):",
            "",
            *_table(rows, small, brackets=False),
        ]
    worst, target = 100 * cond["maxAbsRelativeError"], 100 * cond["target"]
    out += ["", f"Worst |error| of the calibrated regions: {worst:.2f} % (target {target:.0f} %)."]
    if tied:
        out[-1] += f" Tied regions: {100 * cond.get('maxAbsRelativeErrorTied', 0):.0f} %."
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    args = ap.parse_args(argv)
    print(conditioning_markdown(json.loads((args.model / "manifest.json").read_text())))


if __name__ == "__main__":
    main()

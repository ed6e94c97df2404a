"""The 25-75 centile band of the QA report's regional-volume plots, as ratios to the median.

    python -m brainsynth.datasets.centiles ../shared/data   # rewrites centile_band.csv

Source: NiChart DLMUSE centiles of cognitively normal adults by sex (`CENTILES` under the data
folder; SBIA licence), ages 40-90. Only the model regions that are ONE DLMUSE region
(`brainsynth.pipeline.normative.MUSE_MAP`) get a band: the 25th centile of a sum of regions is
not the sum of their 25th centiles, so summed regions (cortex, ventricles, hippocampus, ...)
have none. Committed: `centile_band.csv` beside this file, the derived ratios
centile_25 / centile_50 and centile_75 / centile_50 (no raw table). The report multiplies them
by the normative median (`normative_table.csv`, which at ages >= 45 is that same centile_50).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

BAND_FILE = Path(__file__).with_name("centile_band.csv")
AGES = range(40, 91)


def single_region_map() -> dict[str, str]:
    from brainsynth.pipeline.normative import MUSE_MAP

    return {region: muse[0] for region, muse in MUSE_MAP.items() if len(muse) == 1}


def build(data: Path) -> list[dict[str, str | float | int]]:
    from brainsynth.pipeline.normative import CENTILES

    regions = single_region_map()
    rows: list[dict[str, str | float | int]] = []
    for sex, name in (("female", "Females"), ("male", "Males")):
        table: dict[tuple[str, int], dict[str, str]] = {}
        with (data / CENTILES / f"dlmuse_centiles_CN-{name}.csv").open() as f:
            for row in csv.DictReader(f):
                table[(row["VarName"], int(row["Age"]))] = row
        for region, muse in regions.items():
            for age in AGES:
                c = table[(muse, age)]
                mid = float(c["centile_50"])
                rows.append(
                    {
                        "sex": sex,
                        "age": age,
                        "region": region,
                        "ratio25": round(float(c["centile_25"]) / mid, 5),
                        "ratio75": round(float(c["centile_75"]) / mid, 5),
                    }
                )
    return rows


def write(rows: list[dict[str, str | float | int]], path: Path = BAND_FILE) -> None:
    with path.open("w", newline="") as f:
        f.write(
            "# 25-75 centile band as ratios to the median (centile_25/50, centile_75/50), by sex\n"
            "# and age, for model regions that are one DLMUSE region. Derived from NiChart\n"
            "# DLMUSE centiles (CN, SBIA licence): brainsynth/datasets/centiles.py\n"
        )
        w = csv.DictWriter(f, ["sex", "age", "region", "ratio25", "ratio75"])
        w.writeheader()
        w.writerows(rows)


def load(path: Path = BAND_FILE) -> dict[tuple[str, int, str], tuple[float, float]]:
    """(sex, age, region) -> (ratio25, ratio75); empty when the file is absent."""
    if not path.is_file():
        return {}
    lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
    return {
        (r["sex"], int(r["age"]), r["region"]): (float(r["ratio25"]), float(r["ratio75"]))
        for r in csv.DictReader(lines)
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m brainsynth.datasets.centiles <data folder>")
    write(build(Path(sys.argv[1])))
    print(BAND_FILE)

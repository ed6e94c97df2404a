"""Normative table of regional volumes by year of age (20-90) and sex.

Sources: NiChart DLMUSE centiles (50th centile, ages 40-93, by sex) and, below 45, a
quadratic-in-age fit of the 181 IXI subjects' DLMUSE volumes *as fractions of their ICV*,
scaled to meet the centiles at 45 (blended over 40-45). ICV is the IXI median by sex (constant
with age, as expected). Fitting head-size-normalised volumes matters: IXI's younger women have
larger heads than its older ones (a cohort effect, not ageing), and a fit of absolute volumes
turned that into a 13 % larger cortex at 20 than at 45 (7 % when normalised; men: 6 %).
DLMUSE regions differ from FreeSurfer's, so the model uses *relative* change with age; the
mapping of each model region to DLMUSE regions is explicit below.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

AGES = np.arange(20, 91)
SEXES = ("female", "male")

# model region -> DLMUSE region names whose volumes are summed
MUSE_MAP: dict[str, list[str]] = {
    "cortex": ["Frontal_GM", "Parietal_GM", "Temporal_GM", "Occipital_GM", "Limbic_GM"],
    "cerebral-wm": ["WM"],
    "lateral-ventricles": ["LateralVentricle_L", "LateralVentricle_R"],
    "inf-lat-ventricles": ["InfLatVentricle_L", "InfLatVentricle_R"],
    "hippocampus": ["Hippocampus_L", "Hippocampus_R"],
    "amygdala": ["Amygdala_L", "Amygdala_R"],
    "deep-gm": ["Deep_GM"],
    "cerebellum": ["Cerebellum"],
    "brainstem": ["BrainStem"],
    "third-fourth-ventricles": ["3rdVentricle", "4thVentricle"],
}

CENTILES = "CBICA-NiChart_Project/resources/reference_data/centiles"
IXI_VOLS = "CBICA-NiChart_Project/test_data/processed/nichart_project/dlmuse_vol.csv"
IXI_PARTICIPANTS = (
    "CBICA-NiChart_Project/test_data/processed/nichart_project/participants/participants.csv"
)
MUSE_LIST = "CBICA-NiChart_Project/resources/MUSE/list_MUSE_all.csv"


def _read_centiles(path: Path) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    with path.open() as f:
        for row in csv.DictReader(f):
            out.setdefault(row["VarName"], {})[int(row["Age"])] = float(row["centile_50"])
    return out


def _ixi(data: Path) -> tuple[NDArray[np.float64], list[str], dict[str, NDArray[np.float64]]]:
    names: dict[str, str] = {}
    with (data / MUSE_LIST).open() as f:
        for row in csv.DictReader(f):
            names.setdefault(row["Name"], row["Index"])
    demo: dict[str, tuple[float, str]] = {}
    with (data / IXI_PARTICIPANTS).open() as f:
        for row in csv.DictReader(f):
            demo[row["MRID"]] = (float(row["Age"]), "female" if row["Sex"] == "F" else "male")
    ages, sexes, vols = [], [], []
    with (data / IXI_VOLS).open() as f:
        for row in csv.DictReader(f):
            if row["MRID"] not in demo:
                continue
            a, s = demo[row["MRID"]]
            ages.append(a)
            sexes.append(s)
            vols.append(row)
    table = {
        region: np.array([sum(float(v[names[n]]) for n in muse) for v in vols])
        for region, muse in MUSE_MAP.items()
    }
    table["icv"] = np.array([float(v[names["ICV"]]) for v in vols])
    return np.array(ages), sexes, table


def build_normative_table(data: Path) -> dict[str, dict[str, NDArray[np.float64]]]:
    """{sex: {region or 'icv': volumes in mL for AGES}}."""
    ages, sexes, ixi = _ixi(data)
    out: dict[str, dict[str, NDArray[np.float64]]] = {}
    for sex in SEXES:
        cent = _read_centiles(
            data / CENTILES / f"dlmuse_centiles_CN-{'Females' if sex == 'female' else 'Males'}.csv"
        )
        sel = np.array([s == sex for s in sexes])
        table: dict[str, NDArray[np.float64]] = {}
        for region, muse in MUSE_MAP.items():
            c = {a: sum(cent[n][a] for n in muse) for a in range(40, 91)}
            coef = np.polyfit(ages[sel], np.log(ixi[region][sel] / ixi["icv"][sel]), 2)
            fit = np.exp(np.polyval(coef, AGES.astype(float)))
            fit *= c[45] / float(np.exp(np.polyval(coef, 45.0)))
            vals = np.empty(AGES.size)
            for i, a in enumerate(AGES):
                if a >= 45:
                    vals[i] = c[int(a)]
                elif a >= 40:
                    w = (a - 40) / 5.0
                    vals[i] = w * c[int(a)] + (1 - w) * fit[i]
                else:
                    vals[i] = fit[i]
            table[region] = vals / 1000.0
        table["icv"] = np.full(AGES.size, float(np.median(ixi["icv"][sel])) / 1000.0)
        out[sex] = table
    return out


# Between-person spread (log-normal sd) of the ventricles at a given age: the regions whose
# DLMUSE components define it. The inferior horns share the lateral ventricles' (DLMUSE's own
# horn centiles, 25th/75th = 0.22/1.78 x median at 60, are dominated by segmenting a 1 mL slit).
SPREAD_MAP: dict[str, list[str]] = {
    "lateral-ventricles": ["LateralVentricle_L", "LateralVentricle_R"],
    "inf-lat-ventricles": ["LateralVentricle_L", "LateralVentricle_R"],
    "third-fourth-ventricles": ["3rdVentricle", "4thVentricle"],
}
LOG_IQR_TO_SD = 2 * 0.6744897501960817  # the 25-75 range of a normal is 1.349 sd


def spread_log_sd(
    data: Path, regions: dict[str, list[str]] | None = None
) -> dict[str, dict[str, NDArray[np.float64]]]:
    """{sex: {region: sd of log volume between people of the same age, for AGES}} from the
    NiChart centiles (ln(c75 / c25) / 1.349 per DLMUSE component, averaged over the region's
    components; ages below 40, where the centiles start, take the value at 40). `regions`:
    model region -> DLMUSE variables (default SPREAD_MAP)."""
    out: dict[str, dict[str, NDArray[np.float64]]] = {}
    for sex in SEXES:
        path = (
            data / CENTILES / f"dlmuse_centiles_CN-{'Females' if sex == 'female' else 'Males'}.csv"
        )
        q: dict[tuple[str, int], tuple[float, float]] = {}
        with path.open() as f:
            for row in csv.DictReader(f):
                q[(row["VarName"], int(row["Age"]))] = (
                    float(row["centile_25"]),
                    float(row["centile_75"]),
                )
        out[sex] = {}
        for region, muse in (SPREAD_MAP if regions is None else regions).items():
            vals = np.empty(AGES.size)
            for i, a in enumerate(AGES):
                age = min(max(int(a), 40), 90)
                vals[i] = float(np.mean([np.log(q[(n, age)][1] / q[(n, age)][0]) for n in muse]))
            out[sex][region] = vals / LOG_IQR_TO_SD
    return out


def write_table(table: dict[str, dict[str, NDArray[np.float64]]], path: Path) -> None:
    regions = list(table["female"].keys())
    with path.open("w", newline="") as f:
        f.write(
            "# Normative median regional volumes (mL) by age and sex, DLMUSE region definitions.\n"
        )
        f.write("# Sources: NiChart DLMUSE centiles (50th, ages >= 45; SBIA licence) and 181 IXI\n")
        f.write(
            "# subjects (CC BY-SA 3.0, IXI - Information eXtraction from Images, Imperial College\n"
        )
        f.write(
            "# London; volume/ICV fitted quadratically in age) below 45. ICV: IXI median by sex.\n"
        )
        w = csv.writer(f)
        w.writerow(["sex", "age", *regions])
        for sex in SEXES:
            for i, a in enumerate(AGES):
                w.writerow([sex, int(a), *(f"{table[sex][r][i]:.3f}" for r in regions)])

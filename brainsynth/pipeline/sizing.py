"""Add step 7c (label-level sizing, brainsynth/sizing.py) to a model folder.

    python -m brainsynth.pipeline.sizing [--model public/models/brainsynth-shape-v1]
        [--individuals 120]

Writes the manifest's `sizing` (and drops the legacy `horns`, which it replaces): for each
structure of `STRUCTURES`, in that order, per sex and year of age (20-90), the factor f that
takes the model's own volume of the structure to the normative median's change relative to 45
(`normative_table.csv`, DLMUSE): f(age) = [N(age) / N(45)] / [M(age) / M(45)], where
M(age) / M(45) is the model's own change — each individual's voxel count relative to its own
at 45, geometric mean over the mean individual (z = 0) and `--individuals` random ones (the
factor must hold for random subjects, not only at z = 0), on the label map the engine has just
before this structure's sizing (steps 1-7, 7b folding, and the structures before it, sized by
their fitted factors), sampled every 5 years, linear in between; and, where the model card
gives an Alzheimer's change (`alzheimers.SEVERITY1_CHANGE`), the factor A = target x M_healthy /
M_AD at 75 (female, severity 1, the Alzheimer's gains applied; geometric mean over the same
individuals), so that severity 1 gives the target change of the same individual.

The structures and their exchange partners (what a shrinking structure turns into, what a
growing one takes; MODEL_FORMAT.md §3, 7c):
- lateral ventricles: each side against its cerebral white matter (2 / 41). Their age course
  comes from the gains (the factor only corrects the model's own, ~1), and so did their
  Alzheimer's change until model 1.16.0: the gains give the mean individual x1.4, random ones
  reached only x1.26-1.35, so A now takes them to the model card's change. The step gives them,
  with the horns and the 3rd/4th ventricles, the individual spread below;
- hippocampus, amygdala: CSF (24) and that side's temporal horn (5 / 44). Medial temporal
  atrophy is replaced by CSF: the choroidal and hippocampal fissures and the ambient cistern
  widen and the temporal horn enlarges into the space (the radiological MTA picture), so the
  voxels given up on the CSF side become CSF, those against the horn become horn;
- 3rd and 4th ventricles (one normative region, one factor): the 3rd ventricle against its
  walls, thalamus (10 / 49) and ventral diencephalon (hypothalamus; 28 / 60); the 4th against
  the brainstem (16, its floor) and the cerebellum's white matter and cortex (7 / 46, 8 / 47,
  its roof). Ventricles widen as the tissue around them shrinks, with age and (model 1.17.0)
  with Alzheimer's disease: random individuals' shrank by ~8 % at severity 1 under the gains;
- brainstem: against CSF (24; the prepontine and ambient cisterns and the cisterna magna
  widen as it shrinks: more than half of its surface faces CSF). Its age course comes from the
  regional basis, calibrated on the mean individual; random individuals' brainstems shrank
  less than the normative median from 65 on (model 1.15.0: +2 to +5 %). After the 3rd/4th
  ventricles, whose 4th ventricle grows into its floor, so that no later structure changes it;
- inferior lateral ventricles (temporal horns): each side against its cerebral white matter
  (2 / 41), as in model 1.3.0. After the hippocampus and amygdala, so that the horns end at
  their normative size after those have given voxels to them;
- cerebral white matter: each side against its cortex (3 / 42). The ventricles grow into the
  WM as they enlarge with age and with the individual's size, and random individuals lose more
  WM with age than the mean one the gains were calibrated on (model 1.4.0: -7 % at 90 against
  the normative ratio to 45); the WM/GM boundary moves by part of a voxel layer, spread over
  the whole interface, pockets filled and protrusions removed first (`partialLayer: smooth`);
- cerebral cortex: each side against CSF (24): last, it takes back what the WM took from it
  (or gives up what it has too much of) at the sulcal and outer CSF, in the same smooth order.
Individual size (`individualLogSd`, with `--data`): people of one age differ far more in
ventricle size than the shape model's individuals do (lateral ventricles at 60: normative
25th-75th centile 0.72-1.39 x the median, the model's 0.93-1.07). For the ventricles
(`normative.SPREAD_MAP`: lateral, temporal horns, 3rd/4th) the step multiplies the factor by
exp(s z) with the individual's size latent z (one for all ventricles: people with large lateral
ventricles have large horns and a wide 3rd ventricle) and s = sqrt(S^2 - m^2): S the normative
log-sd at that age and sex (NiChart centiles), m the model's own log-sd of the structure's
voxel count over the random individuals (ICV and shape), every 5 years, linear in between.
Cortex level (`LEVEL_RATIO_TO`): the cortex's factor also carries a constant per sex that makes
its volume ratio to the cerebral WM at 45 the normative one (the template's cortex is too thin).
Re-running does not touch steps 1-7b, the gains or the student (the step acts on labels).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.anatomy import icv_scale, sample_folded_indices
from brainsynth.model_io import cortical_depth_mm, gains_for, latents, load_model, size_latent
from brainsynth.pathologies.alzheimers import SEVERITY1_CHANGE
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline.normative import spread_log_sd
from brainsynth.schema import validate_manifest
from brainsynth.sizing import apply_structure

AGES = list(range(20, 91))
KNOTS = list(range(20, 91, 5))
INDIVIDUALS = 120  # random individuals besides the mean one (60 until model 1.14.0)
SEED = 20261206
SEXES = ("female", "male")
AD_AGE = 75
AD_SEX = "female"

# (normative region, [(label value, exchange partners)], fit its Alzheimer's change at
# severity 1 (`alzheimers.SEVERITY1_CHANGE`), smooth partial layer); the order is the order of
# step 7c
Structure = tuple[str, tuple[tuple[int, tuple[int, ...]], ...], bool, bool]
STRUCTURES: tuple[Structure, ...] = (
    ("lateral-ventricles", ((4, (2,)), (43, (41,))), True, False),
    ("hippocampus", ((17, (24, 5)), (53, (24, 44))), True, False),
    ("amygdala", ((18, (24, 5)), (54, (24, 44))), True, False),
    ("third-fourth-ventricles", ((14, (10, 49, 28, 60)), (15, (16, 7, 46, 8, 47))), True, False),
    ("brainstem", ((16, (24,)),), False, False),
    ("inf-lat-ventricles", ((5, (2,)), (44, (41,))), True, False),
    ("cerebral-wm", ((2, (3,)), (41, (42,))), False, True),
    ("cortex", ((3, (24,)), (42, (24,))), False, True),
)

# Absolute level (default none: f(45) = 1, the model keeps its own volume at 45). The cortex
# is anchored to its ratio to the cerebral WM at 45: the template is a 20-subject average whose
# majority vote thins the ribbon, and step 7b cuts it to ~3 mm, so the model's cortex/WM volume
# ratio at 45 is ~0.88 where the normative (DLMUSE) one is ~1.02 - a cortex ~16 % too thin for
# every age (realism benchmark: cortex fraction of the brain 0.369 vs the real IXI 0.408,
# volume/boundary 2.2 vs 2.5 mm). With the level, f = L x [N(a)/N(45)] / [M(a)/M(45)],
# L = [N_cortex(45) / N_wm(45)] / [M_cortex(45) / M_wm(45)] per sex (M: geometric mean over the
# individuals, on the label map just before the cortex's sizing, the WM sized). Ratios to 45
# (the conditioning targets) do not change.
LEVEL_RATIO_TO: dict[str, str] = {"cortex": "cerebral-wm"}


def normative(model_dir: Path) -> dict[str, dict[int, dict[str, float]]]:
    """Normative median volumes (mL) per sex, year and region, from the model's table."""
    out: dict[str, dict[int, dict[str, float]]] = {s: {} for s in SEXES}
    with (model_dir / "normative_table.csv").open() as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        for row in rows:
            sex = row.pop("sex")
            out[sex][int(float(row.pop("age")))] = {k: float(v) for k, v in row.items()}
    return out


def structure_entries() -> list[dict[str, Any]]:
    """STRUCTURES as the manifest's structure entries (without factors)."""
    out: list[dict[str, Any]] = []
    for region, labels, _, smooth in STRUCTURES:
        entry: dict[str, Any] = {
            "region": region,
            "labels": [{"value": v, "partners": list(p)} for v, p in labels],
        }
        if smooth:
            entry["partialLayer"] = "smooth"
        out.append(entry)
    return out


class _Sampler:
    """Label values of individual `seed` (-1: the mean individual, z = 0) before step 7c:
    steps 1-7 exact, 7b folding (the mean individual folds with seed SEED)."""

    def __init__(self, model_dir: Path) -> None:
        self.model, self.man = load_model(model_dir)
        self.depth = cortical_depth_mm(model_dir, self.man)
        self.k = int(self.man["shapeModel"]["components"])

    def values(self, cond: dict[str, Any], seed: int) -> NDArray[np.int32]:
        z, z_icv = (np.zeros(self.k), 0.0) if seed < 0 else latents(self.man, seed)
        fold_seed = SEED if seed < 0 else seed
        idx = sample_folded_indices(
            self.model,
            self.man,
            self.depth,
            z,
            gains_for(self.man, cond),
            fold_seed,
            icv_scale(self.man, cond["sex"], z_icv),
        )
        return self.model.label_values[idx].astype(np.int32)


def _count(values: NDArray[np.int32], entry: dict[str, Any]) -> int:
    return int(np.isin(values, [x["value"] for x in entry["labels"]]).sum())


def _geomean_ratio(a: list[int], b: list[int]) -> float:
    if min(a) <= 0 or min(b) <= 0:
        raise ValueError("an individual has none of a sized structure's voxels")
    return float(np.exp(np.mean(np.log(np.asarray(a, float) / np.asarray(b, float)))))


def sizing_parameters(
    model_dir: Path,
    individuals: int = INDIVIDUALS,
    log: Any = print,
    data: Path | None = None,
) -> dict[str, Any]:
    sampler = _Sampler(model_dir)
    # the normative between-person spread of the ventricles (needs the data folder)
    spread = spread_log_sd(data) if data is not None else None
    norm = normative(model_dir)
    seeds = [-1, *(int(s) for s in np.random.default_rng(SEED).integers(1, 2**31, individuals))]
    # each individual's size latent (the mean individual: 0)
    z_size = [0.0 if s < 0 else size_latent(sampler.man, s) for s in seeds]
    entries = structure_entries()
    knots = [45, *(a for a in KNOTS if a != 45)]  # 45 first: every ratio is to it
    trend: dict[str, dict[str, dict[int, float]]] = {e["region"]: {} for e in entries}
    log_sd: dict[str, dict[str, dict[int, float]]] = {e["region"]: {} for e in entries}
    own_sd: dict[str, dict[str, dict[int, float]]] = {e["region"]: {} for e in entries}
    level: dict[str, dict[str, float]] = {r: {} for r in LEVEL_RATIO_TO}
    by_region = {e["region"]: e for e in entries}
    t0 = time.time()
    for sex in SEXES:
        at45: dict[str, list[int]] = {}
        for e in entries:
            trend[e["region"]][sex] = {}
            log_sd[e["region"]][sex] = {}
            own_sd[e["region"]][sex] = {}
        for knot in knots:
            cond = {"age": knot, "sex": sex, "pathology": "none"}
            maps = [sampler.values(cond, s) for s in seeds]
            for e in entries:
                region = e["region"]
                counts = [_count(v, e) for v in maps]
                if knot == 45:
                    at45[region] = counts
                    if region in LEVEL_RATIO_TO:
                        other = LEVEL_RATIO_TO[region]
                        ref = [_count(v, by_region[other]) for v in maps]
                        n_ratio45 = norm[sex][45][region] / norm[sex][45][other]
                        level[region][sex] = n_ratio45 / _geomean_ratio(counts, ref)
                ratio = np.asarray(counts, float) / np.asarray(at45[region], float)
                trend[region][sex][knot] = _geomean_ratio(counts, at45[region])
                log_sd[region][sex][knot] = float(np.log(ratio).std())
                # between random individuals (not the mean one): the model's own spread
                own_sd[region][sex][knot] = float(np.log(np.asarray(counts[1:], float)).std())
                # this structure sized as the engine will at this knot (f(45) = 1: identity)
                n_ratio = norm[sex][knot][region] / norm[sex][45][region]
                lvl = level.get(region, {}).get(sex, 1.0)
                f = round(lvl * n_ratio / float(np.exp(np.log(trend[region][sex][knot]))), 4)
                # with the individual's size as the engine applies it (individualLogSd at a
                # knot: the normative spread less the model's own there), so the structures
                # after it (the WM) are fitted to what they will border
                s_ind = 0.0
                if spread is not None and region in spread[sex]:
                    t = float(spread[sex][region][AGES.index(knot)])
                    s_ind = float(np.sqrt(max(t * t - own_sd[region][sex][knot] ** 2, 0.0)))
                for v, zs in zip(maps, z_size, strict=True):
                    apply_structure(v, e, f * float(np.exp(s_ind * zs)))
            log(f"  {sex} {knot}: {time.time() - t0:.0f} s")
    ages = np.asarray(AGES, np.float64)
    knot_ages = np.asarray(KNOTS, np.float64)
    for e in entries:
        region = e["region"]
        e["factor"] = {}
        e["fit"] = {"knots": KNOTS, "modelRatioTo45": {}, "logRatioSd": {}}
        for sex in SEXES:
            model_trend = np.asarray([trend[region][sex][a] for a in KNOTS])
            # the model's own trajectory is not smooth (its gains are calibrated per 5-year
            # knot on the mean individual): linear in log between the knots, as the gains are
            # linear in age between them
            per_year = np.exp(np.interp(ages, knot_ages, np.log(model_trend)))
            n45 = norm[sex][45][region]
            lvl = level.get(region, {}).get(sex, 1.0)
            e["factor"][sex] = [
                round(lvl * (norm[sex][a][region] / n45) / float(per_year[i]), 4)
                for i, a in enumerate(AGES)
            ]
            if region in level:
                e["fit"].setdefault("level", {"ratioTo": LEVEL_RATIO_TO[region]})[sex] = round(
                    lvl, 4
                )
            e["fit"]["modelRatioTo45"][sex] = [round(float(x), 4) for x in model_trend]
            e["fit"]["logRatioSd"][sex] = [round(log_sd[region][sex][a], 4) for a in KNOTS]
            if spread is not None and region in spread[sex]:
                own = np.interp(ages, knot_ages, [own_sd[region][sex][a] for a in KNOTS])
                norm_sd = spread[sex][region]
                e.setdefault("individualLogSd", {})[sex] = [
                    round(float(np.sqrt(max(t * t - o * o, 0.0))), 4)
                    for t, o in zip(norm_sd, own, strict=True)
                ]
                e["fit"].setdefault("ownLogSd", {})[sex] = [
                    round(own_sd[region][sex][a], 4) for a in KNOTS
                ]
                e["fit"].setdefault("normativeLogSd", {})[sex] = [
                    round(float(norm_sd[AGES.index(a)]), 4) for a in KNOTS
                ]
            log(f"  {region} {sex}: model ratio to 45 at {KNOTS}: {model_trend.round(3)}")
    # Alzheimer's disease: the same individuals at AD_AGE, healthy and at severity 1, each
    # structure after the ones before it (sized with their factors and adFactors)
    healthy = {"age": AD_AGE, "sex": AD_SEX, "pathology": "none"}
    ad = {**healthy, "pathology": "alzheimers", "adSeverity": 1.0}
    h_maps = [sampler.values(healthy, s) for s in seeds]
    a_maps = [sampler.values(ad, s) for s in seeds]
    i_age = AGES.index(AD_AGE)
    for e, (_, _, fit_ad, _) in zip(entries, STRUCTURES, strict=True):
        f = e["factor"][AD_SEX][i_age]
        if "individualLogSd" in e:
            ind = [float(np.exp(e["individualLogSd"][AD_SEX][i_age] * zs)) for zs in z_size]
        else:
            ind = [1.0] * len(seeds)
        change = _geomean_ratio([_count(v, e) for v in a_maps], [_count(v, e) for v in h_maps])
        e["fit"]["adChangeBeforeSizing"] = round(change, 4)
        fa = f
        if fit_ad:
            target = SEVERITY1_CHANGE[e["region"]]
            e["adFactor"] = round(target / change, 4)
            e["fit"]["adTarget"] = target
            fa = f * e["adFactor"]
            log(f"  {e['region']}: Alzheimer's change {change:.3f} -> A = {e['adFactor']}")
        for v, g in zip(h_maps, ind, strict=True):
            apply_structure(v, e, f * g)
        for v, g in zip(a_maps, ind, strict=True):
            apply_structure(v, e, fa * g)
    return {
        "ages": AGES,
        "structures": entries,
        "source": (
            "brainsynth.pipeline.sizing: per structure, the normative volume relative to 45 "
            "(normative_table.csv) over the model's own (geometric mean change of the mean "
            f"individual and {individuals} random ones, seed {SEED}, on the label map just "
            "before the structure's sizing, every 5 years); Alzheimer's: the model card's "
            f"change at severity 1 ({AD_AGE} y, {AD_SEX})"
        ),
    }


def add_sizing(
    model_dir: Path, log: Any = print, individuals: int = INDIVIDUALS, data: Path | None = None
) -> dict[str, Any]:
    params = sizing_parameters(model_dir, individuals, log, data)
    path = model_dir / "manifest.json"
    man = json.loads(path.read_text())
    man.pop("horns", None)  # replaced: the temporal horns are one of the structures
    # structures this module does not own (the head's layers, `pipeline.head_layers`) stay at
    # the end, their rows taken onto the new ages
    old = man.get("sizing") or {}
    mine = {e["region"] for e in params["structures"]}
    for s in old.get("structures", []):
        if s["region"] in mine:
            continue
        kept = json.loads(json.dumps(s))
        for key in ("factor", "individualLogSd"):
            if key in kept:
                kept[key] = {
                    sex: [round(float(v), 5) for v in np.interp(params["ages"], old["ages"], row)]
                    for sex, row in kept[key].items()
                }
        params["structures"].append(kept)
    if "headLayersFit" in old:
        params["headLayersFit"] = old["headLayersFit"]
    man["sizing"] = params
    validate_manifest(man)
    path.write_text(json.dumps(man, indent=1) + "\n")
    return params


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--individuals", type=int, default=INDIVIDUALS)
    ap.add_argument(
        "--data", type=Path, default=None, help="the shared data folder: individual spread"
    )
    a = ap.parse_args(argv)
    if a.data is not None and not a.data.is_dir():
        ap.error(f"{a.data} is not a folder (is --data the shared data folder?)")
    if not (a.model / "manifest.json").is_file():
        ap.error(f"{a.model} has no manifest.json (build the model first)")
    if a.individuals < 1:
        ap.error("--individuals must be at least 1")
    p = add_sizing(a.model, individuals=a.individuals, data=a.data)
    print(json.dumps({s["region"]: s.get("adFactor") for s in p["structures"]}))


if __name__ == "__main__":
    main()

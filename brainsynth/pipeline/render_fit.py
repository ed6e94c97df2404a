"""Fit tissue means and the bias-field strength *through the renderer* to real scans: T1w to
the 42 IXI T1s, T2w and FLAIR to the real T2/FLAIR images (`pipeline.real_contrast`).

    python -m brainsynth.pipeline.render_fit --data ../shared/data [--model DIR] [--twins 8]

Why a closed loop: the label means measured on the real scans (`appearance.measure_ixi_t1`,
medians inside 2 mm DLMUSE labels) already contain the scans' partial volume, and the renderer
adds its own (the partial-volume blur, step 7b's sulcal CSF fraction) on top. Rendering the
measured medians therefore gives a cortex darker than the real one (GM/WM 0.64 vs 0.68). The
"pure tissue" means are the values whose *rendered* medians match the real medians, measured
the same way on both sides. Likewise the bias field: the real scans are not bias corrected, and
their white matter varies over large distances far more than the renderer's default field.

Measurements, identical for the real scans and for the 2 mm teacher's synthetic twins:

- **Tissue ratios**: per scan, the median intensity of each tissue group (cortex, each deep
  grey nucleus — thalamus, caudate, putamen, pallidum, accumbens, ventral DC —, hippocampus,
  amygdala, cerebellar GM/WM, brainstem, ventricles) divided by the median of the eroded (one
  voxel) cerebral white matter. Real groups from the DLMUSE ROI names
  (`appearance._muse_group`, the nuclei by `MUSE_DEEP`), synthetic from the label table's
  groups (the nuclei by their FreeSurfer values, `DEEP_STRUCTURES`). Target: the median over
  the real scans. (Until model 1.13.0 the nuclei were one "deep GM" group with one mean and
  one SD, while on the real T1s they span 1.00 (caudate) to 1.20 (ventral DC) x WM, each far
  more uniform inside than the group: the one SD had stood in for the differences.)
- **White-matter non-uniformity**: the large-scale part of the eroded WM's intensity, i.e. the
  Gaussian trend (sigma 4 voxels, normalised masked smoothing — the complement of the texture
  residual that `appearance_fit` fits) divided by the WM median, its robust CV
  (1.4826 MAD / median) inside the eroded WM. Target: the median over the real scans.
- **T2w/FLAIR grey matter**: GM/WM of the real T2w (2 glioma cases, 1 stroke) and FLAIR (3 MS
  patients, 2 glioma cases, the older-adult template) images, medians over cases, with tissue
  classes from 3-class k-means of the T1 (`real_contrast`); the twins' the same way (k-means of
  their T1w inside the brain), so partial volume enters both sides alike.
- **Depth profile (T1w)**: the median and robust SD of each depth layer (`DEPTH_GROUPS`;
  brainsynth/depth_layers.py: cerebral WM by 6-neighbour distance from the cortex, cortex by
  distance from the WM and split by the pial side; on the tissue classes of `common.tissue`, as
  the realism benchmark's masks) over the eroded-WM median. Real (42 scans, medians): WM next to
  the cortex 0.87; cortex 0.75, 0.71, 0.70 away from the pial surface and 0.65, 0.58, 0.48 on
  it. The flat per-label means rendered 0.96 and ~0.64-0.73: the real cortical ribbon's spread
  (and the GM/WM edge's width) comes from this gradient, not from a blur of flat regions.
- **Cortex fine-scale RMS (T1w)**: the RMS over the cortex of the image minus its Gaussian blur
  (sigma 0.7 voxels), over the eroded-WM median: fitted by the cortex's pial rows' voxel mix
  (`mixSd`, one for its surface rows; `mix_step`), the rows' SD scales keeping each layer's
  spread.
- **FLAIR CSF**: pure ventricular CSF (the k-means CSF class eroded by one voxel, inside a box
  around the lateral ventricles in MNI space) over WM, on the 3 MS patients' FLAIR; the twins'
  eroded lateral-ventricle labels. The whole CSF class is mostly sulcal partial volume at 1 mm,
  so it is not used. T2w CSF keeps its signal-equation value (no pure-CSF measurement here).

Fit: the trend CV of the synthetic twins is modelled as `cv(b)^2 = a^2 + (k b)^2` (anatomy
and texture plus an independent bias of amplitude b); two renders (at the current b and at
twice it) give a and k, hence the b that meets the real median; two secant steps through the
latest two renders refine it (the bias is multiplicative, exp(b P), so the model is only
approximate). Then the group means are updated by a fixed-point step
`mean_g <- mean_g * real_g / synthetic_g` (`ROUNDS` rounds, the synthetic ratios re-measured each
round; sulcal CSF follows the ventricles), and in the same rounds the depth layers' weights
by `w <- w + (real - synthetic) / (mean_partner - mean_label)` (T1w means, WM units; the
weights carry to T2w/FLAIR as the same mix) and their SD scales by `s <- s x real / synthetic`
(robust SD of the layer; real outer cortex spreads 0.15-0.20 x WM, the label's SD rendered
0.10), and likewise the T1w SDs of the tissue groups without depth rows (`SD_GROUPS`: each
deep grey nucleus, hippocampus, amygdala, cerebellum, brainstem; robust SD of the group over
the eroded-WM median) by `s <- s x real / synthetic` from `baseSd` (the SDs appearance_fit
set: texture SD times the measured ratio to WM's); for T2w/FLAIR one GM scale for every grey-matter
group and (FLAIR) one CSF scale. White matter stays at 1 (the reference); lesion and head
labels keep their values. Twins: healthy, ages and sexes of an age-spread subset of the real
scans, fixed seeds, at the median subject's texture gain (`median_subject_gain`). The raw
figures are kept in `appearance.measured.renderFit`; `baseMeans` keeps the means before the
first fit, so running the step again starts from the same place (idempotent).

This module renders with the teacher (`brainsynth.teacher`), which the rest of the pipeline
does not import: it runs after the model folder exists (the build calls it last).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from brainsynth.common.nifti import load_nifti
from brainsynth.common.tissue import (
    CORTEX,
    WM,
    brain_mask,
    classes_from_dlmuse,
    classes_from_freesurfer,
)
from brainsynth.depth_layers import layers
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline import real_contrast
from brainsynth.pipeline.appearance import _muse_group
from brainsynth.schema import validate_manifest

# The deep grey nuclei differ on real T1w (medians over eroded WM, 8 IXI scans, ad hoc: ventral
# DC 1.22, thalamus 1.13, putamen 1.05, caudate 1.00), so their means are fitted per structure
# (the label table's group stays "deep-gm" for everything else: stroke territories, bias_fit,
# age_fit). Real side from the DLMUSE names, synthetic from the FreeSurfer values.
DEEP_STRUCTURES: dict[str, tuple[int, ...]] = {
    "thalamus": (10, 49),
    "caudate": (11, 50),
    "putamen": (12, 51),
    "pallidum": (13, 52),
    "accumbens": (26, 58),
    "ventral-dc": (28, 60),
}
MUSE_DEEP = (
    ("Thalamus", "thalamus"),
    ("Caudate", "caudate"),
    ("Putamen", "putamen"),
    ("Pallidum", "pallidum"),
    ("Accumbens", "accumbens"),
    ("VentralDC", "ventral-dc"),
)
GROUPS = (
    "cortex",
    *DEEP_STRUCTURES,
    "hippocampus",
    "amygdala",
    "cerebellum-gm",
    "cerebellum-wm",
    "brainstem",
    "ventricle",
)
GM_LIKE = ("cortex", "deep-gm", *DEEP_STRUCTURES, "hippocampus", "amygdala", "cerebellum-gm")
LATERAL_VENTRICLES = (4, 43)
CONTRASTS = ("T1w", "T2w", "FLAIR")  # T1w first: the IXI fit; then the T2w/FLAIR calibration
FOLLOW = {"csf": "ventricle"}  # groups without a real measurement take another's scale
# T1w groups whose texture SD is fitted too (robust SD of the group over the eroded-WM median):
# the tissue groups without depth rows. Not the cortex (its depth rows carry its SD), not the
# ventricles (their spread is the partial volume of a thin space, not texture), not WM (the
# texture fit's reference, appearance_fit).
SD_GROUPS = (
    *DEEP_STRUCTURES,
    "hippocampus",
    "amygdala",
    "cerebellum-gm",
    "cerebellum-wm",
    "brainstem",
)
TREND_SIGMA = 4.0  # voxels: the texture fit's detrending scale (appearance_fit.DETREND_SIGMA)
MAD_TO_SD = 1.4826
ROUNDS = 8  # 4 until 1.10.0: with the central brightening the pial rows' SDs converge slower
# Depth layers (brainsynth/depth_layers.py): cerebral WM by its distance from the cortex, cortex
# by its distance from the WM; each layer's row mixes the label toward a partner (label values,
# aligned with the group's labels): superficial WM toward cortex (its partial volume), cortex
# next to WM toward WM, outer cortex toward sulcal CSF (24). Two WM layers: four (deep WM
# brighter still) made the eroded WM's gradient and residual autocorrelation too high (+3.7 z,
# +3.1 z in the realism benchmark), two keep both within 1 z.
# The cortex also has surface rows: its voxels with a 6-neighbour outside the brain (sulcal
# and outer CSF, background, head: NON_BRAIN) - real pial cortex at 2 mm is far darker than
# cortex of the same depth away from it (0.65/0.58/0.49 vs 0.75/0.70/0.70); those mix toward CSF.
NON_BRAIN = [0, 24, 30, 62, 502, 506, 507, 508, 509, 511, 512, 514, 515, 516, 530]
DEPTH_GROUPS: tuple[dict[str, Any], ...] = (
    {"name": "wm", "labels": [2, 41], "from": [3, 42], "toward": [[3, 42], [3, 42]]},
    {
        "name": "cortex",
        "labels": [3, 42],
        "from": [2, 41],
        "toward": [[2, 41], [2, 41], [2, 41]],
        "surface": NON_BRAIN,
        "surfaceToward": [[24, 24], [24, 24], [24, 24]],
    },
)
BIAS_ROUNDS = 2
BASE_SEED = 20261206

Log = Callable[[str], None]


def robust_cv(v: NDArray[np.floating[Any]]) -> float:
    med = float(np.median(v))
    return MAD_TO_SD * float(np.median(np.abs(v - med))) / med


def measure(
    img: NDArray[np.floating[Any]], groups: NDArray[np.str_], wm_group: str = "wm"
) -> dict[str, float]:
    """Tissue ratios (group median / eroded-WM median) and the WM trend CV of one scan.
    `groups` holds each voxel's tissue group name ('' outside the brain)."""
    x = np.asarray(img, np.float64)
    wm = ndimage.binary_erosion(groups == wm_group)
    if wm.sum() < 100:
        raise ValueError("fewer than 100 eroded white-matter voxels: not a brain scan")
    ref = float(np.median(x[wm]))
    if not np.isfinite(ref) or ref <= 0:
        raise ValueError(f"white-matter median must be positive (got {ref})")
    out: dict[str, float] = {}
    for g in GROUPS:
        m = groups == g
        if m.sum() >= 20:
            med = float(np.median(x[m]))
            out[g] = med / ref
            if g in SD_GROUPS:
                out[f"{g}:sd"] = MAD_TO_SD * float(np.median(np.abs(x[m] - med))) / ref
    # the deep grey nuclei together (age_fit's "deep-gm", the table's group; each nucleus has its
    # own median and SD above)
    m = np.isin(groups, ("deep-gm", *DEEP_STRUCTURES))
    if m.sum() >= 20:
        med = float(np.median(x[m]))
        out["deep-gm"] = med / ref
        out["deep-gm:sd"] = MAD_TO_SD * float(np.median(np.abs(x[m] - med))) / ref
    mf = wm.astype(np.float64)
    trend = ndimage.gaussian_filter(x * mf, TREND_SIGMA) / np.maximum(
        ndimage.gaussian_filter(mf, TREND_SIGMA), 1e-3
    )
    out["wmTrendCv"] = robust_cv(trend[wm])
    return out


def _row_keys(g: dict[str, Any]) -> list[tuple[str, list[int]]]:
    """(measurement key, toward) of a depth group's rows, in the manifest's order."""
    rows = [(f"depth:{g['name']}:{k}", t) for k, t in enumerate(g["toward"], start=1)]
    if "surface" in g:
        rows += [
            (f"depth:{g['name']}:surface:{k}", t) for k, t in enumerate(g["surfaceToward"], start=1)
        ]
    return rows


DEPTH_KEYS = tuple(key for g in DEPTH_GROUPS for key, _ in _row_keys(g))
# Rows not fitted (weight 0: the label's own mean). Deep WM is the reference of every ratio
# (eroded WM is almost all of it): raising its row raises the reference alike, so its ratio to
# the reference cannot be fitted - the first fit drifted it by -0.06 a round and every other
# group's ratio with it.
FIXED_KEYS = frozenset({"depth:wm:2"})
# T1w groups whose label mean is not scaled when the model has depth layers: every cortex voxel
# renders through a depth row, so the rows carry the cortex's median (fitting both oscillated).
DEPTH_OWNED_GROUPS = frozenset({"cortex"})
SD_SCALE_MAX = 4.0  # a row's SD at most 4x (at least 1/4 of) its label's
# The cortex's pial rows' voxel mix (MODEL_FORMAT §5 step 1, `mixSd`): one SD for the cortex's
# surface rows (the pial side, mixing toward CSF), fitted to the cortex's fine-scale variation -
# the RMS of the image minus its Gaussian blur (sigma HP_SIGMA voxels) over the cortex, over the
# eroded-WM median. Real 2 mm cortex voxels on the pial side each hold their own share of
# sub-voxel sulcal CSF: model 1.7.0 rendered 0.81-0.85x the real fine-scale RMS in the cortex
# (its variation came only from the correlated texture field). The GM/WM side does not mix:
# that interface is smooth at the millimetre scale, and mixing there too (tried: every cortex
# row) sharpened the GM/WM edge further (edge width -2.0 z, was -1.6).
MIX_GROUP = "cortex"
HP_SIGMA = 0.7
MIX_MAX = 1.0


def depth_profile(img: NDArray[np.floating[Any]], classes: NDArray[np.int8]) -> dict[str, float]:
    """Median of each depth layer (DEPTH_GROUPS, counted on the tissue classes of
    `common.tissue`, as the realism benchmark's masks) / the eroded-WM median:
    `depth:wm:1`, `depth:wm:2`, `depth:cortex:1`, ..."""
    x = np.asarray(img, np.float64)
    wm, cortex = classes == WM, classes == CORTEX
    ref = float(np.median(x[ndimage.binary_erosion(wm)]))
    outside = ndimage.binary_dilation(~brain_mask(classes), ndimage.generate_binary_structure(3, 1))
    out: dict[str, float] = {}
    for g in DEPTH_GROUPS:
        own, other = (wm, cortex) if g["name"] == "wm" else (cortex, wm)
        lay = layers(own, other, len(g["toward"]))
        surface = outside if "surface" in g else np.zeros(own.shape, bool)
        for k in range(1, len(g["toward"]) + 1):
            for flag, key in (
                (False, f"depth:{g['name']}:{k}"),
                (True, f"depth:{g['name']}:surface:{k}"),
            ):
                m = (lay == k) & (surface == flag)
                if m.sum() >= 20 and (not flag or "surface" in g):
                    med = float(np.median(x[m]))
                    out[key] = med / ref
                    out[f"{key}:sd"] = MAD_TO_SD * float(np.median(np.abs(x[m] - med))) / ref
    hp = x - ndimage.gaussian_filter(x, HP_SIGMA)
    out[f"depth:{MIX_GROUP}:hp"] = float(np.sqrt(np.mean(hp[cortex] ** 2))) / ref
    return out


def hp_gain(psf_sigma: float, size: int = 40, seed: int = 0) -> float:
    """Variance of white noise after the partial-volume blur and the high-pass (x minus its
    HP_SIGMA blur), per unit input variance (numerically, on a noise cube's interior)."""
    n = np.random.default_rng(seed).standard_normal((size,) * 3)
    b = ndimage.gaussian_filter(n, psf_sigma) if psf_sigma > 0 else n
    hp = b - ndimage.gaussian_filter(b, HP_SIGMA)
    c = slice(8, -8)
    return float(hp[c, c, c].var())


def mix_step(
    mix: float,
    target: dict[str, float],
    syn: dict[str, float],
    t1_means: list[float],
    index_of: dict[int, int],
    psf_sigma: float,
) -> float:
    """One step of the cortex rows' mix SD m: the voxel mix adds about g m^2 D^2 to the
    fine-scale variance (g = `hp_gain`, D^2 the mean over the rows of (partner - label)^2 in
    WM units), so m^2 += (real^2 - synthetic^2) / (g D^2), within [0, MIX_MAX^2]."""
    key = f"depth:{MIX_GROUP}:hp"
    if key not in target or key not in syn:
        return mix
    g = next(x for x in DEPTH_GROUPS if x["name"] == MIX_GROUP)
    lab = t1_means[index_of[g["labels"][0]]]
    towards = g["surfaceToward"]
    d2 = float(np.mean([(t1_means[index_of[t[0]]] - lab) ** 2 for t in towards]))
    m2 = mix**2 + (target[key] ** 2 - syn[key] ** 2) / max(hp_gain(psf_sigma) * d2, 1e-9)
    return float(np.sqrt(np.clip(m2, 0.0, MIX_MAX**2)))


def depth_spec(
    weights: dict[str, list[float]],
    sd_scales: dict[str, list[float]] | None = None,
    mix: float = 0.0,
) -> list[dict[str, Any]]:
    """The manifest's `appearance.depthLayers` for the fitted weights (and SD scales, and the
    MIX_GROUP rows' voxel mix SD when above 0)."""
    out = []
    for g in DEPTH_GROUPS:
        sd = sd_scales[g["name"]] if sd_scales else [1.0] * len(weights[g["name"]])
        rows = [
            {"toward": t, "weight": round(float(w), 4), "sdScale": round(float(v), 4)}
            for (_, t), w, v in zip(_row_keys(g), weights[g["name"]], sd, strict=True)
        ]
        if g["name"] == MIX_GROUP and round(mix, 4) > 0:
            for r in rows[len(g["toward"]) :]:  # the surface rows
                r["mixSd"] = round(mix, 4)
        k = len(g["toward"])
        entry: dict[str, Any] = {"labels": g["labels"], "from": g["from"], "layers": rows[:k]}
        if "surface" in g:
            entry["surface"] = {"labels": g["surface"], "layers": rows[k:]}
        out.append(entry)
    return out


def depth_step(
    weights: dict[str, list[float]],
    t1_means: list[float],
    index_of: dict[int, int],
    target: dict[str, float],
    syn: dict[str, float],
) -> dict[str, list[float]]:
    """One fixed-point step of the layer weights: a row's rendered median moves about one for
    one with its mean, mean = l + w (p - l) in WM units, so w += (real - synthetic) / (p - l)."""
    out: dict[str, list[float]] = {}
    for g in DEPTH_GROUPS:
        lab = t1_means[index_of[g["labels"][0]]]
        ws = []
        for (key, t), w in zip(_row_keys(g), weights[g["name"]], strict=True):
            d = t1_means[index_of[t[0]]] - lab
            if key in FIXED_KEYS:
                w = 0.0
            elif key in target and key in syn and abs(d) > 1e-3:
                w += (target[key] - syn[key]) / d
            ws.append(w)
        out[g["name"]] = ws
    return out


def sd_step(
    sd_scales: dict[str, list[float]], target: dict[str, float], syn: dict[str, float]
) -> dict[str, list[float]]:
    """One fixed-point step of the rows' SD scales: s <- s x real / synthetic robust SD of the
    layer (the bias field's share of both does not scale, so this under-corrects: monotone);
    pinned rows stay 1."""
    out: dict[str, list[float]] = {}
    for g in DEPTH_GROUPS:
        vals = []
        for (key, _), v in zip(_row_keys(g), sd_scales[g["name"]], strict=True):
            k = f"{key}:sd"
            if key in FIXED_KEYS:
                v = 1.0
            else:
                v = _sd_scaled(v, k, target, syn)
            vals.append(v)
        out[g["name"]] = vals
    return out


def group_sd_step(
    scales: dict[str, float], target: dict[str, float], syn: dict[str, float]
) -> dict[str, float]:
    """One fixed-point step of the SD_GROUPS' SD scales, as `sd_step` for the depth rows."""
    return {
        g: _sd_scaled(v, f"{g}:sd", target, syn) if g in SD_GROUPS else v for g, v in scales.items()
    }


def _sd_scaled(v: float, k: str, target: dict[str, float], syn: dict[str, float]) -> float:
    """SD scale v moved by real / synthetic robust SD `k`, within [1/SD_SCALE_MAX, SD_SCALE_MAX]
    (unchanged without both measurements)."""
    if k in target and k in syn and syn[k] > 0:
        return float(np.clip(v * target[k] / syn[k], 1.0 / SD_SCALE_MAX, SD_SCALE_MAX))
    return v


def sd_base(man: dict[str, Any], previous: dict[str, Any]) -> list[float]:
    """The T1w SDs before this step's scaling: the stored base when the manifest's SDs are still
    the previous fit's (base x scale), else the manifest's own (appearance_fit set them anew)."""
    cur = [float(v) for v in man["appearance"]["contrasts"]["T1w"]["sd"]]
    base = previous.get("baseSd")
    if base and len(base) == len(cur):
        again = update_means(man, previous.get("sdScale", {}), base)
        if all(abs(a - b) <= 1e-4 for a, b in zip(again, cur, strict=True)):
            return [float(v) for v in base]
    return cur


def summarise(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = {k for r in rows for k in r}
    return {k: float(np.median([r[k] for r in rows if k in r])) for k in sorted(keys)}


def _muse_lut(data: Path, group_of: Callable[[str], str]) -> NDArray[np.object_]:
    """DLMUSE label value -> group_of(its ROI name) ('' for unnamed values)."""
    names: dict[int, str] = {}
    with (data / "CBICA-NiChart_Project/resources/MUSE/list_MUSE_single.csv").open() as f:
        for row in csv.DictReader(f):
            names[int(row["Index"])] = row["Name"]
    lut = np.full(1024, "", dtype=object)
    for idx, name in names.items():
        if 0 < idx < lut.size:
            lut[idx] = group_of(name)
    return lut


def muse_group_lut(data: Path) -> NDArray[np.object_]:
    """DLMUSE label value -> the model's tissue group name ('' for unnamed values)."""
    return _muse_lut(data, _muse_group)


def muse_fit_group_lut(data: Path) -> NDArray[np.object_]:
    """`muse_group_lut` with the deep grey nuclei by structure (`MUSE_DEEP`): this fit's groups."""
    return _muse_lut(
        data, lambda name: next((g for f, g in MUSE_DEEP if f in name), _muse_group(name))
    )


def fit_group(e: dict[str, Any]) -> str:
    """A label's group in this fit: its table group, the deep grey nuclei by structure."""
    v = int(e["value"])
    for g, values in DEEP_STRUCTURES.items():
        if v in values:
            return g
    return str(e["group"])


def fit_group_lut(labels: list[dict[str, Any]]) -> NDArray[np.object_]:
    """`group_lut` with the deep grey nuclei by structure (`fit_group`): this fit's groups."""
    return group_lut(labels, fit_group)


def ixi_scans(data: Path) -> Iterator[tuple[dict[str, str], nib.Nifti1Image, NDArray[np.int64]]]:
    """Each real IXI T1 of the 2 mm index: (its index row, the T1 image, its DLMUSE labels)."""
    index = data / "ixi-t1-2mm-index.csv"
    with index.open() as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{index} lists no scans")
    for row in rows:
        seg = np.asarray(load_nifti(data / row["dlmuse_seg_path"]).dataobj).astype(np.int64)
        yield row, load_nifti(data / row["t1_path"]), seg


def real_rows(data: Path, log: Log = print) -> list[dict[str, Any]]:
    """One measurement per real IXI T1 (with its age and sex)."""
    lut = muse_fit_group_lut(data)
    out: list[dict[str, Any]] = []
    for row, t1, seg in ixi_scans(data):
        img = np.asarray(t1.dataobj, np.float32)
        groups = groups_of(lut, seg)
        prof = depth_profile(img, classes_from_dlmuse(seg))
        out.append(
            {"age": float(row["age"]), "sex": sex_of(row["sex"]), **measure(img, groups), **prof}
        )
    log(f"  measured {len(out)} real scans")
    return out


def sex_of(v: str) -> str:
    """The index's sex column ("F"/"M", "female"/"male", "2"/"1") as the conditions' value."""
    s = v.strip().lower()
    return "female" if s in ("f", "female", "2") else "male"


def twins(real: list[dict[str, Any]], n: int) -> list[tuple[float, str, int]]:
    """(age, sex, seed) of n synthetic twins: real scans spread over the age range."""
    order = np.argsort([r["age"] for r in real])
    pick = order[np.linspace(0, len(order) - 1, min(n, len(order))).round().astype(int)]
    seeds = np.random.default_rng(BASE_SEED).integers(0, 2**31, size=len(pick))
    return [
        (float(round(real[i]["age"])), str(real[i]["sex"]), int(s))
        for i, s in zip(pick, seeds, strict=True)
    ]


@contextmanager
def scratch_model(model_dir: Path) -> Iterator[Path]:
    """A temporary copy of the model folder for a fit's trial renders (each trial rewrites its
    manifest; the real folder is written once, at the end). Every fit through the renderer
    (this module, `bias_fit`, `age_fit`, `texture_gain_fit`, `lesion_fit`, `head_fit`) uses it."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / model_dir.name
        shutil.copytree(model_dir, work)
        yield work


def twin_volumes(
    model_dir: Path, subjects: list[tuple[float, str, int]], contrasts: tuple[str, ...] = ("T1w",)
) -> Iterator[Any]:
    """The 2 mm teacher's healthy twins (`twins`: age, sex, seed) of the model in `model_dir`,
    rendered in `contrasts`, one volume at a time (the teacher's cache cleared first: the fits
    rewrite the manifest between renders). The fits here, `bias_fit` and `head_fit` use it."""
    # the module, not the function the package re-exports under the same name
    gen_mod = importlib.import_module("brainsynth.teacher.generate")
    gen_mod._load.cache_clear()
    for age, sex, seed in subjects:
        cond = {"age": age, "sex": sex, "pathology": "none", "contrast": "T1w"}
        yield gen_mod.generate(
            model_dir, cond, seed, resolution_mm=2.0, contrasts=contrasts, device="numpy"
        )


def group_lut(
    labels: list[dict[str, Any]],
    group_of: Callable[[dict[str, Any]], str] = lambda e: str(e["group"]),
) -> NDArray[np.object_]:
    """Label value -> the model's tissue group name (`group_of` of its table entry: by default
    its table group), for the brain's labels (values 1-499; '' elsewhere): `measure`'s groups
    for a twin's label map (`groups_of`)."""
    lut = np.full(1024, "", dtype=object)
    for e in labels:
        if 0 < int(e["value"]) < 500:
            lut[int(e["value"])] = group_of(e)
    return lut


def groups_of(lut: NDArray[np.object_], labels: NDArray[np.integer[Any]]) -> NDArray[np.str_]:
    """Each voxel's tissue group name through `lut` (`group_lut` or `muse_group_lut`)."""
    return lut[np.clip(labels.astype(np.int64), 0, lut.size - 1)].astype(str)


def synthetic_summary(model_dir: Path, subjects: list[tuple[float, str, int]]) -> dict[str, float]:
    """The 2 mm teacher's twins measured like the real scans: T1w tissue ratios and WM trend CV
    (`measure`), and T2w/FLAIR GM/WM and CSF/WM (`CONTRAST:gmWm`, `CONTRAST:csfWm`) through
    the tissue classes the real images get (`real_contrast`: k-means of the T1w)."""
    man = json.loads((model_dir / "manifest.json").read_text())
    lut = fit_group_lut(man["labels"])
    rows = []
    for vol in twin_volumes(model_dir, subjects, CONTRASTS):
        row = measure(vol.images["T1w"], groups_of(lut, vol.labels))
        row |= depth_profile(vol.images["T1w"], classes_from_freesurfer(vol.labels))
        # tissue classes as the real MS/glioma images get theirs: 3-class k-means of the T1w
        # inside the brain (every brain label and the sulcal CSF)
        masks = real_contrast.twin_t1_masks(vol, man["appearance"], "none")
        for c in CONTRASTS[1:]:
            r = real_contrast.ratios(vol.images[c].astype(np.float64), masks)
            row[f"{c}:gmWm"], row[f"{c}:csfWm"] = r["gmWm"], r["csfWm"]
        # pure ventricular CSF: the lateral ventricles' labels eroded by one voxel
        vent = ndimage.binary_erosion(np.isin(vol.labels, LATERAL_VENTRICLES))
        flair = vol.images["FLAIR"]
        row["FLAIR:ventWm"] = float(np.median(flair[vent])) / float(np.median(flair[masks.wm]))
        rows.append(row)
    return summarise(rows)


def real_t2_flair(data: Path) -> dict[str, float]:
    """Median GM/WM and CSF/WM of the real T2w and FLAIR images (`pipeline.real_contrast`)."""
    cases = real_contrast.real_cases(data)
    vent = real_contrast.ms_ventricle_flair(data)
    out: dict[str, float] = {"FLAIR:ventWm": float(np.median(vent)), "FLAIR:ventWm:n": len(vent)}
    for c in CONTRASTS[1:]:
        for k in ("gmWm", "csfWm"):
            v = [float(x[k]) for x in cases if x["contrast"] == c]
            if not v:
                raise ValueError(f"no real {c} image measured")
            out[f"{c}:{k}"] = float(np.median(v))
            out[f"{c}:{k}:n"] = float(len(v))
    return out


def solve_bias(b1: float, cv1: float, b2: float, cv2: float, target: float) -> float:
    """b with cv(b)^2 = a^2 + (k b)^2 through (b1, cv1), (b2, cv2) meeting `target`."""
    if not (0 <= b1 < b2):
        raise ValueError("need 0 <= b1 < b2")
    k2 = max((cv2**2 - cv1**2) / (b2**2 - b1**2), 1e-12)
    a2 = max(cv1**2 - k2 * b1**2, 0.0)
    return float(np.sqrt(max(target**2 - a2, 0.0) / k2))


def median_subject_gain(man: dict[str, Any]) -> None:
    """Render the twins at the median subject's texture gain (`appearance.textureGain` without
    its random part, in place): the SD targets are medians over the real scans, and a handful of
    twins' random gains bias them (the first 1.11.0 fit's 8 twins averaged 1.055, and the SDs
    it fitted came out 5-18 % low for everyone else)."""
    gain = man["appearance"].get("textureGain")
    if gain:
        gain["logSd"] = 0.0


def update_means(man: dict[str, Any], scale: dict[str, float], base: list[float]) -> list[float]:
    """Per-label means (or the T1w SDs): base[i] * scale[group] (the label's `fit_group` when
    `scale` has it, else its table group; groups without a scale keep their base; only brain
    labels, values 1-499, are scaled)."""
    out = []
    for e, m in zip(man["labels"], base, strict=True):
        g = fit_group(e)
        if FOLLOW.get(g, g) not in scale:
            g = str(e["group"])
        s = scale.get(FOLLOW.get(g, g), 1.0) if 0 < int(e["value"]) < 500 else 1.0
        out.append(round(float(m) * s, 4))
    return out


def contrast_scale(gm: float, csf: float) -> dict[str, float]:
    """T2w/FLAIR: one GM scale for every grey-matter group, one CSF scale (WM stays the
    reference; the real images' tissue classes are k-means GM/WM/CSF, not finer groups)."""
    return {g: gm for g in GM_LIKE} | {"ventricle": csf}


def fit(model_dir: Path, data: Path, n_twins: int = 8, log: Log = print) -> dict[str, Any]:
    path = model_dir / "manifest.json"
    man = json.loads(path.read_text())
    app = man["appearance"]
    previous = app.get("measured", {}).get("renderFit", {})
    bases = {c: list(app["contrasts"][c]["mean"]) for c in CONTRASTS}
    if previous.get("baseMean"):  # fitted before: start again from the unfitted means
        bases["T1w"] = list(previous["baseMean"])
    bases |= {c: list(v) for c, v in previous.get("baseMeans", {}).items()}
    base_sd = sd_base(man, previous)
    group_sd = {g: 1.0 for g in SD_GROUPS}
    real = real_rows(data, log)
    target = summarise([{k: v for k, v in r.items() if k not in ("age", "sex")} for r in real])
    target |= real_t2_flair(data)
    log(
        "  real T2w/FLAIR: "
        + ", ".join(
            f"{k} {v:.3f}"
            for k, v in target.items()
            if ":" in k and not k.endswith((":n", ":sd")) and not k.startswith("depth:")
        )
    )
    subjects = twins(real, n_twins)
    scales: dict[str, dict[str, float]] = {
        "T1w": {g: 1.0 for g in GROUPS},
        **{c: {"gm": 1.0, "csf": 1.0} for c in CONTRASTS[1:]},
    }

    index_of = {int(e["value"]): i for i, e in enumerate(man["labels"])}
    # start from the previous fit's weights where its rows are these
    start: dict[str, list[float]] = {}
    start_sd: dict[str, list[float]] = {}
    for grp, spec in zip(DEPTH_GROUPS, app.get("depthLayers") or [], strict=False):
        rows = spec["layers"] + spec.get("surface", {}).get("layers", [])
        if len(rows) == len(_row_keys(grp)) and spec["labels"] == grp["labels"]:
            start[grp["name"]] = [
                0.0 if key in FIXED_KEYS else float(r["weight"])
                for (key, _), r in zip(_row_keys(grp), rows, strict=True)
            ]
            start_sd[grp["name"]] = [
                1.0 if key in FIXED_KEYS else float(r.get("sdScale", 1.0))
                for (key, _), r in zip(_row_keys(grp), rows, strict=True)
            ]
    weights = {
        grp["name"]: start.get(grp["name"], [0.0] * len(_row_keys(grp))) for grp in DEPTH_GROUPS
    }
    mix = next(
        (
            float(spec.get("surface", {"layers": [{}]})["layers"][0].get("mixSd", 0.0))
            for grp, spec in zip(DEPTH_GROUPS, app.get("depthLayers") or [], strict=False)
            if grp["name"] == MIX_GROUP and spec["labels"] == grp["labels"]
        ),
        0.0,
    )
    psf_sigma = float(app["partialVolumeSigmaVoxels"])
    sd_scales = {
        grp["name"]: start_sd.get(grp["name"], [1.0] * len(_row_keys(grp))) for grp in DEPTH_GROUPS
    }

    def means(m: dict[str, Any], c: str) -> list[float]:
        sc = scales[c] if c == "T1w" else contrast_scale(scales[c]["gm"], scales[c]["csf"])
        return update_means(m, sc, bases[c])

    with scratch_model(model_dir) as work:

        def run(b: float) -> dict[str, float]:
            m = json.loads(json.dumps(man))
            m["appearance"]["biasFieldStrength"] = round(b, 4)
            m["appearance"]["depthLayers"] = depth_spec(weights, sd_scales, mix)
            for c in CONTRASTS:
                m["appearance"]["contrasts"][c]["mean"] = means(m, c)
            m["appearance"]["contrasts"]["T1w"]["sd"] = update_means(m, group_sd, base_sd)
            median_subject_gain(m)
            (work / "manifest.json").write_text(json.dumps(m))
            return synthetic_summary(work, subjects)

        b1 = float(previous.get("startBias", app["biasFieldStrength"]))
        points = [(b1, run(b1)["wmTrendCv"]), (2 * b1, run(2 * b1)["wmTrendCv"])]
        for _ in range(BIAS_ROUNDS):  # secant steps through the two latest renders
            (pa, ca), (pb, cb) = sorted(points[-2:])
            b = solve_bias(pa, ca, pb, cb, target["wmTrendCv"])
            points.append((b, run(b)["wmTrendCv"]))
        log(
            f"  WM trend CV: real {target['wmTrendCv']:.4f}; synthetic (b, cv): "
            + ", ".join(f"({p:.3f}, {c:.4f})" for p, c in points)
        )
        b = points[-1][0]
        syn = run(b)
        history = []
        sd_history: list[dict[str, float]] = []
        for k in range(ROUNDS):
            weights = depth_step(weights, means(man, "T1w"), index_of, target, syn)
            sd_scales = sd_step(sd_scales, target, syn)
            group_sd = group_sd_step(group_sd, target, syn)
            mix = mix_step(mix, target, syn, means(man, "T1w"), index_of, psf_sigma)
            for g in GROUPS:
                if g in DEPTH_OWNED_GROUPS:
                    continue
                if g in target and g in syn and syn[g] > 0:
                    scales["T1w"][g] *= target[g] / syn[g]
            for c in CONTRASTS[1:]:
                # GM/WM fixes the GM scale; CSF/WM the CSF scale (WM is the reference)
                scales[c]["gm"] *= target[f"{c}:gmWm"] / syn[f"{c}:gmWm"]
            # CSF: only where a pure-CSF measurement exists (FLAIR: MS patients' ventricles)
            scales["FLAIR"]["csf"] *= target["FLAIR:ventWm"] / syn["FLAIR:ventWm"]
            syn = run(b)
            err = {
                g: round(syn[g] / target[g] - 1, 4)
                for g in (*GROUPS, *DEPTH_KEYS, "T2w:gmWm", "FLAIR:gmWm", "FLAIR:ventWm")
                if g in syn and g in target and g not in FIXED_KEYS
            }
            history.append(err)
            sd_err = {
                f"{g}:sd": round(syn[f"{g}:sd"] / target[f"{g}:sd"] - 1, 4)
                for g in (*DEPTH_KEYS, *SD_GROUPS)
                if g not in FIXED_KEYS and f"{g}:sd" in syn and f"{g}:sd" in target
            }
            hp = f"depth:{MIX_GROUP}:hp"
            if hp in syn and hp in target:
                sd_err[hp] = round(syn[hp] / target[hp] - 1, 4)
            sd_history.append(sd_err)
            log(f"  round {k + 1}: relative error {err}; SDs {sd_err}")
    # the stored scales (4 decimals) are the ones applied, so base x scale reproduces the SDs
    group_sd = {g: round(v, 4) for g, v in group_sd.items()}
    app["biasFieldStrength"] = round(b, 4)
    app["depthLayers"] = depth_spec(weights, sd_scales, mix)
    for c in CONTRASTS:
        app["contrasts"][c]["mean"] = means(man, c)
    app["contrasts"]["T1w"]["sd"] = update_means(man, group_sd, base_sd)
    previous.pop("baseMean", None)
    app.setdefault("measured", {})["renderFit"] = {
        "method": "pipeline.render_fit: tissue medians and WM trend CV (T1w, 42 IXI scans), "
        "GM/WM and CSF/WM (T2w, FLAIR: pipeline.real_contrast), real vs 2 mm twins",
        "scans": len(real),
        "twins": [list(t) for t in subjects],
        "real": target,
        "synthetic": syn,
        "scale": {c: {g: round(v, 4) for g, v in sc.items()} for c, sc in scales.items()},
        "startBias": b1,
        "biasRenders": [list(p) for p in points],
        "baseMeans": bases,
        "baseSd": base_sd,
        "sdScale": {g: round(v, 4) for g, v in group_sd.items()},
        "mixSd": round(mix, 4),
        "rounds": history,
        "sdRounds": sd_history,
    }
    validate_manifest(man)
    path.write_text(json.dumps(man, indent=1) + "\n")
    return dict(app["measured"]["renderFit"])


def twin_fit_args(
    doc: str | None, argv: list[str] | None, default_twins: int = 8
) -> argparse.Namespace:
    """The command line of a fit through the renderer's twins (this module, `bias_fit`,
    `age_fit`, `texture_gain_fit`, `head_fit`): --data, --model, --twins, checked."""
    ap = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument(
        "--twins", type=int, default=default_twins, help="synthetic twins per render (>= 2)"
    )
    a = ap.parse_args(argv)
    if a.twins < 2:
        ap.error("--twins must be at least 2")
    if not (a.data / "ixi-t1-2mm-index.csv").is_file():
        ap.error(f"{a.data} has no ixi-t1-2mm-index.csv (is --data the shared data folder?)")
    if not (a.model / "manifest.json").is_file():
        ap.error(f"{a.model} has no manifest.json (build the model first)")
    return a


def main(argv: list[str] | None = None) -> None:
    a = twin_fit_args(__doc__, argv)
    res = fit(a.model, a.data, a.twins)
    print(json.dumps({k: res[k] for k in ("real", "synthetic", "scale")}, indent=1))
    app = json.loads((a.model / "manifest.json").read_text())["appearance"]
    print(f"biasFieldStrength = {app['biasFieldStrength']}")


if __name__ == "__main__":
    main()

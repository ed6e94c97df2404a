"""Fit the T1w appearance to the 42 real IXI T1 scans: head tissues, texture, noise.

    python -m brainsynth.pipeline.appearance_fit --data ../shared/data [--model DIR]

Three measurements, each on the real scans, each written into the manifest's `appearance`
(with the raw measurements under `appearance.measured.ixiFit`):

1. **Head (extra-cerebral) intensities.** The label template is aligned affinely to each IXI
   scan (brain mask to brain mask: moments, then a Powell search on a 4 mm subsample), and each
   extra-cerebral class of the template (skull, marrow, fat, muscle, eyes, ...), eroded by one
   voxel, reads the scan's intensities there: the median over scans of each class's median and
   robust SD, relative to the scan's white matter (75th centile of the DLMUSE WM, as
   `appearance.measure_ixi_t1`). Affine alignment is coarse for thin layers (the scalp and the
   skull are 2-3 voxels), so a voxel counts only where its depth below the head's surface in the
   template and in the scan (head = holes-filled intensity mask) agree within 2 mm: the layers
   correspond by depth, not only by position. Classes with under 50 such voxels are skipped.
2. **Texture and PSF.** The white matter's fine texture: the residual of the *deep* WM (at
   least TEXTURE_DEPTH 6-neighbour voxels from any other tissue) after removing a Gaussian
   trend (sigma 4 voxels) — its SD and its autocorrelation at lags 1-6 voxels, averaged over
   axes and scans. Nearer the cortex the real WM darkens by depth (0.87 next to the cortex,
   0.98 one voxel further, flat beyond: MODEL_FORMAT §5 step 0, fitted by `render_fit`); a
   residual taken there counts that profile as texture, and the renderer, which draws the
   profile with its depth layers, would then draw it twice (model 1.6.0 measured on the one-
   voxel-eroded WM: rendered deep WM was 1.3x too rough at the finest scale).
   The renderer's texture is `c0 n + c1 G_sigma * n / std` (one unit-variance noise field n,
   white plus a smooth part), followed by the partial-volume blur (the acquisition's PSF); c0,
   c1, sigma and the PSF's sigma are fitted by least squares to the real autocorrelation,
   computing the model's autocorrelation through the same chain (texture, PSF, detrending)
   numerically. The WM texture SD becomes the WM label's SD; other brain tissues start from
   their measured ratio of SD to the WM's (`render_fit` then fits the tissue groups' SDs
   through the renderer).
3. **Noise.** IXI's background air is almost all zeros: the Rician noise level is estimated
   from the air's second moment (E X^2 = 2 sigma^2 for Rayleigh air) in the 4 superior corners
   of the field of view, relative to the WM level: `snr` = 1 / that (capped at 1000).
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage, optimize

from brainsynth.common.nifti import load_nifti
from brainsynth.common.tissue import eroded
from brainsynth.common.upsample import coarse_shape, upsample2
from brainsynth.model_io import load_model
from brainsynth.paths import DEFAULT_MODEL_DIR
from brainsynth.pipeline.subjects import align_masks
from brainsynth.schema import validate_manifest

DETREND_SIGMA = 4.0
TEXTURE_DEPTH = 3  # voxels from any non-WM tissue (eroded twice, 6-connected): module docstring
LAGS = (1, 2, 3, 4, 6)
SIGMA_CHOICES = (1.0, 2.0, 3.0, 4.0)
PV_CHOICES = (0.3, 0.45, 0.6)  # the acquisition's PSF (Gaussian sigma, voxels)
MIN_VOXELS = 50
DEPTH_TOLERANCE_MM = 2.0
HEAD_SD_CAP = 0.6
HEAD_GROUPS_FIXED = {"background", "air", "vessel"}  # never re-measured: stay dark
# air has no tissue and so no texture: its only signal is the acquisition noise (`snr`, fitted
# on the real scans' air), so its SD is 0 in every contrast (IXI's air is ~80 % exact zeros)
AIR_GROUPS = ("background", "air")
# head classes too thin or small to survive the depth filter borrow a measured neighbour's
# figures: the diploe lies inside the skull (one layer at 2 mm), orbit and soft tissue ~ muscle
BORROW = {"516": "515", "508": "507", "512": "507", "530": "507"}


def _wm_reference(img: NDArray[np.float32], seg: NDArray[np.int32], wm_ids: list[int]) -> float:
    return float(np.percentile(img[np.isin(seg, wm_ids)], 75))


def residual_acf(
    img: NDArray[np.floating[Any]], mask: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], float]:
    """Autocorrelation at LAGS (mean over the three axes) and SD of the detrended residual
    inside `mask` (the texture statistic fitted by this module)."""
    x = img.astype(np.float64)
    m = mask.astype(np.float64)
    trend = ndimage.gaussian_filter(x * m, DETREND_SIGMA) / np.maximum(
        ndimage.gaussian_filter(m, DETREND_SIGMA), 1e-3
    )
    r = np.where(mask, x - trend, 0.0)
    var = float((r[mask] ** 2).mean())
    acf = [lag_product(r, r, mask, lag) / var for lag in LAGS]
    return np.asarray(acf), float(np.sqrt(var))


def texture_mask(wm: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The deep white matter where the texture is measured: WM voxels at least TEXTURE_DEPTH
    6-neighbour steps from any non-WM voxel (module docstring, 2.)."""
    return eroded(wm, TEXTURE_DEPTH - 1)


def lag_product(
    a: NDArray[np.float64], b: NDArray[np.float64], mask: NDArray[np.bool_], lag: int
) -> float:
    """Mean over the three axes of mean(a[i] b[i + lag]) over pairs with both ends in `mask`."""
    vals = []
    for ax in range(3):
        n = a.shape[ax]
        p = np.take(a, range(0, n - lag), axis=ax)
        q = np.take(b, range(lag, n), axis=ax)
        both = np.take(mask, range(0, n - lag), axis=ax) & np.take(mask, range(lag, n), axis=ax)
        vals.append(float((p[both] * q[both]).mean()))
    return float(np.mean(vals))


def _blur(v: NDArray[np.float64], sigma: float) -> NDArray[np.float64]:
    return np.asarray(ndimage.gaussian_filter(v, sigma, mode="constant", truncate=3.0))


def model_acf_parts(
    sigma: float, pv_sigma: float, shape: tuple[int, int, int] = (64, 64, 64), seed: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Autocovariances (lag 0 + LAGS) of the white part, the smooth part and their cross term,
    after the partial-volume blur and the detrending (numerically, on a noise cube)."""
    rng = np.random.default_rng(seed)
    n = rng.standard_normal(shape)
    white = n
    # the renderer's smooth part: drawn on the half-resolution grid, interpolated back
    c = _blur(rng.standard_normal(coarse_shape(shape)), sigma / 2)
    smooth = upsample2((c / c.std()).astype(np.float32), shape).astype(np.float64)
    smooth /= smooth.std()
    mask = np.zeros(shape, bool)
    mask[12:-12, 12:-12, 12:-12] = True

    def cov(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
        a = _blur(a, pv_sigma)
        b = _blur(b, pv_sigma)
        ta = a - _blur(a, DETREND_SIGMA)
        tb = b - _blur(b, DETREND_SIGMA)
        out = [float((ta[mask] * tb[mask]).mean())]
        # symmetric cross term: a at i with b at i + lag, and b at i with a at i + lag
        out += [
            0.5 * (lag_product(ta, tb, mask, lag) + lag_product(tb, ta, mask, lag)) for lag in LAGS
        ]
        return np.asarray(out)

    return cov(white, white), cov(smooth, smooth), cov(white, smooth)


def fit_texture(real_acf: NDArray[np.float64]) -> dict[str, float]:
    """The texture (c0 white, c1 smooth with c0^2 + c1^2 = 1, sigma) and the partial-volume
    PSF (pv sigma) whose rendered WM residual autocorrelation matches the real one best (least
    squares over LAGS). White noise seen through the PSF has the PSF's autocorrelation, so the
    short lags fix the PSF and the long ones the smooth part."""
    best: dict[str, float] | None = None
    for pv in PV_CHOICES:
        for sigma in SIGMA_CHOICES:
            ww, ss, ws = model_acf_parts(sigma, pv)

            def err(
                theta: float,
                ww: NDArray[np.float64] = ww,
                ss: NDArray[np.float64] = ss,
                ws: NDArray[np.float64] = ws,
            ) -> float:
                c0, c1 = np.cos(theta), np.sin(theta)
                c = c0 * c0 * ww + c1 * c1 * ss + c0 * c1 * ws
                return float(((c[1:] / c[0] - real_acf) ** 2).sum())

            res = optimize.minimize_scalar(err, bounds=(0.0, np.pi / 2), method="bounded")
            theta = float(res.x)
            c0, c1 = float(np.cos(theta)), float(np.sin(theta))
            c = c0 * c0 * ww + c1 * c1 * ss + c0 * c1 * ws
            # SD of the rendered texture after PV and detrending, per unit label SD
            cand = {
                "sigma": sigma,
                "pvSigma": pv,
                "white": c0,
                "smooth": c1,
                "error": float(res.fun),
                "gain": float(np.sqrt(c[0])),
            }
            if best is None or cand["error"] < best["error"]:
                best = cand
    assert best is not None
    return best


def _muse_ids(data: Path, fragment: str) -> list[int]:
    ids = []
    with (data / "CBICA-NiChart_Project/resources/MUSE/list_MUSE_single.csv").open() as f:
        for row in csv.DictReader(f):
            if fragment in row["Name"]:
                ids.append(int(row["Index"]))
    return ids


def measure(data: Path, model_dir: Path, log: Any = print) -> dict[str, Any]:
    model, man = load_model(model_dir)
    grid = model.grid
    groups = [str(e["group"]) for e in man["labels"]]
    values = [int(e["value"]) for e in man["labels"]]
    tpl = model.template.astype(np.int64)
    head_idx = [i for i, v in enumerate(values) if 500 <= v < 600]
    brain_tpl = np.isin(
        np.asarray(groups)[tpl],
        [
            "cortex",
            "wm",
            "deep-gm",
            "hippocampus",
            "amygdala",
            "cerebellum-gm",
            "cerebellum-wm",
            "brainstem",
            "ventricle",
        ],
    )
    eroded_cls = {i: ndimage.binary_erosion(tpl == i) for i in head_idx}
    tpl_depth = ndimage.distance_transform_edt(
        ndimage.binary_fill_holes(tpl > 0), sampling=grid.spacing
    )
    wm_ids = _muse_ids(data, "WM")
    x = grid.world_coords().reshape(3, -1).astype(np.float64)
    per_label: dict[int, list[tuple[float, float]]] = {i: [] for i in head_idx}
    acfs, sds, air = [], [], []
    with (data / "ixi-t1-2mm-index.csv").open() as f:
        rows = list(csv.DictReader(f))
    for k, row in enumerate(rows):
        t1 = load_nifti(data / row["t1_path"])
        img = np.asarray(t1.dataobj, np.float32)
        stored = np.asarray(t1.dataobj.get_unscaled(), np.float64)  # type: ignore[attr-defined]
        seg = np.asarray(load_nifti(data / row["dlmuse_seg_path"]).dataobj).astype(np.int32)
        wm = _wm_reference(img, seg, wm_ids)
        # texture: deep WM residual (module docstring, 2.)
        wm_all = np.isin(seg, wm_ids)
        wm_mask = ndimage.binary_erosion(wm_all)
        acf, sd = residual_acf(img / wm, texture_mask(wm_all))
        acfs.append(acf)
        sds.append(sd)
        # noise: air in the 4 superior corners, Rayleigh second moment, per stored WM level
        level = float(np.median(stored[wm_mask]))
        c = np.concatenate(
            [
                stored[sx, sy, -8:].ravel()
                for sx in (slice(0, 8), slice(-8, None))
                for sy in (slice(0, 8), slice(-8, None))
            ]
        )
        air.append(float(np.sqrt((c**2).mean() / 2.0)) / level)
        # head classes through the affine alignment
        a, t = align_masks(brain_tpl, grid, seg > 0, t1.affine)
        y = a @ x + t[:, None]
        inv = np.linalg.inv(t1.affine)
        q = inv[:3, :3] @ y + inv[:3, 3:4]
        inside = np.all((q >= 0) & (q <= np.array(img.shape)[:, None] - 1), axis=0)
        vals = ndimage.map_coordinates(img, q, order=1, mode="nearest", prefilter=False) / wm
        vals = vals.reshape(grid.shape, order="C")
        inside = inside.reshape(grid.shape, order="C")
        spacing = np.sqrt((t1.affine[:3, :3] ** 2).sum(axis=0))
        head_real = ndimage.binary_fill_holes(ndimage.binary_closing(img > 0.1 * wm, iterations=2))
        real_depth = ndimage.distance_transform_edt(head_real, sampling=spacing)
        rd = ndimage.map_coordinates(real_depth, q, order=0, mode="constant", cval=0.0)
        inside &= np.abs(rd.reshape(grid.shape, order="C") - tpl_depth) < DEPTH_TOLERANCE_MM
        for i in head_idx:
            sel = eroded_cls[i] & inside
            if sel.sum() >= MIN_VOXELS:
                v = vals[sel]
                q1, q3 = np.percentile(v, [25, 75])
                per_label[i].append((float(np.median(v)), float((q3 - q1) / 1.349)))
        log(f"  {k + 1}/{len(rows)} {row['MRID']}: wm sd {sd:.3f} acf1 {acf[0]:.2f}")
    head = {
        str(values[i]): {
            "mean": float(np.median([m for m, _ in v])),
            "sd": float(np.median([s for _, s in v])),
            "n": len(v),
        }
        for i, v in per_label.items()
        if v
    }
    return {
        "head": head,
        "wmResidualAcf": [float(a) for a in np.mean(acfs, axis=0)],
        "wmResidualSd": float(np.median(sds)),
        "airSigmaOverWm": float(np.median(air)),
        "lags": list(LAGS),
        "detrendSigmaVoxels": DETREND_SIGMA,
        "textureMask": f"DLMUSE WM at >= {TEXTURE_DEPTH} voxels (6-neighbour) from other tissue",
        "scans": len(rows),
    }


def apply(man: dict[str, Any], fit: dict[str, Any]) -> dict[str, Any]:
    """The fitted figures into `man['appearance']` (returns the texture fit). Idempotent: the
    T1w SDs before any fit are kept in `measured.ixiFit.baseSd` and scaled from there."""
    app = man["appearance"]
    labels = man["labels"]
    tex = fit_texture(np.asarray(fit["wmResidualAcf"]))
    app["partialVolumeSigmaVoxels"] = tex["pvSigma"]
    t1 = app["contrasts"]["T1w"]
    previous = app.get("measured", {}).get("ixiFit", {})
    base_sd = list(previous.get("baseSd") or t1["sd"])
    wm_idx = [i for i, e in enumerate(labels) if e["group"] == "wm" and e["value"] in (2, 41)]
    old_wm_sd = float(np.mean([base_sd[i] for i in wm_idx]))
    new_wm_sd = fit["wmResidualSd"] / tex["gain"]
    for i, e in enumerate(labels):
        v = str(e["value"])
        if v not in fit["head"] and BORROW.get(v) in fit["head"]:
            v = BORROW[v]
        if v in fit["head"] and e["group"] not in HEAD_GROUPS_FIXED:
            h = fit["head"][v]
            t1["mean"][i] = round(h["mean"], 4)
            # the spread within a head class is mostly the misalignment between its layers,
            # not texture: the measured robust SD as it is, at most 60 % of the mean
            t1["sd"][i] = round(max(min(h["sd"], HEAD_SD_CAP * h["mean"]), 0.01), 4)
        elif 0 < e["value"] < 500:
            t1["sd"][i] = round(max(base_sd[i] * new_wm_sd / old_wm_sd, 0.005), 4)
    app["texture"] = {
        "white": round(tex["white"], 4),
        "smooth": round(tex["smooth"], 4),
        "sigmaVoxels": tex["sigma"],
        "coarseFactor": 2,
    }
    app["snr"] = round(float(min(1.0 / max(fit["airSigmaOverWm"], 1e-3), 1000.0)), 1)
    for table in app["contrasts"].values():
        for i, e in enumerate(labels):
            if e["group"] in AIR_GROUPS:
                table["sd"][i] = 0.0
    app.setdefault("measured", {})["ixiFit"] = {**fit, "textureFit": tex, "baseSd": base_sd}
    return tex


def fit_model(model_dir: Path, data: Path, log: Any = print) -> dict[str, Any]:
    """Measure on the real scans and write the fitted appearance into `model_dir`'s manifest."""
    fit = measure(data, model_dir, log)
    path = model_dir / "manifest.json"
    man = json.loads(path.read_text())
    apply(man, fit)
    validate_manifest(man)
    path.write_text(json.dumps(man, indent=1) + "\n")
    return fit


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--dry-run", action="store_true", help="measure and print, change nothing")
    ap.add_argument(
        "--reapply",
        action="store_true",
        help="re-apply the measurements stored in the manifest (no data read)",
    )
    args = ap.parse_args(argv)
    path = args.model / "manifest.json"
    if not path.is_file():
        raise SystemExit(f"{args.model} has no manifest.json")
    man = json.loads(path.read_text())
    if args.reapply:
        stored = man["appearance"].get("measured", {}).get("ixiFit")
        if not stored:
            raise SystemExit(f"{path} holds no appearance fit to re-apply: run without --reapply")
        fit = dict(stored)
    else:
        if not (args.data / "ixi-t1-2mm-index.csv").is_file():
            raise SystemExit(f"{args.data} is not the shared data folder (no ixi-t1-2mm-index.csv)")
        fit = measure(args.data, args.model)
    tex = apply(man, fit)
    print(json.dumps({k: v for k, v in fit.items() if k != "head"}, indent=1))
    print("texture fit:", tex, "snr:", man["appearance"]["snr"])
    for v, h in fit["head"].items():
        print(f"  label {v}: mean {h['mean']:.3f} sd {h['sd']:.3f} (n={h['n']})")
    if not args.dry_run:
        validate_manifest(man)
        path.write_text(json.dumps(man, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Build the first model from real label maps.

    python -m brainsynth.pipeline.build --data ../shared/data

Steps (each cached in --work so a rerun resumes): align the label maps to the MNI152 brain,
groupwise diffeomorphic template, label template at 2 mm, PCA shape model, regional basis,
normative table, calibration of age/sex gains, appearance, lesion priors, export, metrics,
folding, the local field of the deep structures (step 4b), the head-size spread, label-level
sizing (step 7c), the T1w appearance fit and the glioma/T1c calibration (pipeline/glioma_fit.py).
"""

from __future__ import annotations

import argparse
import pickle
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from brainsynth import __version__
from brainsynth.anatomy import AnatomyModel, region_volumes, sample_label_indices
from brainsynth.common.grid import OUTPUT_GRID, OUTPUT_GRID_1MM
from brainsynth.common.labels import LABEL_RANGES, in_range
from brainsynth.pathologies.alzheimers import GAIN_REGIONS, SEVERITY1_CHANGE
from brainsynth.paths import DEFAULT_MODEL_ID, MODELS_DIR
from brainsynth.pipeline import appearance, calibrate, lesion_shapes, lesions, normative, shape
from brainsynth.pipeline.age_fit import fit as fit_age
from brainsynth.pipeline.appearance_fit import fit_model as fit_appearance
from brainsynth.pipeline.bias_fit import fit as fit_bias
from brainsynth.pipeline.folding import add_folding
from brainsynth.pipeline.glioma_fit import fit_model as fit_glioma
from brainsynth.pipeline.head_fit import fit as fit_head
from brainsynth.pipeline.head_layers import fit as fit_head_layers
from brainsynth.pipeline.labels import BRAIN_TISSUE, REGIONS, REGISTRATION_CHANNELS, label_table
from brainsynth.pipeline.lesion_fit import fit as fit_lesions
from brainsynth.pipeline.local_field import fit as fit_local_field
from brainsynth.pipeline.model_folder import write_model
from brainsynth.pipeline.reference import mni_brain_mask
from brainsynth.pipeline.regional import regional_basis
from brainsynth.pipeline.render_fit import fit as fit_render
from brainsynth.pipeline.size_spread import fit_model as fit_size_spread
from brainsynth.pipeline.sizing import add_sizing
from brainsynth.pipeline.subjects import Subject, align_subject, channel_fractions, load_label_map
from brainsynth.pipeline.template import REG_GRID, build_groupwise, label_template
from brainsynth.pipeline.texture_gain_fit import fit as fit_texture_gain

T = TypeVar("T")
MODEL_ID = DEFAULT_MODEL_ID


def cached(work: Path, name: str, fn: Callable[[], T], log: Callable[[str], None]) -> T:
    path = work / f"{name}.pkl"
    if path.exists():
        log(f"[cache] {name}")
        with path.open("rb") as f:
            return pickle.load(f)
    t0 = time.time()
    out = fn()
    with path.open("wb") as f:
        pickle.dump(out, f)
    log(f"[done] {name} in {time.time() - t0:.0f} s")
    return out


def _align(args: tuple[Path, np.ndarray]) -> Subject:
    path, ref = args
    lab, aff = load_label_map(path)
    return align_subject(path.stem, lab, aff, ref, REG_GRID, BRAIN_TISSUE)


def atrophy_index(s: Subject) -> float:
    lv = np.isin(s.labels, [4, 43, 5, 44]).sum()
    icv = in_range(s.labels, LABEL_RANGES["intracranial"]).sum()
    return float(lv / icv)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--data", type=Path, required=True, help="folder with synthseg-label-maps/ etc."
    )
    ap.add_argument("--out", type=Path, default=MODELS_DIR / MODEL_ID)
    ap.add_argument("--work", type=Path, default=Path("/tmp/brainsynth-work"))
    ap.add_argument("--components", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    log = print
    data: Path = args.data
    files = sorted((data / "synthseg-label-maps").glob("training_seg_*.nii.gz"))
    if not files:
        raise SystemExit(f"no label maps found under {data / 'synthseg-label-maps'}")
    log(f"{len(files)} label maps")

    ref = mni_brain_mask(data)

    def align_all() -> list[Subject]:
        with ProcessPoolExecutor(max_workers=args.workers) as ex:
            return list(ex.map(_align, [(f, ref) for f in files]))

    subjects = cached(args.work, "subjects", align_all, log)
    chans = cached(
        args.work,
        "channels",
        lambda: [channel_fractions(s, REG_GRID, REGISTRATION_CHANNELS) for s in subjects],
        log,
    )
    reg_template, velocities = cached(
        args.work, "groupwise", lambda: build_groupwise(chans, workers=args.workers, log=log), log
    )
    values = sorted({int(v) for s in subjects for v in np.unique(s.labels)})
    labels = label_table(values)
    label_values = [lab["value"] for lab in labels]
    tmpl, tmpl_prob = cached(
        args.work,
        "label_template",
        lambda: label_template(subjects, velocities, OUTPUT_GRID, label_values),
        log,
    )
    tmpl_values = np.asarray(label_values, np.int32)[tmpl]
    tmpl_1mm, _ = cached(
        args.work,
        "label_template_1mm",
        lambda: label_template(subjects, velocities, OUTPUT_GRID_1MM, label_values),
        log,
    )

    atrophy = np.array([atrophy_index(s) for s in subjects])
    w = [shape.to_velocity_grid(-v, REG_GRID) for v in velocities]  # template -> subject
    sm = shape.fit_shape_model(w, atrophy, args.components)
    log(
        f"shape model: explained {np.round(sm.explained, 3).tolist()}, "
        f"atrophy R^2 {sm.atrophy_r2:.3f}"
    )
    basis = cached(
        args.work, "basis", lambda: regional_basis(tmpl_values, [r[1] for r in REGIONS]), log
    )

    model = AnatomyModel(
        template=tmpl,
        label_values=np.asarray(label_values, np.int32),
        components=(sm.components * sm.sigma[:, None, None, None, None]).astype(np.float32),
        basis=basis,
        region_names=[r[0] for r in REGIONS],
        region_labels=[r[1] for r in REGIONS],
        template_icv_ml=0.0,
        grid_centre_mm=(0.0, -18.0, 10.0),
    )
    zero = np.zeros(len(REGIONS))
    tv = region_volumes(model, sample_label_indices(model, np.zeros(args.components), zero))
    model.template_icv_ml = tv["icv"]
    log(f"template volumes (mL): { {k: round(v, 1) for k, v in tv.items()} }")

    norm = normative.build_normative_table(data)
    calib = calibrate_all(model, norm, tv, log)
    app = appearance.appearance_tables(labels, appearance.measure_ixi_t1(data))
    ms_prior, ms_stats = lesions.ms_statistics(data)
    terr = lesions.territories(data)
    metrics = conditioning_metrics(model, calib, norm, log)
    metrics["shapeModel"] = {
        "subjects": len(subjects),
        "explainedVariance": sm.explained.tolist(),
        "atrophyIndexR2": sm.atrophy_r2,
        "templateMaxProbabilityMean": float(tmpl_prob[tmpl > 0].mean()),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    normative.write_table(norm, args.out / "normative_table.csv")
    write_model(
        args.out,
        model_id=MODEL_ID,
        version="1.0.0",
        software_version=__version__,
        labels=labels,
        template=tmpl,
        template_1mm=tmpl_1mm,
        components=sm.components,
        sigma=sm.sigma,
        explained=sm.explained,
        basis=basis,
        calibration=calib,
        appearance=app,
        ms_prior=ms_prior,
        ms_stats=ms_stats,
        territories=terr,
        metrics=metrics,
        template_icv_ml=model.template_icv_ml,
        grid_centre=model.grid_centre_mm,
    )
    # step 7b (individual folding), 7c (label-level sizing of the small structures) and the
    # T1w appearance fitted to the real IXI scans: head, texture and noise; then tissue means
    # and bias strength through the renderer (it renders with the finished model)
    add_folding(args.out)
    # step 4b: the local field of the deep structures, fitted through the sampler to the real
    # maps' between-subject Dice (before the size spread and the sizing, which measure
    # individuals with it)
    fit_local_field(args.out, args.data, log=log)
    # step 5's head-size spread: the normative brain-volume spread less the model's own (its
    # shape, folding and size latent; before the sizing, whose ventricle spread builds on it)
    fit_size_spread(args.out, args.data, log=log)
    # step 7c: hippocampus, amygdala, 3rd/4th ventricles, temporal horns (in that order): their
    # age factors over random individuals and Alzheimer's factors (after the folding, whose
    # label map it acts on; before every fit that renders the model)
    add_sizing(args.out, log, data=args.data)
    fit_appearance(args.out, args.data, log)
    # lesion shapes and locations (stroke frequency map, MS location shares, labels 702/722)
    lesion_shapes.update_model(args.out, args.data)
    # the bias field's systematic part (the 3 T central brightening), then the render fit, which
    # refits the random part's strength and the tissue means with it in place
    fit_bias(args.out, args.data, log=log)
    # the T1w tissues' change with age through the renderer (the levels follow in the render fit)
    fit_age(args.out, args.data, log=log)
    # the texture's amplitude with age and between people (the render fit then fits the SDs)
    fit_texture_gain(args.out, args.data, log=log)
    fit_render(args.out, args.data, log=log)
    # MS lesion FLAIR and infarct T2w through the renderer to the real lesions (after the render
    # fit, which rewrites the T2w/FLAIR tables from its own base)
    fit_lesions(args.out, args.data, log=log)
    # the head's layers over the vault: their thickness (step 7c's skull and scalp structures,
    # with the skull's individual spread), then their intensities, both through the renderer
    fit_head_layers(args.out, args.data, log=log)
    fit_head(args.out, args.data, log=log)
    # the glioma labels and the post-contrast T1 calibrated on the real glioma cases (last: T1c
    # is derived from the final T1w table, after the render fit)
    fit_glioma(args.out, args.data, log)
    log(f"wrote {args.out}")


def calibrate_all(
    model: AnatomyModel,
    norm: dict[str, dict[str, np.ndarray]],
    template_vols: dict[str, float],
    log: Callable[[str], None],
) -> dict[str, Any]:
    regions = model.region_names
    ages = normative.AGES
    # Template's reference age: where the normative lateral-ventricle fraction (sex-averaged)
    # equals the template's. Relative change with age is then taken from that age on.
    frac = {
        r: (norm["female"][r] / norm["female"]["icv"] + norm["male"][r] / norm["male"]["icv"]) / 2
        for r in normative.MUSE_MAP
    }
    t_lv = template_vols["lateral-ventricles"] / template_vols["icv"]
    ref_i = int(np.argmin(np.abs(frac["lateral-ventricles"] - t_lv)))
    log(f"template reference age {ages[ref_i]} (LV fraction {t_lv:.4f})")
    fixed = template_vols["icv"] - sum(template_vols[r] for r in regions)

    def targets(sex: str, age_i: int, icv: float) -> dict[str, float]:
        out = {}
        for r in normative.MUSE_MAP:
            f_t = template_vols[r] / template_vols["icv"]
            out[r] = f_t * (norm[sex][r][age_i] / norm[sex]["icv"][age_i]) / frac[r][ref_i] * icv
        out["csf"] = icv - sum(out.values()) - fixed * icv / template_vols["icv"]
        return out

    gains: dict[str, list[list[float]]] = {}
    residual: dict[str, dict[int, float]] = {s: {} for s in normative.SEXES}
    icv_ml = {s: float(norm[s]["icv"][0]) for s in normative.SEXES}
    knots = list(range(0, len(ages), 5)) + ([len(ages) - 1] if (len(ages) - 1) % 5 else [])
    for sex in normative.SEXES:
        k = calibrate.icv_scale(model, icv_ml[sex])
        solved: dict[int, np.ndarray] = {}
        g: np.ndarray | None = None
        # Walk outwards from the template's reference age so each solve starts close to its
        # answer (the deformation from 78 to 20 years is large).
        start = min(knots, key=lambda i: abs(i - ref_i))
        order = sorted((i for i in knots if i <= start), reverse=True)
        order += sorted(i for i in knots if i > start)
        for i in order:
            log(f"  calibrating {sex} age {ages[i]}")
            g0 = solved.get(i + 5, solved.get(i - 5, g))
            g, err = calibrate.solve_gains(
                model, targets(sex, i, icv_ml[sex]), k, g0=g0, iterations=12, log=log
            )
            solved[i] = g
            residual[sex][int(ages[i])] = round(err, 4)
        table = np.stack(
            [
                np.array(
                    [
                        np.interp(i, knots, [solved[j][r] for j in knots])
                        for r in range(len(regions))
                    ]
                )
                for i in range(len(ages))
            ]
        )
        gains[sex] = np.round(table, 5).tolist()
    # Alzheimer's disease at severity 1, beyond age (the model card's picture,
    # `alzheimers.SEVERITY1_CHANGE`, for the regions the gains carry), solved at 75 years, female.
    i75 = int(np.where(ages == 75)[0][0])
    base_t = targets("female", i75, icv_ml["female"])
    ad_t = dict(base_t)
    for r in GAIN_REGIONS:
        ad_t[r] = base_t[r] * SEVERITY1_CHANGE[r]
    ad_t["csf"] = base_t["csf"] + sum(base_t[r] - ad_t[r] for r in regions if r != "csf")
    kf = calibrate.icv_scale(model, icv_ml["female"])
    g_base = np.asarray(gains["female"][i75])
    g_ad, _ = calibrate.solve_gains(model, ad_t, kf, g0=g_base, log=log)
    return {
        "ages": [int(a) for a in ages],
        "gains": gains,
        "icvMl": icv_ml,
        "referenceAge": int(ages[ref_i]),
        "adGainsAtSeverity1": np.round(g_ad - g_base, 5).tolist(),
        # largest |log volume error| of the calibrated regions left at each solved age
        "solveMaxLogError": residual,
        "tiedRegions": dict(calibrate.TIES),
        "targets": {
            s: {int(ages[i]): targets(s, i, icv_ml[s]) for i in knots} for s in normative.SEXES
        },
    }


def conditioning_metrics(
    model: AnatomyModel,
    calib: dict[str, Any],
    norm: dict[str, dict[str, np.ndarray]],
    log: Callable[[str], None],
    n_random: int = 6,
) -> dict[str, Any]:
    """Generated volumes at z = 0 and for random z vs. the normative table, ages 20-90."""
    from brainsynth.common.rng import normals

    rows = []
    ages = calib["ages"]
    i45 = ages.index(45)
    # every region with a normative value (not csf, which is what remains of the ICV)
    report = [r for r in model.region_names if r in normative.MUSE_MAP]
    vol45: dict[str, dict[str, float]] = {}
    for sex in normative.SEXES:
        k = calibrate.icv_scale(model, calib["icvMl"][sex])
        for age in (45, 20, 30, 40, 50, 60, 70, 80, 90):
            i = ages.index(age)
            g = np.asarray(calib["gains"][sex][i])
            v0 = region_volumes(
                model, sample_label_indices(model, np.zeros(model.components.shape[0]), g, k)
            )
            rand = []
            for s in range(n_random):
                z = normals(1000 + s, model.components.shape[0])
                rand.append(region_volumes(model, sample_label_indices(model, z, g, k)))
            if age == 45:
                vol45[sex] = v0
            for r in report + ["icv"]:
                n = float(norm[sex][r][i])
                n45 = float(norm[sex][r][i45])
                m = v0[r]
                row: dict[str, Any] = {
                    "sex": sex,
                    "age": age,
                    "region": r,
                    "modelMl": round(m, 2),
                    "normativeMl": round(n, 2),
                    "modelRatioTo45": round(m / vol45[sex][r], 4),
                    "normativeRatioTo45": round(n / n45, 4),
                    "randomZMedianMl": round(float(np.median([x[r] for x in rand])), 2),
                }
                row["relativeError"] = round((m / vol45[sex][r]) / (n / n45) - 1, 4)
                if r == "icv":
                    row["relativeError"] = round(m / n - 1, 4)
                rows.append(row)
            log(
                f"  {sex} {age}: "
                + ", ".join(f"{r} {v0[r]:.1f}/{norm[sex][r][i]:.1f}" for r in report + ["icv"])
            )
    tied = set(calibrate.TIES)
    worst = max(abs(r["relativeError"]) for r in rows if r["region"] not in tied)
    worst_tied = max((abs(r["relativeError"]) for r in rows if r["region"] in tied), default=0.0)
    return {
        "conditioning": {
            "method": "z = 0 (the mean individual) at each age and sex; regional volumes of the "
            "generated 2 mm label map vs. the normative table. Regions: relative change to age 45 "
            "(DLMUSE and FreeSurfer define regions differently); ICV: absolute.",
            "rows": rows,
            "maxAbsRelativeError": worst,
            # regions whose gain is tied to a neighbour's follow it, unsteered (calibrate.TIES)
            "maxAbsRelativeErrorTied": worst_tied,
            "tiedRegions": sorted(tied),
            "target": 0.05,
        }
    }


if __name__ == "__main__":
    main()

"""Pipeline units on tiny synthetic label maps (no ../shared needed)."""

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from brainsynth.anatomy import AnatomyModel, region_volumes, sample_label_indices
from brainsynth.common.grid import OUTPUT_GRID, VELOCITY_GRID
from brainsynth.pipeline.labels import BRAIN_TISSUE, REGIONS, REGISTRATION_CHANNELS, label_table
from brainsynth.pipeline.regional import poisson_dirichlet, regional_basis
from brainsynth.pipeline.register import register_svf, ssd
from brainsynth.pipeline.shape import fit_shape_model
from brainsynth.pipeline.subjects import Subject, channel_fractions, moments_init
from brainsynth.pipeline.template import REG_GRID
from brainsynth.tests.synthetic import ellipsoid_head, ras_affine


def _subject(scale: float, ventricle: float) -> Subject:
    lab = ellipsoid_head(scale=scale, ventricle=ventricle)
    return Subject("s", lab, ras_affine(lab.shape), np.eye(3) * 0.5, np.zeros(3))


def test_moments_init_recovers_a_scaling() -> None:
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(5000, 3)).astype(np.float32) * [10, 20, 15]
    a, t = moments_init(pts, pts * 1.3 + 5)
    assert np.allclose(a, np.eye(3) * 1.3, atol=0.02)
    assert np.allclose(t, 5, atol=0.3)


def test_channel_fractions_sum_to_one_inside_head() -> None:
    ch = channel_fractions(_subject(1.0, 1.0), REG_GRID, REGISTRATION_CHANNELS)
    total = ch.sum(0)
    assert total.max() <= 1.0 + 1e-6
    assert (total > 0.99).sum() > 100  # the head is there
    wm = ch[1].sum() * 64 / 1000
    assert wm > 10  # mL, plausibly scaled by the 0.5 affine


def test_registration_reduces_mismatch() -> None:
    fixed = channel_fractions(_subject(1.0, 1.0), REG_GRID, REGISTRATION_CHANNELS)
    moving = channel_fractions(_subject(1.0, 2.0), REG_GRID, REGISTRATION_CHANNELS)
    v = register_svf(fixed, moving, REG_GRID, iterations=15)
    before = ssd(fixed, moving, REG_GRID, v * 0)
    after = ssd(fixed, moving, REG_GRID, v)
    assert after < 0.75 * before


def test_poisson_solver_satisfies_laplacian() -> None:
    rhs = np.zeros((12, 14, 10))
    rhs[5:8, 6:9, 4:7] = 1.0
    phi = poisson_dirichlet(rhs, 2.0)
    p = np.pad(phi, 1)
    lap = (
        p[2:, 1:-1, 1:-1]
        + p[:-2, 1:-1, 1:-1]
        + p[1:-1, 2:, 1:-1]
        + p[1:-1, :-2, 1:-1]
        + p[1:-1, 1:-1, 2:]
        + p[1:-1, 1:-1, :-2]
        - 6 * phi
    ) / 4.0
    assert np.allclose(lap, rhs, atol=1e-8)


def _tiny_model() -> AnatomyModel:
    """Synthetic template on the real output grid (MNI-sized ellipsoid head at 2 mm)."""
    head = ellipsoid_head(shape=(96, 120, 104), scale=2.6, ventricle=1.5)
    values = label_table([int(v) for v in np.unique(head)])
    lut = {e["value"]: e["index"] for e in values}
    tmpl = np.vectorize(lambda v: lut[int(v)])(head).astype(np.uint8)
    tmpl_values = np.asarray([e["value"] for e in values], np.int32)[tmpl]
    basis = regional_basis(tmpl_values, [r[1] for r in REGIONS])
    comps = np.zeros((2, 3) + VELOCITY_GRID.shape, np.float32)
    comps[0, 0] = 2.0  # a translation, for determinism checks
    return AnatomyModel(
        template=tmpl,
        label_values=np.asarray([e["value"] for e in values], np.int32),
        components=comps,
        basis=basis,
        region_names=[r[0] for r in REGIONS],
        region_labels=[r[1] for r in REGIONS],
        template_icv_ml=1.0,
        grid_centre_mm=(0.0, 0.0, 0.0),
    )


def test_regional_gain_changes_that_region() -> None:
    model = _tiny_model()
    z = np.zeros(2)
    g = np.zeros(len(REGIONS))
    base = region_volumes(model, sample_label_indices(model, z, g))
    lv = [r[0] for r in REGIONS].index("lateral-ventricles")
    g[lv] = 0.3
    grown = region_volumes(model, sample_label_indices(model, z, g))
    ratio = grown["lateral-ventricles"] / base["lateral-ventricles"]
    assert 1.15 < ratio < 1.6, ratio
    # the rest of the brain moves aside rather than changing much
    assert abs(grown["cerebral-wm"] / base["cerebral-wm"] - 1) < 0.1


def test_sampling_is_deterministic_and_scales_icv() -> None:
    model = _tiny_model()
    z = np.array([1.0, 0.0])
    g = np.zeros(len(REGIONS))
    a = sample_label_indices(model, z, g)
    assert np.array_equal(a, sample_label_indices(model, z, g))
    small = region_volumes(model, sample_label_indices(model, z, g, scale=0.9))
    full = region_volumes(model, a)
    assert abs(small["icv"] / full["icv"] - 0.729) < 0.03


def test_shape_model_removes_the_atrophy_direction() -> None:
    rng = np.random.default_rng(1)
    direction = rng.normal(size=(3, 4, 4, 4)).astype(np.float32)
    atrophy = np.linspace(0, 1, 12)
    fields = [
        a * direction + 0.05 * rng.normal(size=direction.shape).astype(np.float32) for a in atrophy
    ]
    sm = fit_shape_model(fields, atrophy, k=3)
    assert sm.atrophy_r2 > 0.9
    cos = abs(float((sm.components[0] * direction).sum()) / np.linalg.norm(direction))
    assert cos < 0.3  # the leading residual component is not the atrophy direction


def _write_tiny(tmp_path: Path, appearance: dict | None = None) -> None:
    from brainsynth.pipeline.model_folder import write_model
    from brainsynth.schema import CONTRASTS

    model = _tiny_model()
    labels = label_table([int(v) for v in model.label_values])
    r = len(REGIONS)
    calib = {
        "ages": [20, 90],
        "gains": {"female": [[0.0] * r] * 2, "male": [[0.0] * r] * 2},
        "icvMl": {"female": 1300.0, "male": 1500.0},
        "referenceAge": 50,
        "adGainsAtSeverity1": [0.0] * r,
    }
    write_model(
        tmp_path,
        model_id="tiny",
        version="0",
        software_version="0",
        labels=labels,
        template=model.template,
        template_1mm=None,
        components=model.components,
        sigma=np.ones(2),
        explained=np.array([0.5, 0.5]),
        basis=model.basis,
        calibration=calib,
        appearance=appearance
        or {
            "contrasts": {
                c: {"mean": [1.0] * len(labels), "sd": [0.1] * len(labels)} for c in CONTRASTS
            },
            "partialVolumeSigmaVoxels": 0.6,
            "textureSigmaVoxels": 1.0,
            "biasFieldStrength": 0.1,
            "snr": 30.0,
        },
        ms_prior=np.zeros(OUTPUT_GRID.shape, np.float32),
        ms_stats={"lesionVolumeLogMeanMl": -1.0, "lesionVolumeLogSdMl": 1.0},
        territories=np.zeros(OUTPUT_GRID.shape, np.uint8),
        metrics={},
        template_icv_ml=1.0,
        grid_centre=(0.0, 0.0, 0.0),
    )


def test_write_model_round_trip(tmp_path: Path) -> None:
    from brainsynth.schema import manifest_errors

    model = _tiny_model()
    _write_tiny(tmp_path)
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest_errors(man) == []  # a freshly exported manifest follows the schema
    for spec in man["arrays"].values():
        raw = gzip.decompress((tmp_path / spec["file"]).read_bytes())
        itemsize = {"uint8": 1, "int16": 2}[spec["dtype"]]
        assert len(raw) == int(np.prod(spec["shape"])) * itemsize
    raw = gzip.decompress((tmp_path / "template_labels.u8.gz").read_bytes())
    back = np.frombuffer(raw, np.uint8).reshape(OUTPUT_GRID.shape[::-1]).T
    assert np.array_equal(back, model.template)
    assert man["labels"][0]["value"] == 0 and any(e["value"] == 701 for e in man["labels"])
    assert BRAIN_TISSUE  # imported table is non-empty


DATA = Path(__file__).resolve().parents[3] / "shared" / "data"  # ../shared/data beside the repo


@pytest.mark.skipif(not (DATA / "CBICA-NiChart_Project").exists(), reason="../shared/data absent")
def test_normative_table_below_45_is_head_size_normalised() -> None:
    """IXI's younger women have larger heads (cohort effect): a fit of absolute volumes made
    the female cortex 13 % larger at 20 than at 45. Fitting volume/ICV gives a change close to
    the men's and keeps the table joined to the centiles at 45."""
    from brainsynth.pipeline import normative

    table = normative.build_normative_table(DATA)
    i20, i45 = 0, 25
    ratio = {s: table[s]["cortex"][i20] / table[s]["cortex"][i45] for s in normative.SEXES}
    assert 1.02 < ratio["female"] < 1.10, ratio
    assert 1.02 < ratio["male"] < 1.10, ratio
    assert abs(ratio["female"] - ratio["male"]) < 0.03, ratio
    for s in normative.SEXES:
        assert np.all(table[s]["icv"] == table[s]["icv"][0])  # ICV constant with age


def test_write_model_rejects_a_manifest_off_the_schema(tmp_path: Path) -> None:
    from brainsynth.schema import ManifestError

    with pytest.raises(ManifestError, match="appearance"):
        _write_tiny(tmp_path, appearance={"contrasts": {}})
    assert not (tmp_path / "manifest.json").exists()

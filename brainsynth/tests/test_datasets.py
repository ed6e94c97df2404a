"""The dataset factory: spec validation, deterministic subjects, BIDS output (validated by the
BIDS validator when installed), manifest queries, resume, quota."""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from brainsynth.datasets import bids
from brainsynth.datasets.derive import subject
from brainsynth.datasets.manifest import Manifest, QueryError, parse_filter
from brainsynth.datasets.runner import Dataset, Job, make_subject, verify
from brainsynth.datasets.spec import SpecError, check_spec, parse_text
from brainsynth.tests.datasets_support import (
    MODELS,
    ROOT,
    bids_validator,
    small_spec,
    validate_bids,
    write_spec,
)


def reasons(spec: object) -> str:
    with pytest.raises(SpecError) as info:
        check_spec(spec, MODELS)
    return " | ".join(info.value.reasons)


def test_a_good_spec_gets_its_defaults() -> None:
    spec = check_spec({"count": 3, "seed": 1}, MODELS)
    assert spec.model == "brainsynth-shape-v1" and spec.resolution_mm == 1
    assert spec.contrasts == ("T1w",) and spec.pathology[0].type == "none"
    assert (spec.age_min, spec.age_max) == (20, 90)  # the model's range
    assert check_spec({"count": 3, "seed": 1}, MODELS).digest == spec.digest


def test_every_reason_is_listed_at_once() -> None:
    text = reasons(
        small_spec(
            contrasts=["T1w", "PD"],
            age={"min": 10, "max": 80},
            pathology=[
                {"type": "none", "fraction": 0.5},
                {
                    "type": "ms",
                    "fraction": 0.2,
                    "parameters": {"msLesionLoadMl": {"min": 5, "max": 99}},
                },
                {"type": "stroke", "fraction": 0.2, "parameters": {"gliomaRadiusMm": 10}},
                {"type": "flu", "fraction": 0.05},
            ],
        )
    )
    for expected in (
        "contrasts: 'PD' is not one of",
        "age: need 20 <= min <= max <= 90",
        "fractions add up to 0.95, not 1",
        "pathology/1/parameters/msLesionLoadMl: 99 is greater than the maximum of 40",
        "pathology/2/parameters/gliomaRadiusMm: applies to pathology 'glioma', not 'stroke'",
        "pathology/3/type: 'flu' is not one of",
    ):
        assert expected in text, (expected, text)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"seed": 1}, "'count' is a required property"),
        ({"count": 0, "seed": 1}, "count: 0 is less than the minimum of 1"),
        ({"count": 2, "seed": 1, "resolutionMm": 3}, "resolutionMm: 3 is not one of [1, 2]"),
        ({"count": 2, "seed": 1, "colour": "red"}, "'colour' was unexpected"),
        ({"count": 2, "seed": 1, "femaleFraction": float("nan")}, "not a finite number"),
        ({"count": 2, "seed": 1, "femaleFraction": float("inf")}, "not a finite number"),
        ({"count": 2, "seed": 1, "model": "../etc"}, "model: '../etc' does not match"),
        ({"count": 2, "seed": 1, "model": "nope"}, "cannot read model 'nope'"),
        (
            {"count": 2, "seed": 1, "age": {"min": 30, "max": 60, "distribution": "normal"}},
            "needs 'mean' and 'sd'",
        ),
        (
            {
                "count": 2,
                "seed": 1,
                "pathology": [{"type": "ms", "fraction": 1, "parameters": {"age": 3}}],
            },
            "not a parameter of pathology 'ms'",
        ),
        (
            {
                "count": 2,
                "seed": 1,
                "pathology": [
                    {"type": "stroke", "fraction": 1, "parameters": {"strokeSide": "up"}}
                ],
            },
            "'up' is not one of ['left', 'right']",
        ),
    ],
)
def test_bad_specs_are_refused_with_the_reason(spec: dict[str, object], expected: str) -> None:
    assert expected in reasons(spec)


def test_non_finite_literals_and_yaml() -> None:
    with pytest.raises(SpecError, match="not a finite number"):
        parse_text('{"count": 2, "seed": 1, "femaleFraction": NaN}')
    with pytest.raises(SpecError, match="not a finite number"):
        check_spec(parse_text('{"count": 2, "seed": 1, "femaleFraction": 1e999}'), MODELS)
    spec = parse_text("count: 2\nseed: 1\nfemaleFraction: .nan\n", ".yaml")
    assert "not a finite number" in reasons(spec)
    good = parse_text("count: 2\nseed: 5\ncontrasts: [T1w, T2w]\n", ".yml")
    assert check_spec(good, MODELS).contrasts == ("T1w", "T2w")


def test_subjects_derive_from_the_spec_seed_and_index_only() -> None:
    small = check_spec(small_spec(count=10), MODELS)
    large = check_spec(small_spec(count=100_000), MODELS)
    for i in (0, 3, 9):
        a, b = subject(small, i), subject(large, i)
        assert (a.seed, a.conditions) == (b.seed, b.conditions)
    # the stream is the i-th child of SeedSequence(seed).spawn()
    child = np.random.SeedSequence(small.seed).spawn(4)[3]
    assert child.spawn_key == (3,) and child.entropy == small.seed
    other = check_spec(small_spec(count=10, seed=12), MODELS)
    assert subject(other, 3).seed != subject(small, 3).seed
    with pytest.raises(IndexError):
        subject(small, 10)


def test_shares_match_the_spec_on_every_prefix() -> None:
    spec = check_spec(
        small_spec(
            count=2000,
            femaleFraction=0.3,
            age={"min": 40, "max": 80, "distribution": "normal", "mean": 60, "sd": 8},
        ),
        MODELS,
    )
    subjects = [subject(spec, i) for i in range(2000)]
    for n in (100, 1000, 2000):
        head = subjects[:n]
        female = sum(s.conditions["sex"] == "female" for s in head)
        ms = sum(s.conditions["pathology"] == "ms" for s in head)
        assert abs(female - 0.3 * n) <= 3 and abs(ms - 0.3 * n) <= 3, (n, female, ms)
    ages = np.array([s.conditions["age"] for s in subjects])
    assert ages.min() >= 40 and ages.max() <= 80 and abs(ages.mean() - 60) < 1
    loads = [s.conditions["msLesionLoadMl"] for s in subjects if "msLesionLoadMl" in s.conditions]
    assert min(loads) >= 5 and max(loads) <= 30
    assert all(
        ("msLesionLoadMl" in s.conditions) == (s.conditions["pathology"] == "ms") for s in subjects
    )


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "out"
    spec = check_spec(small_spec(), MODELS)
    ds = Dataset(spec, out, MODELS)
    ds.prepare()
    assert ds.run().done == 4
    return out


def test_the_dataset_is_complete_and_checksummed(dataset: Path) -> None:
    assert verify(dataset) == []
    files = sorted(p.relative_to(dataset).as_posix() for p in dataset.glob("sub-*/anat/*"))
    assert len(files) == 4 * 6  # T1w, FLAIR, dseg: each with its JSON sidecar
    assert "sub-00001/anat/sub-00001_FLAIR.nii.gz" in files
    desc = json.loads((dataset / "dataset_description.json").read_text())
    assert desc["DatasetType"] == "derivative" and desc["GeneratedBy"][0]["Name"] == "brainsynth"
    assert json.loads((dataset / bids.SPEC_FILE).read_text())["seed"] == 1


def test_files_read_back(dataset: Path) -> None:
    img = nib.load(dataset / "sub-00002/anat/sub-00002_T1w.nii.gz")
    seg = nib.load(dataset / "sub-00002/anat/sub-00002_dseg.nii.gz")
    assert img.shape == seg.shape == (96, 120, 104)
    assert img.get_data_dtype() == np.float32 and seg.get_data_dtype() == np.int16
    assert seg.header.get_intent()[0] == "label" and int(img.header["sform_code"]) == 1
    assert np.isfinite(np.asarray(img.dataobj)).all()
    side = json.loads((dataset / "sub-00002/anat/sub-00002_T1w.json").read_text())
    s = subject(check_spec(small_spec(), MODELS), 1)
    assert side["Seed"] == s.seed and side["Conditions"]["age"] == s.conditions["age"]
    assert side["ModelId"] == "brainsynth-shape-v1" and side["RegionalVolumesMl"]["icv"] > 1000
    with open(dataset / "participants.tsv") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert [r["participant_id"] for r in rows] == [f"sub-0000{i}" for i in range(1, 5)]
    described = json.loads((dataset / "participants.json").read_text())
    assert set(rows[0]) == set(described)


@pytest.mark.skipif(bids_validator() is None, reason="bids-validator-deno is not installed")
def test_bids_validator_finds_no_error(dataset: Path) -> None:
    assert validate_bids(dataset) == []


@pytest.mark.skipif(
    importlib.util.find_spec("bids") is None, reason="pybids is not installed (extra bidscheck)"
)
def test_pybids_reads_it_back(dataset: Path) -> None:
    from bids import BIDSLayout

    layout = BIDSLayout(dataset, validate=False, is_derivative=True)
    assert layout.get_subjects() == ["00001", "00002", "00003", "00004"]
    assert len(layout.get(suffix="dseg", extension=".nii.gz")) == 4
    t1 = layout.get(subject="00003", suffix="T1w", extension=".nii.gz")[0]
    assert t1.get_metadata()["Seed"] == subject(check_spec(small_spec(), MODELS), 2).seed


def test_manifest_queries(dataset: Path) -> None:
    m = Manifest(dataset / bids.MANIFEST_FILE)
    rows = m.subjects()
    assert len(rows) == 4 and len(m.files()) == 24
    females = m.subjects([parse_filter("sex = female"), parse_filter("age>50")])
    assert all(r["sex"] == "female" and r["age"] > 50 for r in females)
    assert len(females) == sum(r["sex"] == "female" and r["age"] > 50 for r in rows)
    ms = [r for r in rows if r["pathology"] == "ms"]
    assert ms and all(r["lesion_ml"] > 4 for r in ms)  # measured MS-lesion volume
    assert m.count_where([parse_filter("lesion_ml > 0")]) == sum(
        r["pathology"] != "none" for r in rows
    )
    for bad in ("sex; DROP TABLE subjects", "name = x", "age > nan"):
        with pytest.raises(QueryError):
            m.subjects([parse_filter(bad)])
    m.close()
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "brainsynth.datasets",
            "query",
            str(dataset),
            "pathology=ms",
            "--count",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert int(cli.stdout) == len(ms)


def test_qa_report_is_linked_and_compares_asked_with_generated(dataset: Path) -> None:
    m = Manifest(dataset / bids.MANIFEST_FILE)
    assert m.get_meta("qa_report") == "qa/report.html"
    qa = json.loads((dataset / "qa" / "qa.json").read_text())
    assert qa["covariates"]["subjects"] == {"asked": 4, "generated": 4}
    assert qa["covariates"]["pathology"]["ms"]["asked"] == 0.3
    assert qa["regionalVolumes"]["cortex"]["generatedOverNormativeMedian"]["n"] >= 1
    assert "<img" in (dataset / "qa" / "report.html").read_text()
    div = qa["diversity"]["meanDiceSameSexHealthy"]
    assert 0 < div["min"] <= div["max"] < 1  # similar brains, never copies


def test_a_subject_regenerates_alone_to_the_same_bytes(dataset: Path, tmp_path: Path) -> None:
    spec = check_spec(small_spec(), MODELS)
    rec = make_subject(Job(spec.raw, str(MODELS), str(tmp_path)), 2)
    m = Manifest(dataset / bids.MANIFEST_FILE)
    recorded = {f["path"]: f["sha256"] for f in m.files() if f["idx"] == 2}
    assert {f["path"]: f["sha256"] for f in rec["files"]} == recorded


def test_resume_and_refusing_another_spec(tmp_path: Path) -> None:
    spec = check_spec(small_spec(count=3, contrasts=["T1w"]), MODELS)
    ds = Dataset(spec, tmp_path / "out", MODELS)
    ds.prepare()
    assert ds.run(limit=1).done == 1
    # a subject written but not recorded (killed before the manifest commit) is made again
    stray = tmp_path / "out" / "sub-00003" / "anat"
    stray.mkdir(parents=True)
    (stray / "sub-00003_T1w.nii.gz").write_bytes(b"half")
    (tmp_path / "out" / "sub-00001" / "anat" / ".abc.tmp").write_bytes(b"temp")
    again = Dataset(spec, tmp_path / "out", MODELS)
    again.prepare()
    assert again.todo() == [1, 2]
    assert again.run().done == 3 and verify(tmp_path / "out") == []
    other = check_spec(small_spec(count=3, seed=99), MODELS)
    with pytest.raises(SpecError, match="holds another spec's dataset"):
        Dataset(other, tmp_path / "out", MODELS).prepare()


def test_quota_and_free_space_refuse_what_cannot_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = check_spec(small_spec(count=50, quotaMb=10), MODELS)
    ds = Dataset(spec, tmp_path / "q", MODELS)
    ds.prepare()
    with pytest.raises(SpecError, match="exceeds the quota of 10 MB"):
        ds.run()
    import shutil as sh

    spec = check_spec(small_spec(count=50), MODELS)
    ds = Dataset(spec, tmp_path / "f", MODELS)
    ds.prepare()
    monkeypatch.setattr(sh, "disk_usage", lambda _p: sh._ntuple_diskusage(10**9, 10**9, 10**6))
    with pytest.raises(OSError, match="not enough disk space for 50 subjects"):
        ds.run()


def test_cli_validate_reports_every_reason(tmp_path: Path) -> None:
    path = write_spec(tmp_path, {"count": 0, "seed": -1})
    out = subprocess.run(
        [sys.executable, "-m", "brainsynth.datasets", "validate", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 2
    assert "count: 0 is less than the minimum of 1" in out.stderr
    assert "seed: -1 is less than the minimum of 0" in out.stderr

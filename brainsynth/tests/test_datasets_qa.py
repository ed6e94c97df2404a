"""The dataset QA report's memorisation and realism sections on a tiny 2 mm dataset: not
checked (with the reason) without data, a stub training reference that forces a flag (and the
refusal: exception, CLI exit 3) and one that passes, realism z from a stub real reference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from numpy.typing import NDArray

from brainsynth.datasets import bids, centiles, qa, qa_memorisation, qa_realism
from brainsynth.datasets.__main__ import main
from brainsynth.datasets.manifest import Manifest
from brainsynth.datasets.runner import Dataset
from brainsynth.datasets.spec import check_spec
from brainsynth.pipeline.normative import CENTILES
from brainsynth.qa import memorisation as mem
from brainsynth.qa.realism.stats import STATISTICS
from brainsynth.tests.datasets_support import MODELS, ROOT, small_spec

DATA = ROOT.parent / "shared" / "data"


def centiles_source() -> str:
    return CENTILES


def _band_rows() -> list[dict[str, Any]]:
    import csv

    lines = [
        ln for ln in centiles.BAND_FILE.read_text().splitlines() if ln and not ln.startswith("#")
    ]
    return list(csv.DictReader(lines))


SPEC = small_spec(count=3, contrasts=["T1w"], seed=5, pathology=[{"type": "none", "fraction": 1}])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("qa") / "ds"
    ds = Dataset(check_spec(SPEC, MODELS), out, MODELS)
    ds.prepare()
    assert ds.run().done == SPEC["count"]
    m = Manifest(out / bids.MANIFEST_FILE)
    try:
        return out, m.subjects()
    finally:
        m.close()


def _groups(out: Path, pid: str) -> NDArray[np.int8]:
    seg = nib.Nifti1Image.from_filename(out / pid / "anat" / f"{pid}_dseg.nii.gz")
    return mem.group_map(np.asarray(seg.dataobj, np.int32))


def _identity(lab: NDArray[np.int32], aff: NDArray[np.float64]) -> NDArray[np.int8]:
    # the 2 mm dataset is written on the template grid: no alignment needed for the stub
    return mem.group_map(lab)


def _stub(maps: list[NDArray[np.int8]], nn: list[float]) -> mem.TrainingReference:
    return mem.TrainingReference(
        [f"train-{i}" for i in range(len(maps))], maps, nn, np.zeros((1, 1, 1), np.float32)
    )


def test_without_data_not_checked_and_why(dataset: tuple[Path, list[dict[str, Any]]]) -> None:
    out, _ = dataset
    data = json.loads((out / bids.QA_DIR / "qa.json").read_text())
    for section in ("memorisation", "realism"):
        assert data[section]["status"] == "not-checked"
        assert "no data folder" in data[section]["reason"]
    page = (out / bids.QA_DIR / "report.html").read_text()
    assert "Memorisation</h2><p>Not checked: no data folder" in page
    assert "Realism</h2><p>Not checked" in page
    res = qa_memorisation.check(out, [], None, MODELS / "brainsynth-shape-v1")
    assert res["status"] == "not-checked"
    # refusing on memorisation never passes a dataset it could not check
    assert "memorisation was not checked (no data folder" in str(qa.refusal(data))
    assert (
        main(
            [
                "--models-dir",
                str(MODELS),
                "qa",
                str(out),
                "--data",
                str(out / "none"),
                "--refuse-memorised",
            ]
        )
        == 3
    )


def test_copy_of_a_training_subject_is_flagged_and_refused(
    dataset: tuple[Path, list[dict[str, Any]]],
) -> None:
    out, rows = dataset
    first = rows[0]["participant_id"]
    empty = np.zeros_like(_groups(out, first))
    ref = _stub([empty, _groups(out, first)], [0.5, 0.5])
    res = qa_memorisation.check(
        out, rows, None, MODELS / "brainsynth-shape-v1", reference=ref, to_template=_identity
    )
    assert res["status"] == "flagged"
    assert first in res["flagged"]
    s0 = res["subjects"][0]
    assert s0["closestTrainingDice"] == 1.0 and s0["closestTrainingSubject"] == "train-1"
    assert s0["meanAnatomyClosest"] < 1.0
    assert res["trainingNearestNeighbourMax"] == 0.5
    reason = qa.refusal({"memorisation": res})
    assert reason is not None and first in reason


def test_unlike_every_training_subject_passes(
    dataset: tuple[Path, list[dict[str, Any]]],
) -> None:
    out, rows = dataset
    empty = np.zeros_like(_groups(out, rows[0]["participant_id"]))
    res = qa_memorisation.check(
        out,
        rows,
        None,
        MODELS / "brainsynth-shape-v1",
        sample=2,
        reference=_stub([empty], [0.99]),
        to_template=_identity,
    )
    assert res["status"] == "pass" and res["flagged"] == []
    assert res["sampled"] == 2 and res["of"] == 3
    assert [s["participant_id"] for s in res["subjects"]] == [
        rows[0]["participant_id"],
        rows[2]["participant_id"],
    ]
    assert qa.refusal({"memorisation": res}) is None


def test_cli_refuses_a_flagged_dataset(
    dataset: tuple[Path, list[dict[str, Any]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out, rows = dataset
    first = rows[0]["participant_id"]
    ref = _stub([_groups(out, first)], [0.5])
    monkeypatch.setattr(mem, "training_reference", lambda data: ref)
    monkeypatch.setattr(mem, "aligned_group_map", lambda lab, aff, mask: _identity(lab, aff))
    fake = tmp_path / "data"
    (fake / "synthseg-label-maps").mkdir(parents=True)
    argv = ["--models-dir", str(MODELS), "qa", str(out), "--data", str(fake)]
    assert main([*argv, "--refuse-memorised"]) == 3
    err = capsys.readouterr().err
    assert "dataset refused: memorisation check flagged" in err and first in err
    data = json.loads((out / bids.QA_DIR / "qa.json").read_text())
    assert data["memorisation"]["status"] == "flagged" and data["refused"] is True
    # realism: the fake data folder has no IXI index -> not checked, with the reason
    assert data["realism"]["status"] == "not-checked"
    assert "ixi-t1-2mm-index.csv" in data["realism"]["reason"]
    page = (out / bids.QA_DIR / "report.html").read_text()
    assert "Memorisation: flagged" in page and "FLAGGED" in page
    # without --refuse-memorised: flagged in the report, exit 0
    assert main(argv) == 0


def test_realism_z_against_a_stub_real_reference(
    dataset: tuple[Path, list[dict[str, Any]]],
) -> None:
    out, rows = dataset
    real = {k: [0.0, 1.0] for k in STATISTICS}
    res = qa_realism.check(out, rows, None, sample=2, reference=(real, 100.0))
    assert res["status"] == "measured" and len(res["subjects"]) == 2
    sd = float(np.std([0.0, 1.0], ddof=1))
    for name, t in res["statistics"].items():
        assert t["realMean"] == 0.5 and t["realSd"] == round(sd, 5)
        assert np.isfinite(t["datasetMean"]), name
        assert t["z"] == pytest.approx((t["datasetMean"] - 0.5) / sd, abs=2e-3)
    html_part = qa._realism_html(res)
    assert html_part.count("<tr>") == len(STATISTICS) + 1


def test_sample_choice() -> None:
    assert qa_memorisation.pick_sample(3, 50) == [0, 1, 2]
    assert qa_memorisation.pick_sample(101, 5) == [0, 25, 50, 75, 100]
    with pytest.raises(ValueError, match="at least 1"):
        qa_memorisation.pick_sample(3, 0)


def test_centile_band_share_inside() -> None:
    band = centiles.load()
    assert {k[2] for k in band} == {"cerebral-wm", "deep-gm", "cerebellum", "brainstem"}
    assert all(lo < 1.0 < hi for lo, hi in band.values())
    by_key = {("female", 60): {"deep-gm": 20.0}}
    rows = [
        {"sex": "female", "age": 60.2, bids.volume_column("deep-gm"): 20.0},
        {"sex": "female", "age": 59.8, bids.volume_column("deep-gm"): 40.0},
        {"sex": "female", "age": 30.0, bids.volume_column("deep-gm"): 20.0},  # no band
    ]
    res = qa._in_band(rows, by_key, band, "deep-gm")
    assert res == {"subjects": 2, "insideFraction": 0.5, "expectedForTheReference": 0.5}


def test_band_report_and_plot(dataset: tuple[Path, list[dict[str, Any]]]) -> None:
    out, _ = dataset
    data = json.loads((out / bids.QA_DIR / "qa.json").read_text())
    wm = data["regionalVolumes"]["cerebral-wm"]["band25to75"]
    assert wm["subjects"] == 3 and 0.0 <= wm["insideFraction"] <= 1.0
    assert "band25to75" not in data["regionalVolumes"]["cortex"]


@pytest.mark.skipif(not (DATA / centiles_source()).is_dir(), reason="../shared/data absent")
def test_committed_band_is_what_the_centiles_give() -> None:
    assert centiles.build(DATA) == [
        {**r, "age": int(r["age"]), "ratio25": float(r["ratio25"]), "ratio75": float(r["ratio75"])}
        for r in _band_rows()
    ]

"""The same spec on a local Ray cluster of several worker processes gives the same dataset as
the in-process run (checksums). Skipped when `ray` is not installed (the optional extra
`brainsynth[ray]`: its wheel is large and starting a cluster takes seconds)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from brainsynth.datasets import bids
from brainsynth.datasets.manifest import Manifest
from brainsynth.datasets.runner import Dataset, Job, make_subject, verify
from brainsynth.datasets.spec import check_spec
from brainsynth.tests.datasets_support import MODELS, small_spec

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None, reason="ray is not installed: pip install '.[ray]'"
)


def test_a_local_ray_cluster_makes_the_same_dataset(tmp_path: Path) -> None:
    spec = check_spec(small_spec(count=4, contrasts=["T1w"]), MODELS)
    ds = Dataset(spec, tmp_path / "ray", MODELS)
    ds.prepare()
    assert ds.run(backend="ray", workers=2).done == 4
    assert verify(tmp_path / "ray") == []
    m = Manifest(tmp_path / "ray" / bids.MANIFEST_FILE)
    recorded = {f["path"]: f["sha256"] for f in m.files()}
    workers = {r["worker"] for r in m.subjects()}
    m.close()
    assert len(workers) >= 2, workers  # the subjects were made by several processes
    here = make_subject(Job(spec.raw, str(MODELS), str(tmp_path / "local")), 3)
    assert all(recorded[f["path"]] == f["sha256"] for f in here["files"])

"""The PyTorch path of the teacher agrees with the numpy reference (runs where torch exists;
on CUDA too when a GPU is present)."""

from __future__ import annotations

from pathlib import Path

import pytest

from brainsynth.teacher.accel import torch_available
from brainsynth.teacher.generate import generate

MODEL = Path(__file__).resolve().parents[2] / "public" / "models" / "brainsynth-shape-v1"
pytestmark = pytest.mark.skipif(not torch_available(), reason="PyTorch not installed")

COND = {"age": 70, "sex": "male", "pathology": "glioma", "gliomaRadiusMm": 12, "contrast": "T1w"}


def test_torch_cpu_matches_numpy_reference() -> None:
    ref = generate(MODEL, COND, 21, 2.0, device="numpy")
    tor = generate(MODEL, COND, 21, 2.0, device="cpu")
    agree = float((ref.labels == tor.labels).mean())
    assert agree > 0.999, agree
    a, b = ref.images["T1w"], tor.images["T1w"]
    brain = ref.labels > 0
    assert abs(float(a[brain].mean()) / float(b[brain].mean()) - 1) < 0.02
    assert tor.sidecar["device"] == "cpu" and tor.sidecar["implementation"] == "torch"
    assert ref.sidecar["device"] == "cpu" and ref.sidecar["implementation"] == "numpy"

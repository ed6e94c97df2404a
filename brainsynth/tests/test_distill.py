"""The distilled student (brainsynth.distill): numpy vs torch forward, tfjs export round trip,
a tiny training run, and the committed student against the teacher (numpy only)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from brainsynth.anatomy import velocity
from brainsynth.common.warp import exp_velocity
from brainsynth.distill.data import features, model_fingerprint
from brainsynth.distill.export_student import (
    dequantise,
    quantise,
    read_student,
    set_manifest_section,
    write_student,
)
from brainsynth.distill.student import correction_numpy, forward_numpy
from brainsynth.model_io import gains_for, latents, load_model
from brainsynth.schema import ManifestError

MODEL = Path(__file__).resolve().parents[2] / "public" / "models" / "brainsynth-shape-v1"
FIELD = (3, 4, 5, 6)


def _weights(rng: np.random.Generator, f: int = 7, hidden: int = 9, m: int = 3) -> dict:
    return {
        "dense0/kernel": rng.standard_normal((f, hidden)).astype(np.float32),
        "dense0/bias": rng.standard_normal(hidden).astype(np.float32),
        "dense1/kernel": rng.standard_normal((hidden, m)).astype(np.float32),
        "dense1/bias": rng.standard_normal(m).astype(np.float32),
        "decoder/basis": rng.standard_normal((m, *FIELD)).astype(np.float32),
        "decoder/mean": rng.standard_normal(FIELD).astype(np.float32),
    }


def test_forward_numpy_is_v_plus_decoded_mlp() -> None:
    w = _weights(np.random.default_rng(0))
    f = np.linspace(-1, 1, 7).astype(np.float32)
    a = np.tanh(f @ w["dense0/kernel"] + w["dense0/bias"]) @ w["dense1/kernel"] + w["dense1/bias"]
    want = np.tensordot(a, w["decoder/basis"], axes=(0, 0)) + w["decoder/mean"]
    v = np.ones(FIELD, np.float32)
    assert np.allclose(forward_numpy(w, f, v), v + want, atol=1e-5)
    batch = correction_numpy(w, np.stack([f, f]))
    assert batch.shape == (2, *FIELD) and np.allclose(batch[1], want, atol=1e-5)


def test_numpy_forward_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    from brainsynth.distill.student import make_torch_student, weights_from_torch

    rng = np.random.default_rng(1)
    basis = rng.standard_normal((4, *FIELD)).astype(np.float32)
    mean = rng.standard_normal(FIELD).astype(np.float32)
    in_mean = rng.standard_normal(6).astype(np.float32)
    in_std = rng.uniform(0.5, 2, 6).astype(np.float32)
    net = make_torch_student(6, [16, 8], basis, mean, in_mean, in_std)
    f = rng.standard_normal((5, 6)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(f)).numpy().reshape(5, *FIELD)
    got = correction_numpy(weights_from_torch(net), f)  # normalisation folded into dense0
    assert np.allclose(got, want, atol=1e-4, rtol=1e-4)


def test_quantisation_follows_tfjs_convention() -> None:
    x = np.linspace(-3, 5, 1000).astype(np.float32)
    for dtype, top in (("uint8", 255), ("uint16", 65535)):
        q, spec = quantise(x, dtype)
        assert q.min() == 0 and q.max() == top
        assert spec["min"] == pytest.approx(-3) and spec["scale"] == pytest.approx(8 / top)
        assert np.abs(dequantise(q, spec) - x).max() <= spec["scale"] / 2 + 1e-6


def test_export_round_trip(tmp_path: Path) -> None:
    w = _weights(np.random.default_rng(2))
    names = [f"f{i}" for i in range(7)]
    write_student(tmp_path, w, names, "uint16")
    mj = json.loads((tmp_path / "student" / "model.json").read_text())
    assert mj["format"] == "brainsynth-student/1" and "modelTopology" in mj
    group = mj["weightsManifest"][0]
    assert [e["name"] for e in group["weights"]][:2] == ["dense0/kernel", "dense0/bias"]
    basis0 = next(e for e in group["weights"] if e["name"] == "decoder/basis_0")
    assert basis0["quantization"]["dtype"] == "uint16"
    assert basis0["shape"] == [3, 6, 5, 4]  # component planes, x fastest
    back, _ = read_student(tmp_path)
    assert set(back) == set(w)
    for k in ("dense0/kernel", "dense0/bias", "dense1/kernel", "dense1/bias"):
        assert np.array_equal(back[k], w[k])  # float32, exact
    for k in ("decoder/basis", "decoder/mean"):
        step = (w[k].max() - w[k].min()) / 65535
        assert back[k].shape == w[k].shape
        assert np.abs(back[k] - w[k]).max() <= step  # per-entry scale


def test_set_manifest_section(tmp_path: Path) -> None:
    man = json.loads((MODEL / "manifest.json").read_text())
    (tmp_path / "manifest.json").write_text(json.dumps(man))
    set_manifest_section(tmp_path, "student", {"metrics": {"x": 1}}, merge=True)
    got = json.loads((tmp_path / "manifest.json").read_text())
    assert got["student"] == {**man["student"], "metrics": {"x": 1}}
    set_manifest_section(tmp_path, "metrics", {"a": 3})
    assert json.loads((tmp_path / "manifest.json").read_text()) == {**got, "metrics": {"a": 3}}


def test_set_manifest_section_rejects_an_invalid_manifest(tmp_path: Path) -> None:
    man = json.loads((MODEL / "manifest.json").read_text())
    (tmp_path / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(ManifestError, match="labelRanges"):
        set_manifest_section(tmp_path, "labelRanges", {"intracranial": "1-499"})
    assert json.loads((tmp_path / "manifest.json").read_text()) == man  # left as it was


def test_tiny_training_reduces_loss() -> None:
    torch = pytest.importorskip("torch")
    from brainsynth.distill.student import make_torch_student

    torch.manual_seed(0)
    rng = np.random.default_rng(3)
    f = rng.standard_normal((128, 4)).astype(np.float32)
    basis = rng.standard_normal((3, 2, 3, 3, 3)).astype(np.float32)
    coef = np.stack([np.sin(f[:, 0]), f[:, 1] * f[:, 2], np.tanh(f[:, 3])], 1).astype(np.float32)
    target = torch.from_numpy(coef @ basis.reshape(3, -1))
    net = make_torch_student(4, [32], basis, np.zeros((2, 3, 3, 3), np.float32))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x = torch.from_numpy(f)
    losses = []
    for _ in range(150):
        loss = ((net(x) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < 0.1 * losses[0]


def _has_student() -> bool:
    """The engine uses a student only when the manifest lists one (a rebuilt model's manifest
    does not, until the student is retrained and exported)."""
    man = MODEL / "manifest.json"
    return man.exists() and "student" in json.loads(man.read_text())


committed = pytest.mark.skipif(not _has_student(), reason="the model lists no student")


@committed
def test_committed_student_belongs_to_the_committed_model() -> None:
    man = json.loads((MODEL / "manifest.json").read_text())
    assert man["student"]["modelFingerprint"] == model_fingerprint(MODEL), (
        "the model changed since the student was trained: retrain "
        "(python -m brainsynth.distill.train, then export and evaluate)"
    )


@committed
@pytest.mark.parametrize(
    "seed,cond",
    [
        (1, {"age": 45, "sex": "female", "pathology": "none"}),
        (2, {"age": 78, "sex": "male", "pathology": "alzheimers", "adSeverity": 0.8}),
        (3, {"age": 30, "sex": "female", "pathology": "stroke", "strokeSize": 0.5}),
    ],
)
def test_committed_student_is_close_to_the_teacher(seed: int, cond: dict) -> None:
    model, man = load_model(MODEL)
    w, mj = read_student(MODEL)
    use_gains = any(n.startswith("gain") for n in mj["modelTopology"]["input"]["names"])
    z, _ = latents(man, seed)
    g = gains_for(man, cond)
    v = velocity(model, z, g)
    u_teacher = exp_velocity(v, model.vgrid)
    u_student = forward_numpy(w, features(z, cond, g if use_gains else None), v)
    err = np.sqrt(((u_student - u_teacher) ** 2).mean())
    naive = np.sqrt(((v - u_teacher) ** 2).mean())
    assert err < 0.1  # mm, RMS over the velocity grid
    assert err < naive  # better than skipping the integration

"""Train the student on cached teacher pairs (CPU is enough; CUDA is used when present).

`python -m brainsynth.distill.train --config brainsynth/distill/config.json`

1. make the missing data shards (`data.ensure_shards`);
2. decoder init: PCA of the training corrections u − v (randomised SVD) → mean + M components;
3. stage 1: the MLP regresses the PCA coefficients (the decoder is orthonormal, so this is the
   field's squared error up to a constant);
4. stage 2: MLP and decoder fine-tuned together on the full-field squared error;
5. weights (numpy, input standardisation folded in) to the cache, a log summary to
   `reports/distill/train_log.json` (committed; outside the source package).
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.distill.data import (
    DataConfig,
    cli,
    ensure_shards,
    load_split,
    shard_folder,
    weights_path,
)
from brainsynth.distill.student import Weights, make_torch_student, weights_from_torch
from brainsynth.paths import DISTILL_TRAIN_LOG as TRAIN_LOG


def randomized_pca(
    x: NDArray[np.float32], m: int, seed: int, oversample: int = 24, iters: int = 2
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float64]]:
    """Mean [P], top-m orthonormal components [m, P] and their variances, of rows of x [N, P]."""
    mean = x.mean(0)
    xc = x - mean
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(xc @ rng.standard_normal((x.shape[1], m + oversample)).astype(np.float32))
    for _ in range(iters):
        q, _ = np.linalg.qr(xc @ (xc.T @ q))
    _, s, vt = np.linalg.svd((q.T @ xc).astype(np.float64), full_matrices=False)
    var = s**2 / max(len(x) - 1, 1)
    return mean.astype(np.float32), vt[:m].astype(np.float32), var


def head_weights(model_dir: Path, dilate: int, outside: float) -> NDArray[np.float32]:
    """Loss weight per velocity-grid value (flattened [3, vx, vy, vz]): 1 within the head
    (template label ≠ 0 at the grid point, dilated by `dilate` grid voxels), `outside` beyond,
    where the displacement moves background onto background and no label depends on it."""
    from scipy import ndimage

    from brainsynth.common.warp import nearest_labels
    from brainsynth.model_io import load_model

    model, _ = load_model(model_dir)
    head = nearest_labels(model.template, model.grid, model.vgrid.world_coords()) > 0
    head = ndimage.binary_dilation(head, iterations=dilate) if dilate else head
    w = np.where(head, 1.0, outside).astype(np.float32)
    return np.broadcast_to(w, (3, *w.shape)).reshape(-1).copy()


def field_errors(pred: NDArray[Any], target: NDArray[Any], w: NDArray[Any]) -> dict[str, float]:
    """Errors within the head (weight 1): RMS, max and RMS relative to the correction's."""
    inside = w >= 1.0
    err = (pred - target)[:, inside]
    return {
        "rmsMm": float(np.sqrt((err**2).mean())),
        "maxAbsMm": float(np.abs(err).max()),
        "relativeRms": float(np.sqrt((err**2).mean() / (target[:, inside] ** 2).mean())),
    }


def train(cfg: dict[str, Any], log_path: Path | None, out_weights: Path) -> dict[str, Any]:
    import torch

    t_start = time.perf_counter()
    tc, sc = cfg["train"], cfg["student"]
    torch.manual_seed(int(tc["seed"]))
    if tc.get("threads"):
        torch.set_num_threads(int(tc["threads"]))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dcfg = DataConfig.from_json(cfg)
    t0 = time.perf_counter()
    ensure_shards(dcfg)
    t_data = time.perf_counter() - t0
    tr, va = load_split(dcfg, "train"), load_split(dcfg, "val")
    use_gains = bool(sc["useGains"])
    ftr, fva = tr.features(use_gains), va.features(use_gains)
    field_shape = tr.residual.shape[1:]
    xtr = tr.residual.reshape(len(tr.residual), -1)
    xva = va.residual.reshape(len(va.residual), -1)
    print(f"data: {len(xtr)} train, {len(xva)} val, {ftr.shape[1]} features, {t_data:.0f} s")

    m = int(sc["components"])
    w = head_weights(dcfg.model_dir, int(tc["headDilateVoxels"]), float(tc["outsideWeight"]))
    sw = np.sqrt(w)
    t0 = time.perf_counter()
    # PCA in the weighted metric; the decoder basis is the components divided by sqrt(w), so
    # regressing the coefficients is the weighted field loss up to a constant.
    mean, comps_w, var = randomized_pca(xtr * sw, m, int(tc["seed"]))
    mean = (mean / sw).astype(np.float32)
    # Scale each component by its standard deviation so the network's outputs are O(1).
    sd_c = np.sqrt(var[:m]).astype(np.float32)
    comps_w = comps_w * sd_c[:, None]
    comps = (comps_w / sw).astype(np.float32)
    explained = float(var[:m].sum() / (((xtr - mean) * sw) ** 2).sum(1).mean())
    print(f"PCA: {m} components explain {explained:.4f} ({time.perf_counter() - t0:.0f} s)")
    pca_val = (((xva - mean) * sw) @ comps_w.T / sd_c**2) @ comps + mean

    in_mean = ftr.mean(0)
    in_std = np.maximum(ftr.std(0), 1e-3).astype(np.float32)
    net = make_torch_student(
        ftr.shape[1],
        [int(h) for h in sc["hidden"]],
        comps.reshape((m, *field_shape)),
        mean.reshape(field_shape),
        in_mean,
        in_std,
    ).to(device)

    def val_pred() -> NDArray[np.float32]:
        with torch.no_grad():
            return net(torch.from_numpy(fva).to(device)).cpu().numpy()

    history: list[dict[str, Any]] = []
    # Stage 1: coefficients only (decoder frozen).
    s1 = tc["stage1"]
    # Targets: coefficients in units of their sd; loss weighted by the variance (= field loss).
    ctr = torch.from_numpy(((xtr - mean) * sw) @ comps_w.T / sd_c**2).to(device)
    cw = torch.from_numpy(sd_c**2).to(device)
    ftr_t = torch.from_numpy(ftr).to(device)
    params = [p for n, p in net.named_parameters() if n.startswith("layers")]
    opt = torch.optim.Adam(params, lr=float(s1["lr"]))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, int(s1["epochs"]))
    n, bs = len(ftr), int(s1["batch"])
    t0 = time.perf_counter()
    for ep in range(int(s1["epochs"])):
        perm = torch.randperm(n, device=device)
        tot = 0.0
        for i in range(0, n, bs):
            idx = perm[i : i + bs]
            loss = (((net.coefficients(ftr_t[idx]) - ctr[idx]) ** 2) * cw).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss) * len(idx)
        sched.step()
        if ep % max(1, int(s1["epochs"]) // 10) == 0 or ep == int(s1["epochs"]) - 1:
            ev = field_errors(val_pred(), xva, w)
            history.append({"stage": 1, "epoch": ep, "trainCoefLoss": tot / n, **ev})
            print(f"  s1 ep {ep}: coef loss {tot / n:.4f}  val {ev}")
    t_s1 = time.perf_counter() - t0

    # Stage 2: everything, full-field squared error (mean over points, summed over batch).
    s2 = tc["stage2"]
    t0 = time.perf_counter()
    if int(s2["epochs"]) > 0:
        xtr_t = torch.from_numpy(xtr).to(device)
        w_t = torch.from_numpy(w).to(device)
        groups = [
            {"params": params, "lr": float(s2["lr"])},
            {"params": [net.basis, net.mean], "lr": float(s2["decoderLr"])},
        ]
        opt = torch.optim.Adam(groups)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, int(s2["epochs"]))
        bs = int(s2["batch"])
        for ep in range(int(s2["epochs"])):
            perm = torch.randperm(n, device=device)
            tot = 0.0
            for i in range(0, n, bs):
                idx = perm[i : i + bs]
                loss = (((net(ftr_t[idx]) - xtr_t[idx]) ** 2) * w_t).sum(1).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                tot += float(loss) * len(idx)
            sched.step()
            ev = field_errors(val_pred(), xva, w)
            history.append({"stage": 2, "epoch": ep, "trainFieldLoss": tot / n, **ev})
            print(f"  s2 ep {ep}: field loss {tot / n:.4f}  val {ev}")
    t_s2 = time.perf_counter() - t0

    weights: Weights = weights_from_torch(net.cpu())
    out_weights.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {k.replace("/", "__"): v for k, v in weights.items()}
    np.savez(out_weights, **arrays)
    summary = {
        "config": cfg,
        "data": {
            "train": len(xtr),
            "val": len(xva),
            "shards": str(shard_folder(dcfg).relative_to(dcfg.cache_dir.parent.parent)),
            "generationSecondsThisRun": round(t_data, 1),
        },
        "pca": {"components": m, "explainedVariance": round(explained, 5)},
        "validation": {
            "baselineVOnly": field_errors(np.zeros_like(xva), xva, w),
            "pcaProjection": field_errors(pca_val, xva, w),
            "student": field_errors(val_pred_np(weights, fva, field_shape), xva, w),
        },
        "history": history,
        "seconds": {
            "stage1": round(t_s1, 1),
            "stage2": round(t_s2, 1),
            "total": round(time.perf_counter() - t_start, 1),
        },
        "hardware": hardware(device),
        "torch": torch.__version__,
    }
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def val_pred_np(weights: Weights, f: NDArray[np.float32], shape: tuple[int, ...]) -> NDArray[Any]:
    from brainsynth.distill.student import correction_numpy

    return correction_numpy(weights, f).reshape(len(f), -1)


def hardware(device: str) -> str:
    if device == "cuda":
        import torch

        return f"CUDA {torch.cuda.get_device_name(0)}"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU {cpu}, {os.cpu_count()} cores"


def load_weights(path: Path) -> Weights:
    with np.load(path) as z:
        return {k.replace("__", "/"): z[k].astype(np.float32) for k in z.files}


def main() -> None:
    cfg, log = cli(__doc__, TRAIN_LOG)
    out = weights_path(cfg)
    train(cfg, log, out)
    print(f"weights: {out}")


if __name__ == "__main__":
    main()

"""The student: u ≈ v + D(MLP(features)).

`features` (see `data.features`) → dense layers with tanh → M coefficients a → correction
field `mean + Σ_m a_m basis_m` on the velocity grid, added to the linear velocity v (which the
engine computes anyway with one matMul). The decoder (mean + basis) is initialised by PCA of
the teacher's corrections u − v and fine-tuned with the network.

Weights are a flat dict (`Weights`) in the layout TensorFlow.js uses for dense layers
(kernel [in, out], bias [out]); fields are [.., 3, vx, vy, vz] here (the export writes the
engine's component-plane order). `forward_numpy` is the reference forward pass without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # torch is a training-time dependency only
    import torch

Weights = dict[str, NDArray[np.float32]]


def n_dense(weights: Weights) -> int:
    return sum(1 for k in weights if k.startswith("dense") and k.endswith("/kernel"))


def coefficients_numpy(weights: Weights, feats: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
    """MLP part: features [B, F] (or [F]) → coefficients [B, M] (or [M])."""
    h = np.asarray(feats, np.float32)
    n = n_dense(weights)
    for i in range(n):
        h = h @ weights[f"dense{i}/kernel"] + weights[f"dense{i}/bias"]
        if i < n - 1:
            h = np.tanh(h)
    return h.astype(np.float32)


def correction_numpy(weights: Weights, feats: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
    """D(MLP(features)): [F] → [3, vx, vy, vz] (or [B, F] → [B, 3, vx, vy, vz])."""
    a = coefficients_numpy(weights, feats)
    basis = weights["decoder/basis"]
    m = basis.shape[0]
    out = (a @ basis.reshape(m, -1)).reshape(a.shape[:-1] + basis.shape[1:])
    return (out + weights["decoder/mean"]).astype(np.float32)


def forward_numpy(
    weights: Weights, feats: NDArray[np.floating[Any]], v: NDArray[np.float32]
) -> NDArray[np.float32]:
    """Student displacement u = v + D(MLP(features)) on the velocity grid ([3, vx, vy, vz])."""
    return (v + correction_numpy(weights, feats)).astype(np.float32)


def make_torch_student(
    n_features: int,
    hidden: list[int],
    basis: NDArray[np.float32],
    mean: NDArray[np.float32],
    in_mean: NDArray[np.float32] | None = None,
    in_std: NDArray[np.float32] | None = None,
) -> torch.nn.Module:
    """The PyTorch module. `basis` [M, 3, vx, vy, vz] and `mean` [3, vx, vy, vz] initialise
    the decoder; inputs are standardised with (in_mean, in_std) inside the module."""
    import torch
    from torch import nn

    class Student(nn.Module):  # type: ignore[misc, unused-ignore]
        def __init__(self) -> None:
            super().__init__()
            self.field_shape = tuple(mean.shape)
            sizes = [n_features, *hidden, basis.shape[0]]
            self.layers = nn.ModuleList(
                nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
            )
            self.basis = nn.Parameter(torch.from_numpy(basis.reshape(basis.shape[0], -1).copy()))
            self.mean = nn.Parameter(torch.from_numpy(mean.reshape(-1).copy()))
            zeros = np.zeros(n_features, np.float32)
            ones = np.ones(n_features, np.float32)
            self.register_buffer(
                "in_mean", torch.from_numpy(zeros if in_mean is None else in_mean.copy())
            )
            self.register_buffer(
                "in_std", torch.from_numpy(ones if in_std is None else in_std.copy())
            )

        def coefficients(self, f: torch.Tensor) -> torch.Tensor:
            h = (f - self.in_mean) / self.in_std
            for i, layer in enumerate(self.layers):
                h = layer(h)
                if i < len(self.layers) - 1:
                    h = torch.tanh(h)
            return h

        def forward(self, f: torch.Tensor) -> torch.Tensor:
            """Correction u − v, flattened [B, 3·vx·vy·vz]."""
            return self.coefficients(f) @ self.basis + self.mean

    return Student()


def weights_from_torch(module: torch.nn.Module) -> Weights:
    """Plain weights with the input standardisation folded into the first dense layer."""
    sd = {k: v.detach().cpu().double().numpy() for k, v in module.state_dict().items()}
    mu, sd_in = sd["in_mean"], sd["in_std"]
    out: Weights = {}
    n = sum(1 for k in sd if k.startswith("layers.") and k.endswith(".weight"))
    for i in range(n):
        w = sd[f"layers.{i}.weight"].T  # [in, out]
        b = sd[f"layers.{i}.bias"]
        if i == 0:
            b = b - (mu / sd_in) @ w
            w = w / sd_in[:, None]
        out[f"dense{i}/kernel"] = w.astype(np.float32)
        out[f"dense{i}/bias"] = b.astype(np.float32)
    shape: tuple[int, ...] = tuple(module.field_shape)  # type: ignore[arg-type, unused-ignore]
    out["decoder/basis"] = sd["basis"].reshape((-1, *shape)).astype(np.float32)
    out["decoder/mean"] = sd["mean"].reshape(shape).astype(np.float32)
    return out


def torch_from_weights(weights: Weights) -> torch.nn.Module:
    """A module holding exactly `weights` (identity input standardisation)."""
    import torch

    n = n_dense(weights)
    sizes = [weights[f"dense{i}/kernel"].shape[1] for i in range(n)]
    m = make_torch_student(
        weights["dense0/kernel"].shape[0],
        sizes[:-1],
        weights["decoder/basis"],
        weights["decoder/mean"],
    )
    with torch.no_grad():
        for i, layer in enumerate(m.layers):  # type: ignore[arg-type, unused-ignore]
            layer.weight.copy_(torch.from_numpy(weights[f"dense{i}/kernel"].T.copy()))
            layer.bias.copy_(torch.from_numpy(weights[f"dense{i}/bias"].copy()))
    return m

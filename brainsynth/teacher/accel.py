"""PyTorch path of the teacher's heavy per-voxel steps (CUDA when present).

The numpy code in generate.py/render.py is the reference (it matches the browser engine bit for
bit in its random streams); this module does the same anatomy mapping with `grid_sample` and
the same rendering with conv3d on a torch device. Anatomy agrees with the reference (tested on
torch-CPU); noise fields come from torch's generator, so images are statistically equal but
not identical to the reference. torch is optional: without it the teacher runs on numpy.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

from brainsynth.common.grid import FloatArray, Grid


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def pick_device(pref: str | None = None) -> str:
    """'numpy', 'cpu' or 'cuda[:n]'. 'auto' (default; env BRAINSYNTH_TEACHER_DEVICE) takes CUDA
    when torch sees a GPU and the numpy reference otherwise."""
    pref = pref or os.environ.get("BRAINSYNTH_TEACHER_DEVICE", "auto")
    if pref == "numpy":
        return "numpy"
    if not torch_available():
        if pref != "auto":
            raise ValueError(f"teacher device {pref!r} needs PyTorch, which is not installed")
        return "numpy"
    import torch

    if pref == "auto":
        return "cuda" if torch.cuda.is_available() else "numpy"
    if pref.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"teacher device {pref!r}: CUDA is not available")
    return pref


def _norm(q: Any, n: int) -> Any:
    """Voxel coordinate -> grid_sample's [-1, 1] (align_corners=True)."""
    return q * (2.0 / max(n - 1, 1)) - 1.0


def _sample(vol: Any, grid: Grid, pts: Any, mode: str, padding: str) -> Any:
    """vol [C, nx, ny, nz] tensor, pts [3, N] world mm -> [C, N]."""
    import torch
    import torch.nn.functional as F

    o = torch.tensor(grid.origin, dtype=pts.dtype, device=pts.device).reshape(3, 1)
    s = torch.tensor(grid.spacing, dtype=pts.dtype, device=pts.device).reshape(3, 1)
    q = (pts - o) / s
    # grid_sample's last axis is (W, H, D) = (z, y, x) for an input laid out [C, x, y, z]
    g = torch.stack(
        [_norm(q[2], grid.shape[2]), _norm(q[1], grid.shape[1]), _norm(q[0], grid.shape[0])], -1
    )
    out = F.grid_sample(
        vol[None], g.reshape(1, 1, 1, -1, 3), mode=mode, padding_mode=padding, align_corners=True
    )
    return out.reshape(vol.shape[0], -1)


def anatomy(
    device: str,
    u: FloatArray,
    vgrid: Grid,
    grid: Grid,
    template: NDArray[np.uint8],
    tgrid: Grid,
    scale: float,
    centre: tuple[float, float, float],
    x: FloatArray,
) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
    """Steps 6b-7 for world points x [3, nx, ny, nz] (already through any mass effect):
    label indices on `grid` and the flat nearest 2 mm template index (tgrid) of each point."""
    import torch

    dev = torch.device(device)
    pts = torch.from_numpy(np.ascontiguousarray(x.reshape(3, -1))).to(dev)
    c = torch.tensor(centre, dtype=pts.dtype, device=dev).reshape(3, 1)
    xp = c + (pts - c) / scale
    ut = torch.from_numpy(np.ascontiguousarray(u)).to(dev)
    p = xp + _sample(ut, vgrid, xp, "bilinear", "border")
    # nearest neighbour as floor(q + 0.5) (grid_sample's 'nearest' rounds half to even)
    o = torch.tensor(grid.origin, dtype=p.dtype, device=dev).reshape(3, 1)
    s = torch.tensor(grid.spacing, dtype=p.dtype, device=dev).reshape(3, 1)
    q = torch.floor((p - o) / s + 0.5).long()
    dims = torch.tensor(grid.shape, device=dev).reshape(3, 1)
    inside = ((q >= 0) & (q < dims)).all(0)
    qc = torch.minimum(torch.clamp(q, min=0), dims - 1)
    tmpl = torch.from_numpy(template.astype(np.int64)).to(dev)
    idx = torch.where(inside, tmpl[qc[0], qc[1], qc[2]], torch.zeros_like(qc[0]))
    ot = torch.tensor(tgrid.origin, dtype=p.dtype, device=dev).reshape(3, 1)
    st = torch.tensor(tgrid.spacing, dtype=p.dtype, device=dev).reshape(3, 1)
    qt = torch.floor((p - ot) / st + 0.5).long()
    tdims = torch.tensor(tgrid.shape, device=dev).reshape(3, 1)
    tin = ((qt >= 0) & (qt < tdims)).all(0)
    flat = qt[0] + tgrid.shape[0] * (qt[1] + tgrid.shape[1] * qt[2])
    tflat = torch.where(tin, flat, torch.full_like(flat, int(np.prod(tgrid.shape))))
    shape = grid.shape
    return (
        idx.reshape(shape).cpu().numpy().astype(np.int32),
        tflat.reshape(shape).cpu().numpy().astype(np.int64),
    )


def render(
    device: str,
    idx: NDArray[np.int32],
    means: NDArray[np.float32],
    sds: NDArray[np.float32],
    app: dict[str, Any],
    seed: int,
    is_wm: NDArray[np.bool_],
    bias: NDArray[np.float32],
    sigma_scale: float,
    csf_fraction: NDArray[np.float32] | None = None,
    csf_mean: np.float32 | None = None,
    mix: NDArray[np.float32] | None = None,
) -> NDArray[np.float32]:
    """Same steps as render.render (texture, partial volume, bias, Rician) on a torch device."""
    import torch
    import torch.nn.functional as F

    from brainsynth.common.blur import gaussian_kernel, smoothed_noise_std
    from brainsynth.teacher.render import fine_grid_optics

    dev = torch.device(device)
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    lab = torch.from_numpy(idx.astype(np.int64)).to(dev)

    def blur(v: Any, sigma: float) -> Any:
        if not sigma > 0:
            return v
        w = torch.tensor(gaussian_kernel(sigma), dtype=torch.float32, device=dev)
        k = w.numel()
        out = v[None, None]
        for shape in ((k, 1, 1), (1, k, 1), (1, 1, k)):
            pad = tuple((s - 1) // 2 for s in shape)
            out = F.conv3d(out, w.reshape(1, 1, *shape), padding=pad)
        return out[0, 0]

    psf, white_gain = fine_grid_optics(float(app["partialVolumeSigmaVoxels"]), sigma_scale)
    spec = app.get("texture")
    tex_sigma = float(spec["sigmaVoxels"] if spec else app["textureSigmaVoxels"]) * sigma_scale
    if spec and int(spec.get("coarseFactor", 1)) == 2:
        from brainsynth.teacher.render import texture_field

        # the seeded two-scale field of the reference, moved to the device
        tex = torch.from_numpy(texture_field(app, seed, idx.shape, sigma_scale, white_gain)).to(dev)
    else:
        noise = torch.randn(idx.shape, generator=gen, device=dev)
        tex = blur(noise, tex_sigma) / smoothed_noise_std(tex_sigma)
        if spec:
            tex = float(spec["white"]) * white_gain * noise + float(spec["smooth"]) * tex
    img = torch.from_numpy(means).to(dev)[lab] + torch.from_numpy(sds).to(dev)[lab] * tex
    if csf_fraction is not None and csf_mean is not None:
        img = img + torch.from_numpy(csf_fraction).to(dev) * (float(csf_mean) - img)
    if mix is not None:
        img = img + torch.from_numpy(mix).to(dev)
    img = blur(img, psf)
    img = img * torch.exp(torch.from_numpy(bias).to(dev) * float(app["biasFieldStrength"]))
    wm = torch.from_numpy(is_wm).to(dev)[lab]
    wm_mean = img[wm].mean() if bool(wm.any()) else torch.tensor(float(means.max()), device=dev)
    sn = wm_mean / float(app["snr"])
    real = img + sn * torch.randn(idx.shape, generator=gen, device=dev)
    imag = sn * torch.randn(idx.shape, generator=gen, device=dev)
    return torch.sqrt(real**2 + imag**2).cpu().numpy().astype(np.float32)

"""Contrast rendering (MODEL_FORMAT.md §5) in numpy, following src/engine/render/contrast.ts:
same kernels, same noise streams (mulberry32 via `normals_fast`), same bias polynomial — a
2 mm teacher image equals the browser's up to float rounding."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from brainsynth.common.blur import blur, gaussian_kernel, smoothed_noise_std
from brainsynth.common.rng import normals, normals_fast, stream_seed
from brainsynth.common.upsample import coarse_shape, upsample2
from brainsynth.depth_layers import (
    appearance_rows,
    extend_mix,
    extend_own,
    extend_sd,
    extend_table,
)


def _block_weights(psf: float, k: int) -> NDArray[np.float64]:
    """1-D weights of one k-voxel block average over white noise blurred by `psf` (voxels)."""
    g = gaussian_kernel(psf) if psf > 0 else np.ones(1)
    return np.convolve(g, np.full(k, 1.0 / k))


def _lag_correlation(w: NDArray[np.float64], lag: int) -> float:
    return float((w[:-lag] * w[lag:]).sum() / (w * w).sum()) if w.size > lag else 0.0


def fine_grid_optics(pv_sigma_voxels: float, sigma_scale: float) -> tuple[float, float]:
    """(PSF sigma in output voxels, gain of the texture's white part) for rendering on a grid
    `sigma_scale` (an integer k) times finer than the model's 2 mm grid, such that the finer
    volume averaged back onto k^3 blocks has the 2 mm render's white texture: the same
    neighbour correlation (the PSF, found by bisection: per axis, the correlation of adjacent
    blocks' averages of the blurred finer noise equals that of the 2 mm PSF's discrete kernel)
    and the same variance (the gain). The fitted 2 mm PSF holds the 2 mm box that the finer grid
    resolves, so the finer PSF is narrower; rendering with the 2 mm PSF in millimetres made the
    teacher's 1 mm volumes far smoother than the 2 mm ones once averaged (WM lag-1 +7.8 z). At
    the model's own grid both are unchanged."""
    if abs(sigma_scale - 1.0) < 1e-9:
        return pv_sigma_voxels, 1.0
    k = max(1, int(round(sigma_scale)))
    w2 = gaussian_kernel(pv_sigma_voxels) if pv_sigma_voxels > 0 else np.ones(1)
    target = _lag_correlation(w2, 1)
    lo, hi = 0.05, 4.0 * max(pv_sigma_voxels, 0.05) * k
    if _lag_correlation(_block_weights(lo, k), k) >= target:
        psf = lo
    else:
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if _lag_correlation(_block_weights(mid, k), k) < target:
                lo = mid
            else:
                hi = mid
        psf = 0.5 * (lo + hi)
    w1 = _block_weights(psf, k)
    gain = float(np.sqrt(((w2**2).sum() / (w1**2).sum()) ** 3))
    return float(psf), gain


def label_means(app: dict[str, Any], contrast: str, age: float) -> NDArray[np.float32]:
    mean = np.asarray(app["contrasts"][contrast]["mean"], np.float32)
    slope = app.get("ageSlopePerDecade", {}).get(contrast, {}).get("mean")
    if slope:
        mean = (mean + np.asarray(slope, np.float32) * np.float32((age - 45) / 10)).astype(
            np.float32
        )
    return mean.astype(np.float32)


def texture_gain(app: dict[str, Any], age: float, seed: int) -> float:
    """The subject's texture gain (MODEL_FORMAT.md §5 step 1, model >= 1.11.0):
    exp(perDecade * (age - 45) / 10 + logSd * e + offset), e the first unit normal of stream
    s + 7 (float64, summed in that order); 1 without `appearance.textureGain`
    (src/engine/render/textureGain.ts)."""
    spec = app.get("textureGain")
    if not spec:
        return 1.0
    e = float(normals(stream_seed(seed, 7), 2)[0]) if spec["logSd"] > 0 else 0.0
    return float(np.exp(spec["perDecade"] * (age - 45) / 10 + spec["logSd"] * e + spec["offset"]))


def label_sds(app: dict[str, Any], contrast: str, age: float, seed: int) -> NDArray[np.float32]:
    """Per-label SD times the subject's texture gain, each product rounded to float32."""
    sd = np.asarray(app["contrasts"][contrast]["sd"], np.float32)
    g = texture_gain(app, age, seed)
    return sd if g == 1.0 else (sd * np.float32(g)).astype(np.float32)


def bias_polynomial(
    shape: tuple[int, int, int], seed: int, mean: list[float] | None = None
) -> NDArray[np.float32]:
    """P on coordinates normalised to [-1, 1]: coefficients = the seed's normals / 3 plus
    `mean` (`bias_mean`: the model's systematic part, if any; MODEL_FORMAT.md §5)."""
    c = normals(stream_seed(seed, 2), 10) / 3
    if mean is not None:
        c = c + np.asarray(mean, np.float64)
    return np.broadcast_to(_quadratic(shape, c), shape).astype(np.float32)


def _quadratic(shape: tuple[int, int, int], c: NDArray[np.float64]) -> NDArray[np.float64]:
    """sum_k c_k m_k on grid coordinates normalised to [-1, 1] (monomials 1, x, y, z, x^2, y^2,
    z^2, xy, xz, yz; float64, broadcastable to `shape`): the bias polynomial's evaluation."""
    nx, ny, nz = shape
    x = (np.arange(nx) * 2 / max(nx - 1, 1) - 1).reshape(nx, 1, 1)
    y = (np.arange(ny) * 2 / max(ny - 1, 1) - 1).reshape(1, ny, 1)
    z = (np.arange(nz) * 2 / max(nz - 1, 1) - 1).reshape(1, 1, nz)
    return np.asarray(
        c[0]
        + c[1] * x
        + c[2] * y
        + c[3] * z
        + c[4] * x**2
        + c[5] * y**2
        + c[6] * z**2
        + c[7] * x * y
        + c[8] * x * z
        + c[9] * y * z,
        np.float64,
    )


def bias_mean(app: dict[str, Any]) -> list[float] | None:
    """The systematic part of P's coefficients: `appearance.biasMean.coefficients` (log-field
    units) over `biasFieldStrength`, so exp(strength P) = exp(strength P_seed + D); None without
    a `biasMean` or at strength 0 (src/engine/render/bias.ts `biasMeanOf`)."""
    spec = app.get("biasMean")
    strength = float(app["biasFieldStrength"])
    if spec is None or not strength > 0:
        return None
    return [float(v) / strength for v in spec["coefficients"]]


def radial_log_field(shape: tuple[int, int, int], spec: dict[str, Any]) -> NDArray[np.float64]:
    """R(r) of `appearance.biasMean.radial` on the grid (float64, [x, y, z]): r the
    brain-normalised radius |(u - centre) / semiAxes| (u: grid coordinates normalised to
    [-1, 1], as the polynomial's; squares summed x, y, z), R linear between the knots
    r = k * step, clamped outside them (MODEL_FORMAT.md §5 step 3)."""
    radial = spec["radial"]
    centre, semi = spec.get("centre"), spec.get("semiAxes")
    if centre is None or semi is None:
        raise ValueError("appearance.biasMean.radial needs biasMean.centre and biasMean.semiAxes")
    vals = np.asarray(radial["values"], np.float64)
    step = float(radial["step"])
    if vals.size < 2 or not step > 0:
        raise ValueError("appearance.biasMean.radial needs a positive step and two values")
    axes = []
    for a, n in enumerate(shape):
        u = np.arange(n) * 2 / max(n - 1, 1) - 1
        v = (u - float(centre[a])) / float(semi[a])
        axes.append((v * v).reshape([-1 if b == a else 1 for b in range(3)]))
    t = np.sqrt(axes[0] + axes[1] + axes[2]) / step
    last = vals.size - 1
    k = np.minimum(np.floor(t).astype(np.int64), last - 1)
    w = t - k
    r = vals[k] * (1.0 - w) + vals[k + 1] * w
    return np.asarray(np.where(t >= last, vals[last], r), np.float64)


def radial_term(shape: tuple[int, int, int], app: dict[str, Any]) -> NDArray[np.float32] | None:
    """R / biasFieldStrength per voxel (float32), what the radial part adds to P; None without
    `biasMean.radial` or at strength 0 (src/engine/render/bias.ts `radialTermOf`)."""
    spec = app.get("biasMean")
    strength = float(app["biasFieldStrength"])
    if spec is None or "radial" not in spec or not strength > 0:
        return None
    return (radial_log_field(shape, spec) / strength).astype(np.float32)


def bias_field(shape: tuple[int, int, int], seed: int, app: dict[str, Any]) -> NDArray[np.float32]:
    """P of the render: the seed's polynomial with the systematic coefficients, plus the radial
    term when the model has one (float32 sum); the field is exp(biasFieldStrength * P)."""
    p = bias_polynomial(shape, seed, bias_mean(app))
    r = radial_term(shape, app)
    return p if r is None else (p + r).astype(np.float32)


def systematic_bias(shape: tuple[int, int, int], app: dict[str, Any]) -> NDArray[np.float64]:
    """exp(D): the bias field's systematic part alone (`appearance.biasMean`: its polynomial and
    radial parts; ones without), on the same normalised coordinates as `bias_polynomial`. For
    measurements that must see the tissue contrast without it (render_fit's k-means classes)."""
    spec = app.get("biasMean")
    if spec is None or not float(app["biasFieldStrength"]) > 0:
        return np.ones(shape)
    d = _quadratic(shape, np.asarray(spec["coefficients"], np.float64))
    if "radial" in spec:
        d = d + radial_log_field(shape, spec)
    return np.broadcast_to(np.exp(d), shape).astype(np.float64)


def _noise(seed: int, shape: tuple[int, int, int]) -> NDArray[np.float32]:
    """Normals in x-fastest order, returned as an [x, y, z] array."""
    n = int(np.prod(shape))
    return normals_fast(seed, n).reshape(shape[::-1]).T


def texture_field(
    app: dict[str, Any],
    seed: int,
    shape: tuple[int, ...],
    sigma_scale: float = 1.0,
    white_gain: float = 1.0,
) -> NDArray[np.float32]:
    """§5 step 1: with `texture` {white, smooth, sigmaVoxels[, coarseFactor]} (fitted to the real
    WM texture, pipeline/appearance_fit.py): white n + smooth s, where s = (G_sigma * n) /
    std_sigma, or with coarseFactor 2 the same field drawn on the half-resolution grid (its own
    normals, stream s+5; G_{sigma/2}) and interpolated back (`upsample2`); else the first
    model's (G_sigma * n) / std_sigma with sigma = textureSigmaVoxels. n: normals of stream s+1.
    `white_gain` scales the white part (finer grids: `fine_grid_optics`)."""
    spec = app.get("texture")
    sigma = (spec["sigmaVoxels"] if spec else app["textureSigmaVoxels"]) * sigma_scale
    noise = _noise(stream_seed(seed, 1), shape)  # type: ignore[arg-type]
    if spec and int(spec.get("coarseFactor", 1)) == 2:
        cs = coarse_shape(shape)
        cn = _noise(stream_seed(seed, 5), cs)  # type: ignore[arg-type]
        c = (blur(cn, sigma / 2) / np.float32(smoothed_noise_std(sigma / 2))).astype(np.float32)
        smoothed = upsample2(c, shape)
    else:
        smoothed = (blur(noise, sigma) / np.float32(smoothed_noise_std(sigma))).astype(np.float32)
    if not spec:
        return smoothed
    white = np.float32(spec["white"] * white_gain)
    smooth = np.float32(spec["smooth"])
    return (white * noise + smooth * smoothed).astype(np.float32)


def render(
    idx: NDArray[np.int32],
    app: dict[str, Any],
    contrast: str,
    age: float,
    seed: int,
    is_wm: NDArray[np.bool_],
    sigma_scale: float = 1.0,
    device: str = "numpy",
    csf_fraction: NDArray[np.float32] | None = None,
    csf_index: int = 0,
    label_values: NDArray[np.integer[Any]] | None = None,
) -> NDArray[np.float32]:
    """Image for label indices idx [x, y, z]. `sigma_scale` converts the model's voxel-unit
    widths to this grid (2 at 1 mm): texture scales by the same millimetres; the PSF and the
    white texture follow `fine_grid_optics`, so a 1 mm volume averaged onto 2 mm blocks looks
    like the 2 mm render.
    `csf_fraction` (step 7b's sulcal partial volume, [x, y, z]) mixes the CSF mean into the
    textured image before the partial-volume blur: img = img + f * (mean_csf - img), with
    mean_csf the mean of label index `csf_index`.
    `label_values` (the label value of each index) enables the depth layers of
    `app["depthLayers"]` (brainsynth/depth_layers.py): voxels are remapped to appended rows.
    `device` other than 'numpy' runs the same steps in PyTorch (teacher/accel.py)."""
    means = label_means(app, contrast, age)
    sds = label_sds(app, contrast, age, seed)
    csf_mean = np.float32(means[csf_index]) if csf_fraction is not None else None
    mix: NDArray[np.float32] | None = None
    if app.get("depthLayers") and label_values is not None:
        scale = int(round(sigma_scale))
        rows = appearance_rows(idx, label_values, app["depthLayers"], scale)
        idx = rows.index
        if rows.mix_sd.any():
            vsd = extend_mix(means, rows, scale)[idx]
            mix = (vsd * _noise(stream_seed(seed, 6), idx.shape)).astype(np.float32)
        means = extend_table(means, rows)
        sds = extend_sd(sds, rows)
        is_wm = extend_own(is_wm, rows).astype(bool)
    if device != "numpy":
        from brainsynth.teacher import accel

        bias = bias_field(idx.shape, seed, app)
        return accel.render(
            device,
            idx,
            means,
            sds,
            app,
            seed,
            is_wm,
            bias,
            sigma_scale,
            csf_fraction,
            csf_mean,
            mix,
        )
    psf, white_gain = fine_grid_optics(float(app["partialVolumeSigmaVoxels"]), sigma_scale)
    tex = texture_field(app, seed, idx.shape, sigma_scale, white_gain)
    img = (means[idx] + sds[idx] * tex).astype(np.float32)
    if csf_fraction is not None and csf_mean is not None:
        img = (img + csf_fraction * (csf_mean - img)).astype(np.float32)
    if mix is not None:  # the depth rows' voxel mix (after the sulcal CSF, before the PSF)
        img = (img + mix).astype(np.float32)
    img = blur(img, psf)
    img = img * np.exp(bias_field(idx.shape, seed, app) * app["biasFieldStrength"])
    wm = is_wm[idx]
    wm_mean = float(img[wm].mean()) if wm.any() else float(means.max())
    sn = wm_mean / app["snr"]
    real = img + sn * _noise(stream_seed(seed, 3), idx.shape)
    imag = sn * _noise(stream_seed(seed, 4), idx.shape)
    return np.sqrt(real**2 + imag**2).astype(np.float32)


def anisotropic(
    img: NDArray[np.float32], spacing: float, thickness_mm: float, axis: int = 2
) -> NDArray[np.float32]:
    """Simulate a thick-slice acquisition: average over the slice profile along `axis`, keep
    every n-th slice and bring it back to the grid by linear interpolation."""
    n = max(1, int(round(thickness_mm / spacing)))
    if n == 1:
        return img
    prof = ndimage.uniform_filter1d(img, n, axis=axis, mode="nearest")
    keep = np.arange(0, img.shape[axis], n)
    coarse = np.take(prof, keep, axis=axis)
    pos = np.arange(img.shape[axis]) / n
    lo = np.clip(np.floor(pos).astype(int), 0, len(keep) - 1)
    hi = np.clip(lo + 1, 0, len(keep) - 1)
    f = (pos - lo).reshape([-1 if a == axis else 1 for a in range(3)])
    return (np.take(coarse, lo, axis=axis) * (1 - f) + np.take(coarse, hi, axis=axis) * f).astype(
        np.float32
    )

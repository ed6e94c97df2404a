"""Per-scan realism statistics: one function of (normalised image, tissue classes, spacing).

Every figure is computed identically for real and synthetic scans. Intensities are divided by
the eroded-WM median first (Scan.normalised), so all intensity statistics are in WM units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from scipy.stats import wasserstein_distance
from skimage.measure import marching_cubes, mesh_surface_area

from brainsynth.common.head_profile import N_BINS, vault_profile
from brainsynth.common.tissue import CORTEX, DEEP_GM, VENTRICLES, WM, brain_mask
from brainsynth.common.wm_depth import hull_depth_mm

MAD_TO_SD = 1.4826
SLOPE_BAND = (0.15, 0.45)  # cycles/voxel, the spectrum fit
LOW_BAND = (0.02, 0.10)  # cycles/voxel, "low" power
HIGH_BAND = (0.25, 0.50)  # cycles/voxel, "high" power
FFT_SIZE = 128  # every brain is zero-padded into the same cube, so the frequency bins agree
SPECTRUM_BINS = np.linspace(0.0, 0.5, 51)
BOX_SIZES = (1, 2, 4, 8)  # voxels, box counting of the cortical ribbon
ISO_SMOOTH_VOXELS = 1.0  # Gaussian sigma before the image isosurface (voxel noise is not folding)
WM_SUPERFICIAL_MM = 10.0  # eroded WM this close to the brain's hull is "superficial" ...
WM_DEEP_MM = 20.0  # ... and this far below it "deep"

# name -> (label, unit, group). group "appearance" (brain intensities) | "head" (outside the
# brain) | "anatomy" (label-map shape). Order = table order.
STATISTICS: dict[str, tuple[str, str, str]] = {
    "gmRobustCv": ("GM robust CV (1.4826·MAD/median, cortex)", "", "appearance"),
    "wmRobustCv": ("WM robust CV (eroded WM)", "", "appearance"),
    "deepGmRobustCv": ("deep-GM robust CV", "", "appearance"),
    "gmWmRatio": ("GM/WM median ratio", "", "appearance"),
    "csfWmRatio": ("CSF(ventricles)/WM median ratio", "", "appearance"),
    "deepGmWmRatio": ("deep-GM/WM median ratio", "", "appearance"),
    "spectrumSlope": ("power-spectrum log-log slope, 0.15-0.45 cyc/vox", "", "appearance"),
    "log10HighLowPower": ("log10 power ratio (0.25-0.5)/(0.02-0.1) cyc/vox", "", "appearance"),
    "gradWmMedian": ("median gradient magnitude ‖∇I‖ in eroded WM", "WM/mm", "appearance"),
    "gradGmMedian": ("median ‖∇I‖ in cortex", "WM/mm", "appearance"),
    "gradBrainP90": ("90th centile of ‖∇I‖ in the brain", "WM/mm", "appearance"),
    "gmWmEdgeWidth": (
        "GM/WM edge width: contrast / median ‖∇I‖ on the boundary",
        "mm",
        "appearance",
    ),
    "wmResidualAcf1": ("WM residual lag-1 autocorrelation", "", "appearance"),
    "wmSuperficialDeepRatio": (
        "eroded-WM median < 10 mm below the brain's hull / ≥ 20 mm below it",
        "",
        "appearance",
    ),
    "backgroundMedian": ("air: median in the 4 superior FOV corners (8³ voxels)", "WM", "head"),
    "backgroundRobustSd": ("air: robust sd in the superior FOV corners", "WM", "head"),
    "vaultDarkLayer": (
        "head over the vault: darkest layer (skull), min of the profile at depth t < 0.5",
        "WM",
        "head",
    ),
    "vaultBrightLayer": ("head over the vault: brightest layer, max of the profile", "WM", "head"),
    "vaultBrightDepth": (
        "head over the vault: normalised depth t of the brightest layer (0 brain, 1 skin)",
        "",
        "head",
    ),
    "boundaryAreaPerMl": (
        "GM/WM boundary area per brain volume (label faces)",
        "mm²/mL",
        "anatomy",
    ),
    "cortexFractalDim": ("fractal dimension of the cortical ribbon (box counting)", "", "anatomy"),
    "cortexFraction": ("cortex volume / brain volume", "", "anatomy"),
    "cortexThicknessProxy": ("cortex volume / GM-WM boundary area", "mm", "anatomy"),
    "isosurfaceAreaPerMl": (
        "image GM/WM isosurface area in the cerebrum per brain volume",
        "mm²/mL",
        "anatomy",
    ),
}


@dataclass
class Measured:
    values: dict[str, float]
    spectrum: NDArray[np.float64]  # radially averaged power per SPECTRUM_BINS bin
    brain_intensities: NDArray[np.float32]  # normalised intensities in the brain mask (sorted)
    # median intensity per bin of normalised depth brain -> skin above the brain (head_profile)
    vault_profile: NDArray[np.float64]


def robust_cv(v: NDArray[np.floating]) -> float:
    med = float(np.median(v))
    return float(MAD_TO_SD * np.median(np.abs(v - med)) / med)


def radial_spectrum(image: NDArray[np.floating], mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Radially averaged power of the brain (mean-subtracted inside the mask, zero outside),
    zero-padded into an FFT_SIZE cube; frequencies in cycles/voxel."""
    idx = np.argwhere(mask)
    lo, hi = idx.min(axis=0), idx.max(axis=0) + 1
    if np.any(hi - lo > FFT_SIZE):
        raise ValueError(f"brain bounding box {tuple(hi - lo)} exceeds the FFT cube {FFT_SIZE}")
    box = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    sub = np.where(mask[box], image[box] - image[mask].mean(), 0.0)
    cube = np.zeros((FFT_SIZE,) * 3)
    cube[tuple(slice(0, s) for s in sub.shape)] = sub
    power = np.abs(np.fft.rfftn(cube)) ** 2
    f = [np.fft.fftfreq(FFT_SIZE)] * 2 + [np.fft.rfftfreq(FFT_SIZE)]
    r = np.sqrt(f[0][:, None, None] ** 2 + f[1][None, :, None] ** 2 + f[2][None, None, :] ** 2)
    which = np.digitize(r.ravel(), SPECTRUM_BINS) - 1
    ok = (which >= 0) & (which < SPECTRUM_BINS.size - 1)
    sums = np.bincount(which[ok], weights=power.ravel()[ok], minlength=SPECTRUM_BINS.size - 1)
    counts = np.bincount(which[ok], minlength=SPECTRUM_BINS.size - 1)
    return sums / np.maximum(counts, 1) / mask.sum()


def spectrum_centres() -> NDArray[np.float64]:
    return 0.5 * (SPECTRUM_BINS[:-1] + SPECTRUM_BINS[1:])


def spectrum_slope(spectrum: NDArray[np.float64]) -> float:
    f = spectrum_centres()
    sel = (f >= SLOPE_BAND[0]) & (f <= SLOPE_BAND[1]) & (spectrum > 0)
    return float(np.polyfit(np.log(f[sel]), np.log(spectrum[sel]), 1)[0])


def band_power(spectrum: NDArray[np.float64], band: tuple[float, float]) -> float:
    f = spectrum_centres()
    sel = (f >= band[0]) & (f < band[1])
    return float(spectrum[sel].mean())


def label_faces(
    a: NDArray[np.int8], c1: int, c2: int, spacing: tuple[float, float, float]
) -> float:
    """Area (mm²) of the voxel faces between class c1 and class c2."""
    area = 0.0
    for ax in range(3):
        x = np.moveaxis(a, ax, 0)
        p, q = x[:-1], x[1:]
        n = int(np.count_nonzero((p == c1) & (q == c2)) + np.count_nonzero((p == c2) & (q == c1)))
        others = [spacing[i] for i in range(3) if i != ax]
        area += n * others[0] * others[1]
    return area


@dataclass(frozen=True)
class LabelGeometry:
    """The volumes and the GM/WM interface a label map's anatomy statistics are made of."""

    brain_mm3: float  # brain_mask(classes)
    cortex_mm3: float
    boundary_mm2: float  # cortex/WM voxel faces (label_faces)

    @property
    def brain_ml(self) -> float:
        return self.brain_mm3 / 1000.0


def label_geometry(classes: NDArray[np.int8], spacing: tuple[float, float, float]) -> LabelGeometry:
    """Brain and cortex volume and GM/WM boundary area of one map of tissue classes (shared by
    this benchmark and the 1 mm complexity QA, `brainsynth.qa.complexity`)."""
    voxel = float(np.prod(spacing))
    return LabelGeometry(
        brain_mm3=float(brain_mask(classes).sum()) * voxel,
        cortex_mm3=float((classes == CORTEX).sum()) * voxel,
        boundary_mm2=label_faces(classes, CORTEX, WM, spacing),
    )


def box_counting_dimension(mask: NDArray[np.bool_], sizes: tuple[int, ...] = BOX_SIZES) -> float:
    counts = []
    for s in sizes:
        shape = [int(np.ceil(n / s)) * s for n in mask.shape]
        m = np.zeros(shape, bool)
        m[: mask.shape[0], : mask.shape[1], : mask.shape[2]] = mask
        b = m.reshape(shape[0] // s, s, shape[1] // s, s, shape[2] // s, s).any(axis=(1, 3, 5))
        counts.append(int(b.sum()))
    return float(-np.polyfit(np.log(sizes), np.log(counts), 1)[0])


def isosurface_area(
    image: NDArray[np.floating],
    level: float,
    region: NDArray[np.bool_],
    spacing: tuple[float, float, float],
    sigma: float = ISO_SMOOTH_VOXELS,
) -> float:
    """Area (mm²) of the image's isosurface at `level` inside `region` (marching cubes on the
    image smoothed by a Gaussian of `sigma` voxels; triangles whose centroid's voxel lies in the
    region eroded by one voxel, so the region's own edge adds no surface). It sees the folding
    as the image shows it, whatever a label map calls cortex (issue 10's "image isosurface
    area"): the GM/WM level traces the white matter's gyral cores."""
    img = np.asarray(image, np.float64)
    if sigma > 0:
        img = np.asarray(ndimage.gaussian_filter(img, sigma), np.float64)
    vol = np.where(region, img, min(float(img.min()), level) - 1.0)
    if not (vol >= level).any() or not (vol < level).any():
        return 0.0
    verts, faces, _, _ = marching_cubes(vol, level=level, spacing=spacing)
    inner = ndimage.binary_erosion(region)
    centre = verts[faces].mean(axis=1) / np.asarray(spacing)
    k = np.clip(np.rint(centre).astype(np.int64), 0, np.asarray(region.shape) - 1)
    keep = inner[k[:, 0], k[:, 1], k[:, 2]]
    return float(mesh_surface_area(verts, faces[keep])) if keep.any() else 0.0


def _masked_smooth(
    image: NDArray[np.floating], mask: NDArray[np.bool_], sigma: float
) -> NDArray[np.float64]:
    w = ndimage.gaussian_filter(mask.astype(np.float64), sigma)
    s = ndimage.gaussian_filter(np.where(mask, image, 0.0).astype(np.float64), sigma)
    return s / np.maximum(w, 1e-6)


def residual_acf1(
    image: NDArray[np.floating], mask: NDArray[np.bool_], sigma: float = 2.0
) -> float:
    """Lag-1 autocorrelation (mean over the 3 axes) of the WM residual after removing a smooth
    (Gaussian sigma voxels, normalised inside the mask) trend: ~0 for white noise, ->1 for
    texture smoother than a voxel."""
    r = np.where(mask, image - _masked_smooth(image, mask, sigma), 0.0)
    num = den = 0.0
    for ax in range(3):
        a = np.moveaxis(r, ax, 0)
        m = np.moveaxis(mask, ax, 0)
        both = m[:-1] & m[1:]
        num += float((a[:-1][both] * a[1:][both]).sum())
        den += 0.5 * float((a[:-1][both] ** 2).sum() + (a[1:][both] ** 2).sum())
    return num / den


def superior_corners(
    image: NDArray[np.floating], affine: NDArray[np.float64], size: int = 8
) -> NDArray[np.floating]:
    """Voxels of the four size^3 blocks at the superior corners of the field of view (air in a
    head scan framed on the head); the superior axis is read from the affine."""
    sup = int(np.argmax(np.abs(affine[2, :3])))
    top = slice(-size, None) if affine[2, sup] > 0 else slice(0, size)
    others = [a for a in range(3) if a != sup]
    blocks = []
    for e0 in (slice(0, size), slice(-size, None)):
        for e1 in (slice(0, size), slice(-size, None)):
            idx: list[slice] = [slice(None)] * 3
            idx[sup], idx[others[0]], idx[others[1]] = top, e0, e1
            blocks.append(image[tuple(idx)].ravel())
    return np.concatenate(blocks)


def wm_superficial_deep_ratio(
    img: NDArray[np.floating],
    wm_eroded: NDArray[np.bool_],
    depth_mm: NDArray[np.floating],
) -> float:
    """Median of the eroded WM within WM_SUPERFICIAL_MM of the hull over that of the eroded WM
    deeper than WM_DEEP_MM (depth below the brain's hull, `common.wm_depth`). The real 3 T
    scans: 0.84 - their field brightens the middle of the brain (module docstring there)."""
    sup = wm_eroded & (depth_mm < WM_SUPERFICIAL_MM)
    deep = wm_eroded & (depth_mm >= WM_DEEP_MM)
    if not sup.any() or not deep.any():
        raise ValueError("no superficial or no deep white matter: the label map is not a brain")
    return float(np.median(img[sup])) / float(np.median(img[deep]))


def measure(
    image: NDArray[np.floating],
    classes: NDArray[np.int8],
    spacing: tuple[float, float, float],
    affine: NDArray[np.float64],
) -> Measured:
    """All STATISTICS of one scan (`image` already divided by its eroded-WM median)."""
    brain = brain_mask(classes)
    cortex = classes == CORTEX
    wm = classes == WM
    wm_e = ndimage.binary_erosion(wm)
    deep = classes == DEEP_GM
    vent = classes == VENTRICLES
    for name, m in (
        ("cortex", cortex),
        ("eroded WM", wm_e),
        ("deep GM", deep),
        ("ventricles", vent),
    ):
        if not m.any():
            raise ValueError(f"no {name} voxels: the label map does not cover the brain")
    img = image.astype(np.float64)
    wm_med = float(np.median(img[wm_e]))
    gm_med = float(np.median(img[cortex]))
    grad = np.sqrt(sum(g**2 for g in np.gradient(img, *spacing)))
    inner = ndimage.binary_erosion(brain, iterations=2)
    # boundary voxels: cortex voxels with a WM 6-neighbour and vice versa
    near_wm = ndimage.binary_dilation(wm) & cortex
    near_gm = ndimage.binary_dilation(cortex) & wm
    edge = near_wm | near_gm
    spec = radial_spectrum(img, brain)
    geo = label_geometry(classes, spacing)
    brain_ml = geo.brain_ml
    air = superior_corners(img, affine)
    # the cerebrum (cortex and WM, one voxel wider) and the level halfway between GM and WM
    cerebrum = ndimage.binary_dilation(cortex | wm)
    iso = isosurface_area(img, 0.5 * (gm_med + wm_med), cerebrum, spacing)
    air_med = float(np.median(air))
    vault = vault_profile(img, classes, affine)
    vault_inner = vault[: N_BINS // 2]
    if not (np.isfinite(vault_inner).any() and np.isfinite(vault[N_BINS // 2 :]).any()):
        raise ValueError("no head above the brain (a skull-stripped image?): no vault profile")
    bright = int(np.nanargmax(vault))
    values = {
        "gmRobustCv": robust_cv(img[cortex]),
        "wmRobustCv": robust_cv(img[wm_e]),
        "deepGmRobustCv": robust_cv(img[deep]),
        "gmWmRatio": gm_med / wm_med,
        "csfWmRatio": float(np.median(img[vent])) / wm_med,
        "deepGmWmRatio": float(np.median(img[deep])) / wm_med,
        "spectrumSlope": spectrum_slope(spec),
        "log10HighLowPower": float(
            np.log10(band_power(spec, HIGH_BAND) / band_power(spec, LOW_BAND))
        ),
        "gradWmMedian": float(np.median(grad[wm_e])),
        "gradGmMedian": float(np.median(grad[cortex])),
        "gradBrainP90": float(np.percentile(grad[inner], 90)),
        "gmWmEdgeWidth": (wm_med - gm_med) / float(np.median(grad[edge])),
        "wmResidualAcf1": residual_acf1(img, wm_e),
        "wmSuperficialDeepRatio": wm_superficial_deep_ratio(
            img, wm_e, hull_depth_mm(classes, spacing)
        ),
        "backgroundMedian": air_med,
        "backgroundRobustSd": float(MAD_TO_SD * np.median(np.abs(air - air_med))),
        "vaultDarkLayer": float(np.nanmin(vault_inner)),
        "vaultBrightLayer": float(vault[bright]),
        "vaultBrightDepth": (bright + 0.5) / N_BINS,
        "boundaryAreaPerMl": geo.boundary_mm2 / brain_ml,
        "cortexFractalDim": box_counting_dimension(cortex),
        "cortexFraction": geo.cortex_mm3 / geo.brain_mm3,
        "cortexThicknessProxy": geo.cortex_mm3 / geo.boundary_mm2,
        "isosurfaceAreaPerMl": iso / brain_ml,
    }
    return Measured(values, spec, np.sort(img[brain]).astype(np.float32), vault)


def histogram_distance(a: NDArray[np.floating], b: NDArray[np.floating]) -> float:
    """Wasserstein-1 distance between two intensity distributions (WM units)."""
    return float(wasserstein_distance(a, b))

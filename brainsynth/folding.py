"""Individual cortical folding (MODEL_FORMAT.md §3, step 7b): stochastic sulci.

The label template is a 20-subject average: its cortex is a thick, smooth band with almost no
sulci. Step 7b opens a new, individual set of sulci in every sample. A sulcus is a thin sheet of
CSF that runs from the brain's surface inwards, lined by grey matter, between gyri whose white
matter cores carry on. The sheets are the zero set of a band-limited random field on the sphere
of directions around the brain's centre (a sum of random plane waves of one wavelength, whose
zero set is a labyrinth of lines spaced half a wavelength apart, like a sulcal pattern), so each
seed has its own folding pattern, which the deformation carries along as the subject ages.

Rule, per output voxel x (world mm) with label l and template depth dep (mm below the brain's
outer hull, read at the nearest 2 mm template voxel; `corticalDepth` array):
  d = distance (mm) to the nearest sheet ~ |F(dir(x - C))| * |x - C| / (sqrt(2/3) K)
  core:   d < h  and (l is cerebral cortex, or l is cerebral WM and dep < D)  -> CSF (24)
  lining: l is cerebral WM, not core, d < h + t and dep < D + t             -> cortex (same side)
  crown:  l is cortex, not core, d >= h + t, dep >= crownMm and no CSF or background within
          2 mm along an axis (before folding)                               -> WM (same side)
(the last rule thins the template's over-thick average ribbon to a cortical thickness, so gyri
get white-matter cores)
and the image gets the sulcal partial volume: voxels that end as cortex mix in CSF with the
fraction clamp((h + s/2 - d) / s, 0, 1) (s = grid spacing), so a sheet thinner than a voxel
still darkens it as in a real scan.

The same numbers in the engine (src/engine/sampler/folding.ts): the wave table is computed in
float64 on both sides from the seed's mulberry32 stream, so 2 mm labels agree voxel for voxel.
Written here because no library generates sulcal patterns on a label map.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from brainsynth.common.rng import uniforms_fast

# label values (FreeSurfer): cerebral WM / cortex per side, CSF
WM_TO_CORTEX = {2: 3, 41: 42}
CORTEX = (3, 42)
CSF = 24
# groups whose union (holes filled) is the brain's hull for the depth map
HULL_GROUPS = (
    "cortex",
    "wm",
    "deep-gm",
    "ventricle",
    "hippocampus",
    "amygdala",
    "cerebellum-gm",
    "cerebellum-wm",
    "brainstem",
)
DEPTH_UNIT_MM = 0.5  # corticalDepth is stored as uint8 in half millimetres
CROWN_NEIGHBOUR_MM = 2.0  # cortex this close (along an axis) to CSF or outside stays cortex


def near_outside(values: NDArray[np.integer[Any]], r: int) -> NDArray[np.bool_]:
    """Voxels with CSF (24) or background (0) among the 6-axis neighbours at 1..r voxels
    (outside the grid counts as background)."""
    out_ = np.isin(values, (0, CSF))
    near = np.zeros(values.shape, bool)
    for axis in range(values.ndim):
        n = values.shape[axis]
        for k in range(1, r + 1):
            lo = [slice(None)] * values.ndim
            hi = [slice(None)] * values.ndim
            lo[axis] = slice(0, max(n - k, 0))
            hi[axis] = slice(k, n)
            near[tuple(lo)] |= out_[tuple(hi)]
            near[tuple(hi)] |= out_[tuple(lo)]
            edge_lo = [slice(None)] * values.ndim
            edge_hi = [slice(None)] * values.ndim
            edge_lo[axis] = slice(0, min(k, n))
            edge_hi[axis] = slice(max(n - k, 0), n)
            near[tuple(edge_lo)] = True
            near[tuple(edge_hi)] = True
    return near


def folding_stream_seed(seed: int) -> int:
    """The folding's own mulberry32 stream: s ^ 0x85ebca6b."""
    return (seed ^ 0x85EBCA6B) & 0xFFFFFFFF


def hull_depth_mm(
    template_idx: NDArray[np.integer[Any]], groups: list[str], spacing: float
) -> NDArray[np.float64]:
    """Depth (mm) of each template voxel's centre below the brain's outer hull (brain tissue and
    ventricles, holes filled, closed by two voxels so sulcal CSF of the template counts as
    inside): the Euclidean distance to the nearest voxel centre outside the hull, less half a
    voxel — the hull's surface lies between the two centres, so the outermost voxels are half a
    voxel deep, not a whole one. 0 outside the hull."""
    in_hull = np.array([g in HULL_GROUPS for g in groups], bool)[template_idx]
    hull = ndimage.binary_fill_holes(ndimage.binary_closing(in_hull, iterations=2))
    hull = ndimage.binary_fill_holes(hull | in_hull)
    edt = np.asarray(ndimage.distance_transform_edt(hull, sampling=spacing), np.float64)
    return np.where(hull, np.maximum(edt - 0.5 * spacing, 0.0), 0.0)


def depth_array(
    template_idx: NDArray[np.integer[Any]], groups: list[str], spacing: float
) -> NDArray[np.uint8]:
    """`corticalDepth` as shipped: uint8 half-millimetres, clipped at 127.5 mm."""
    d = hull_depth_mm(template_idx, groups, spacing)
    return np.clip(np.rint(d / DEPTH_UNIT_MM), 0, 255).astype(np.uint8)


def waves(seed: int, n_waves: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Unit wave vectors [n, 3] and phases [n]: per wave three uniforms u1, u2, u3 ->
    cz = 2 u1 - 1, azimuth 2 pi u2, phase 2 pi u3 (stream `folding_stream_seed`)."""
    u = uniforms_fast(folding_stream_seed(seed), 3 * n_waves)
    cz = 2.0 * u[0::3] - 1.0
    az = 2.0 * math.pi * u[1::3]
    phase = 2.0 * math.pi * u[2::3]
    s = np.sqrt(np.maximum(1.0 - cz * cz, 0.0))
    return np.stack([s * np.cos(az), s * np.sin(az), cz], axis=1), phase


def wave_number(params: dict[str, Any]) -> float:
    """K: radians of phase per radian of direction (a wavelength of `wavelengthMm` at
    `radiusMm`)."""
    return 2.0 * math.pi * float(params["radiusMm"]) / float(params["wavelengthMm"])


def cube_table(seed: int, params: dict[str, Any]) -> NDArray[np.float64]:
    """F on a cube map of directions: [6 faces, N+1, N+1]. Face f = 2 a + (0 for +, 1 for -)
    along axis a; node (i, j) is the direction normalise(e) with e_a = +-1 and the other two
    axes (in increasing order) at -1 + 2 i / N and -1 + 2 j / N.
    F(d) = sqrt(2 / W) sum_j cos(K d.w_j + phase_j)."""
    n = int(params["tableSize"])
    w, phase = waves(seed, int(params["waves"]))
    k = wave_number(params)
    g = -1.0 + 2.0 * np.arange(n + 1) / n
    gi, gj = np.meshgrid(g, g, indexing="ij")
    out = np.zeros((6, n + 1, n + 1), np.float64)
    for a in range(3):
        b, c = [ax for ax in range(3) if ax != a]
        for si, sign in enumerate((1.0, -1.0)):
            e = np.zeros((3, n + 1, n + 1))
            e[a] = sign
            e[b] = gi
            e[c] = gj
            d = e / np.sqrt((e**2).sum(0))
            acc = np.zeros((n + 1, n + 1))
            for j in range(w.shape[0]):
                dot = d[0] * w[j, 0] + d[1] * w[j, 1] + d[2] * w[j, 2]
                acc += np.cos(k * dot + phase[j])
            out[2 * a + si] = acc * math.sqrt(2.0 / w.shape[0])
    return out


def sheet_distance(
    table: NDArray[np.float64], r: NDArray[np.float64], params: dict[str, Any]
) -> NDArray[np.float64]:
    """Distance (mm) to the nearest sulcal sheet for offsets r [3, M] from the centre C:
    the cube-map face of the largest |component| (ties: the lower axis), bilinear in the face,
    then |F| * |r| / (sqrt(2/3) K)."""
    n = int(params["tableSize"])
    ar = np.abs(r)
    a = np.argmax(ar, axis=0)  # first maximum: ties go to the lower axis
    m = np.take_along_axis(ar, a[None], 0)[0]
    m = np.where(m > 0, m, 1.0)
    sign = np.take_along_axis(r, a[None], 0)[0] < 0
    face = 2 * a + sign.astype(np.int64)
    b = np.where(a == 0, 1, 0)
    c = np.where(a == 2, 1, 2)
    u = np.take_along_axis(r, b[None], 0)[0] / m
    v = np.take_along_axis(r, c[None], 0)[0] / m
    fi = (u + 1.0) * 0.5 * n
    fj = (v + 1.0) * 0.5 * n
    i0 = np.clip(np.floor(fi).astype(np.int64), 0, n - 1)
    j0 = np.clip(np.floor(fj).astype(np.int64), 0, n - 1)
    ti = fi - i0
    tj = fj - j0
    f = (
        table[face, i0, j0] * (1 - ti) * (1 - tj)
        + table[face, i0 + 1, j0] * ti * (1 - tj)
        + table[face, i0, j0 + 1] * (1 - ti) * tj
        + table[face, i0 + 1, j0 + 1] * ti * tj
    )
    radius = np.sqrt((r**2).sum(0))
    return np.abs(f) * radius / (math.sqrt(2.0 / 3.0) * wave_number(params))


def apply_folding(
    values: NDArray[np.integer[Any]],
    x: NDArray[np.floating[Any]],
    depth_mm: NDArray[np.floating[Any]],
    seed: int,
    params: dict[str, Any],
    centre: list[float],
    spacing: float,
) -> tuple[NDArray[np.int32], NDArray[np.float32]]:
    """Step 7b on label *values* (any shape S), world points x [3, *S], template depth [*S]:
    the folded label values and the sulcal CSF fraction of the image (0 where not cortex)."""
    vals = np.asarray(values).astype(np.int32)
    is_ctx = np.isin(vals, CORTEX)
    is_wm = np.isin(vals, list(WM_TO_CORTEX))
    h = float(params["sulcalHalfWidthMm"])
    t = float(params["liningMm"])
    deep = float(params["sulcalDepthMm"])
    cand = (is_ctx | is_wm) & (depth_mm < deep + t)
    out = vals.copy()
    frac = np.zeros(vals.shape, np.float32)
    if not cand.any():
        return out, frac
    r = np.asarray(x, np.float64)[:, cand] - np.asarray(centre, np.float64).reshape(3, 1)
    d = sheet_distance(cube_table(seed, params), r, params)
    dep = np.asarray(depth_mm, np.float64)[cand]
    ctx = is_ctx[cand]
    wm = is_wm[cand]
    v = vals[cand]
    core = (d < h) & (ctx | (wm & (dep < deep)))
    lining = wm & ~core & (d < h + t)
    lined = np.where(v == 41, 42, 3)
    new = np.where(core, CSF, np.where(lining, lined, v))
    crown = params.get("crownMm")
    if crown is not None:
        # the gyral core: template cortex farther than a cortical thickness from the sulci, the
        # surface and the template's own CSF becomes white matter (the ribbon keeps its width)
        open_ = near_outside(vals, max(1, int(round(CROWN_NEIGHBOUR_MM / spacing))))[cand]
        core_wm = ctx & ~core & (d >= h + t) & (dep >= float(crown)) & ~open_
        new = np.where(core_wm, np.where(v == 42, 41, 2), new)
    out[cand] = new
    pv = np.clip((h + 0.5 * spacing - d) / spacing, 0.0, 1.0)
    frac[cand] = np.where(np.isin(new, CORTEX), pv, 0.0).astype(np.float32)
    return out, frac


def fold_template_indices(
    model: Any,
    manifest: dict[str, Any],
    depth_mm: NDArray[np.floating[Any]],
    indices: NDArray[np.integer[Any]],
    points: NDArray[np.floating[Any]],
    template_points: NDArray[np.floating[Any]],
    seed: int,
) -> NDArray[np.int32]:
    """Step 7b for QA code that samples steps 1-7 itself (brainsynth.anatomy): label indices on
    the model's 2 mm grid at output `points`, whose template positions are `template_points`;
    `depth_mm` is the model's corticalDepth [x, y, z] in mm. Unchanged without `folding`."""
    params = manifest.get("folding")
    if not params:
        return np.asarray(indices, np.int32)
    grid = model.grid
    q = np.floor(grid.to_voxel(template_points) + 0.5).astype(np.int64)
    inside = np.ones(q.shape[1:], bool)
    for a in range(3):
        inside &= (q[a] >= 0) & (q[a] < grid.shape[a])
        np.clip(q[a], 0, grid.shape[a] - 1, out=q[a])
    dep = np.where(inside, depth_mm[q[0], q[1], q[2]], 0.0)
    values = model.label_values[np.asarray(indices)]
    folded, _ = apply_folding(
        values,
        points,
        dep,
        seed,
        params,
        manifest["calibration"]["gridCentreMm"],
        float(grid.spacing[0]),
    )
    return indices_of(folded, model.label_values)


def indices_of(
    values: NDArray[np.integer[Any]], label_values: NDArray[np.integer[Any]]
) -> NDArray[np.int32]:
    """Label values back to label indices (the fold only writes values the table has)."""
    lut = np.zeros(int(max(int(np.max(values)), int(np.max(label_values)))) + 1, np.int32)
    lut[np.asarray(label_values, np.int64)] = np.arange(len(label_values), dtype=np.int32)
    return lut[np.asarray(values, np.int64)]

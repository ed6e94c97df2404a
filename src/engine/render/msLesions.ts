/**
 * MS lesions (MODEL_FORMAT.md §4), placed in plain JS: the procedure is sequential (each lesion
 * depends on the load reached so far) and touches few voxels, so tensors would not help.
 *
 * Random draws, stream mulberry32(s ^ 0x9e3779b9), per lesion, in this order (a choice the spec
 * leaves open; the Python teacher must draw the same way to reproduce lesions exactly):
 *   1. u_c = rng()                → centre: inverse CDF over output voxels (x-fastest order) with
 *                                   weight msLesionPrior(p) if the voxel's group is `wm`, else 0;
 *   2. u1 = 1 − rng(), u2 = rng() → n = sqrt(−2 ln u1)·cos(2π u2) (the sin half is discarded);
 *                                   volume = exp(lesionVolumeLogMeanMl + lesionVolumeLogSdMl·n) mL.
 * Shape: ellipsoid with semi-axes a = e·b, b, b (e = elongation, (4/3)π·a·b² = volume), long axis
 * along (centre − nearest lateral-ventricle voxel), i.e. perpendicular to the ventricle wall.
 * Only `wm` voxels become 701 (earlier lesions are no longer `wm`, so overlaps do not count
 * twice). Lesions are added until the relabelled volume reaches the target L or maxLesions.
 * The last lesion is filled from its centre outwards (by normalised ellipsoid radius) and stops
 * as soon as L is reached, so the realised load overshoots L by less than one voxel.
 */
import type { Model } from '../model/loadModel';
import { groupMask, PATHOLOGY_LABELS, requireLabelIndex } from '../model/labelTable';
import { mulberry32 } from '../rng';

export interface MsResult {
  targetLoadMl: number;
  realisedLoadMl: number;
  lesionCount: number;
  lesionsDrawn: number;
  note?: string;
}

export function drawMsLesions(
  model: Model,
  labels: Int32Array,
  templateIndex: Int32Array,
  targetMl: number,
  streamSeed: number,
): MsResult {
  const spec = model.manifest.pathology.ms;
  const prior = model.arrays.msLesionPrior;
  if (!spec || !prior)
    throw new Error(`Model ${model.manifest.id} has no MS model (pathology.ms / msLesionPrior)`);
  const lesion = requireLabelIndex(model.labels, PATHOLOGY_LABELS.msLesion, 'MS lesion');
  const grid = model.grid;
  const [nx, ny, nz] = grid.shape;
  const [sx, sy, sz] = grid.spacing;
  const [ox, oy, oz] = grid.origin;
  const n = grid.count;
  const isWm = groupMask(model.labels, 'wm');

  // Centre distribution: prior sampled at the template position of each wm output voxel.
  const cdf = new Float64Array(n);
  let total = 0;
  for (let v = 0; v < n; v++) {
    const t = templateIndex[v];
    if (isWm[labels[v]] && t < n) total += prior[t];
    cdf[v] = total;
  }
  const result: MsResult = {
    targetLoadMl: targetMl,
    realisedLoadMl: 0,
    lesionCount: 0,
    lesionsDrawn: 0,
  };
  if (total <= 0) {
    result.note = 'no white matter with non-zero lesion prior: no lesions drawn';
    return result;
  }

  const ventricles = ventricleVoxels(model, labels);
  const rng = mulberry32(streamSeed);
  const voxelMl = grid.voxelMl;
  let relabelled = 0;
  const targetVoxels = targetMl / voxelMl;
  const worldOf = (v: number): [number, number, number] => {
    const i = v % nx;
    const j = Math.floor(v / nx) % ny;
    const k = Math.floor(v / (nx * ny));
    return [ox + sx * i, oy + sy * j, oz + sz * k];
  };

  while (relabelled < targetVoxels - 1e-9 && result.lesionsDrawn < spec.maxLesions) {
    result.lesionsDrawn++;
    const centreVoxel = searchCdf(cdf, rng() * total);
    const u1 = 1 - rng();
    const u2 = rng();
    const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    const volumeMm3 =
      1000 * Math.exp(spec.lesionVolumeLogMeanMl + spec.lesionVolumeLogSdMl * normal);
    const e = spec.elongation;
    const b = Math.cbrt((3 * volumeMm3) / (4 * Math.PI * e));
    const a = e * b;
    const c = worldOf(centreVoxel);
    const dir = longAxis(c, ventricles, model.manifest.calibration.gridCentreMm);

    // Candidate wm voxels inside the ellipsoid, with their normalised radius ρ ≤ 1.
    const ci = Math.round((c[0] - ox) / sx);
    const cj = Math.round((c[1] - oy) / sy);
    const ck = Math.round((c[2] - oz) / sz);
    const ri = Math.ceil(a / sx);
    const rj = Math.ceil(a / sy);
    const rk = Math.ceil(a / sz);
    const cand: number[] = [];
    const rho: number[] = [];
    for (let k = Math.max(0, ck - rk); k <= Math.min(nz - 1, ck + rk); k++) {
      const dz = oz + sz * k - c[2];
      for (let j = Math.max(0, cj - rj); j <= Math.min(ny - 1, cj + rj); j++) {
        const dy = oy + sy * j - c[1];
        for (let i = Math.max(0, ci - ri); i <= Math.min(nx - 1, ci + ri); i++) {
          const v = i + nx * (j + ny * k);
          if (!isWm[labels[v]]) continue;
          const dx = ox + sx * i - c[0];
          const along = dx * dir[0] + dy * dir[1] + dz * dir[2];
          const perp2 = dx * dx + dy * dy + dz * dz - along * along;
          const r = (along * along) / (a * a) + perp2 / (b * b);
          if (r <= 1) {
            cand.push(v);
            rho.push(r);
          }
        }
      }
    }
    if (cand.length === 0) continue;
    const remaining = Math.ceil(targetVoxels - relabelled - 1e-9);
    let chosen = cand;
    if (cand.length > remaining) {
      const order = cand.map((_, i) => i).sort((p, q) => rho[p] - rho[q] || cand[p] - cand[q]);
      chosen = order.slice(0, remaining).map((i) => cand[i]);
    }
    for (const v of chosen) labels[v] = lesion;
    relabelled += chosen.length;
    result.lesionCount++;
  }
  result.realisedLoadMl = relabelled * voxelMl;
  if (relabelled < targetVoxels - 1e-9) {
    result.note = `stopped at maxLesions (${spec.maxLesions}) below the requested load`;
  }
  return result;
}

/** Smallest index v with cdf[v] > x (binary search). */
function searchCdf(cdf: Float64Array, x: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** World positions (flat xyz triples) of the output voxels labelled as lateral ventricle. */
function ventricleVoxels(model: Model, labels: Int32Array): Float64Array {
  const region = model.manifest.regions.find((r) => r.name === 'lateral-ventricles');
  const values = region ? region.labels : [4, 43]; // FreeSurfer Left/Right-Lateral-Ventricle
  const isVent = new Uint8Array(model.labels.infos.length);
  for (const v of values) {
    const idx = model.labels.indexOfValue.get(v);
    if (idx !== undefined) isVent[idx] = 1;
  }
  const g = model.grid;
  const [nx, ny] = g.shape;
  const out: number[] = [];
  for (let v = 0; v < g.count; v++) {
    if (!isVent[labels[v]]) continue;
    const i = v % nx;
    const j = Math.floor(v / nx) % ny;
    const k = Math.floor(v / (nx * ny));
    out.push(
      g.origin[0] + g.spacing[0] * i,
      g.origin[1] + g.spacing[1] * j,
      g.origin[2] + g.spacing[2] * k,
    );
  }
  return Float64Array.from(out);
}

/**
 * Unit direction from the nearest ventricle voxel to the centre. Fallbacks (no ventricle voxels,
 * or the centre on a ventricle voxel): away from the grid centre, then +z.
 */
function longAxis(
  c: [number, number, number],
  vent: Float64Array,
  gridCentre: number[],
): [number, number, number] {
  let best = Infinity;
  let bx = 0;
  let by = 0;
  let bz = 0;
  for (let i = 0; i < vent.length; i += 3) {
    const dx = c[0] - vent[i];
    const dy = c[1] - vent[i + 1];
    const dz = c[2] - vent[i + 2];
    const d = dx * dx + dy * dy + dz * dz;
    if (d < best) {
      best = d;
      bx = dx;
      by = dy;
      bz = dz;
    }
  }
  if (!(best > 0 && best < Infinity)) {
    bx = c[0] - gridCentre[0];
    by = c[1] - gridCentre[1];
    bz = c[2] - gridCentre[2];
  }
  const len = Math.hypot(bx, by, bz);
  return len > 0 ? [bx / len, by / len, bz / len] : [0, 0, 1];
}

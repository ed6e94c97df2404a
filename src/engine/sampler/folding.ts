/**
 * Step 7b (MODEL_FORMAT.md §3): individual cortical folding — stochastic sulci.
 *
 * The template is a 20-subject average with a thick, smooth cortex. Each seed opens its own
 * sulci: thin CSF sheets running in from the brain's surface, lined by grey matter, along the
 * zero set of a random-wave field on the sphere of directions around `calibration.gridCentreMm`.
 * The same numbers as `brainsynth/folding.py` (float64 table from the seed's own mulberry32
 * stream, the same cube map and bilinear lookup), so 2 mm labels agree voxel for voxel with the
 * teacher. Hand-written: no library generates sulcal patterns on a label map.
 */
import type { Model } from '../model/loadModel';
import type { ModelManifest } from '../model/manifest';
import { mulberry32 } from '../rng';

/** The manifest's `folding` parameters (type generated from manifest.schema.json). */
export type FoldingParams = NonNullable<ModelManifest['folding']>;

/** Cortex this close (mm, along an axis) to CSF or outside stays cortex (brainsynth.folding). */
const CROWN_NEIGHBOUR_MM = 2;

/** Label values: cerebral WM → cortex of the same side, cortex, CSF. */
const WM_LEFT = 2;
const WM_RIGHT = 41;
const CTX_LEFT = 3;
const CTX_RIGHT = 42;
const CSF = 24;

export function foldingStreamSeed(seed: number): number {
  return (seed ^ 0x85ebca6b) >>> 0;
}

function waveNumber(p: FoldingParams): number {
  return (2 * Math.PI * p.radiusMm) / p.wavelengthMm;
}

/** F on the cube map: [6 faces][(N+1)²], node (i, j) at index i·(N+1) + j (brainsynth.folding.cube_table). */
export function cubeTable(seed: number, p: FoldingParams): Float64Array {
  const n = p.tableSize;
  const W = p.waves;
  const rng = mulberry32(foldingStreamSeed(seed));
  const wx = new Float64Array(W);
  const wy = new Float64Array(W);
  const wz = new Float64Array(W);
  const phase = new Float64Array(W);
  for (let j = 0; j < W; j++) {
    const cz = 2 * rng() - 1;
    const az = 2 * Math.PI * rng();
    phase[j] = 2 * Math.PI * rng();
    const s = Math.sqrt(Math.max(1 - cz * cz, 0));
    wx[j] = s * Math.cos(az);
    wy[j] = s * Math.sin(az);
    wz[j] = cz;
  }
  const k = waveNumber(p);
  const norm = Math.sqrt(2 / W);
  const m = n + 1;
  const out = new Float64Array(6 * m * m);
  const e = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const b = a === 0 ? 1 : 0;
    const c = a === 2 ? 1 : 2;
    for (let si = 0; si < 2; si++) {
      const face = 2 * a + si;
      for (let i = 0; i <= n; i++) {
        for (let jj = 0; jj <= n; jj++) {
          e[a] = si === 0 ? 1 : -1;
          e[b] = -1 + (2 * i) / n;
          e[c] = -1 + (2 * jj) / n;
          const len = Math.sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2]);
          const d0 = e[0] / len;
          const d1 = e[1] / len;
          const d2 = e[2] / len;
          let acc = 0;
          for (let j = 0; j < W; j++) {
            const dot = d0 * wx[j] + d1 * wy[j] + d2 * wz[j];
            acc += Math.cos(k * dot + phase[j]);
          }
          out[face * m * m + i * m + jj] = acc * norm;
        }
      }
    }
  }
  return out;
}

/** Distance (mm) to the nearest sulcal sheet for the offset r = x − C. */
export function sheetDistance(
  table: Float64Array,
  rx: number,
  ry: number,
  rz: number,
  p: FoldingParams,
): number {
  const n = p.tableSize;
  const m = n + 1;
  const ax = Math.abs(rx);
  const ay = Math.abs(ry);
  const az = Math.abs(rz);
  let a = 0;
  let big = ax;
  if (ay > big) {
    a = 1;
    big = ay;
  }
  if (az > big) {
    a = 2;
    big = az;
  }
  const r = [rx, ry, rz];
  const mm = big > 0 ? big : 1;
  const face = 2 * a + (r[a] < 0 ? 1 : 0);
  const u = r[a === 0 ? 1 : 0] / mm;
  const v = r[a === 2 ? 1 : 2] / mm;
  const fi = (u + 1) * 0.5 * n;
  const fj = (v + 1) * 0.5 * n;
  const i0 = Math.min(Math.max(Math.floor(fi), 0), n - 1);
  const j0 = Math.min(Math.max(Math.floor(fj), 0), n - 1);
  const ti = fi - i0;
  const tj = fj - j0;
  const base = face * m * m;
  const f =
    table[base + i0 * m + j0] * (1 - ti) * (1 - tj) +
    table[base + (i0 + 1) * m + j0] * ti * (1 - tj) +
    table[base + i0 * m + j0 + 1] * (1 - ti) * tj +
    table[base + (i0 + 1) * m + j0 + 1] * ti * tj;
  const radius = Math.sqrt(rx * rx + ry * ry + rz * rz);
  return (Math.abs(f) * radius) / (Math.sqrt(2 / 3) * waveNumber(p));
}

/**
 * What folding keeps per seed: the cube-map table and the sheet distance d per output voxel
 * (float64, NaN until first needed). d depends only on the seed, the folding parameters and the
 * output grid (voxel position − gridCentreMm), not on the conditions, so a kept subject whose
 * age or sex changed reuses every distance it already computed (most of the cortex).
 */
interface FoldingEntry {
  key: string;
  table: Float64Array;
  distance: Float64Array | null;
}

/** Seeds kept per model (the last two: the shown subject and the prefetched next one). */
export const FOLDING_CACHE_SEEDS = 2;

const foldingCaches = new WeakMap<Model, FoldingEntry[]>();

function entryFor(model: Model, seed: number, p: FoldingParams): FoldingEntry {
  const key = `${seed}:${JSON.stringify(p)}`;
  let list = foldingCaches.get(model);
  if (!list) foldingCaches.set(model, (list = []));
  const at = list.findIndex((e) => e.key === key);
  if (at >= 0) {
    const [hit] = list.splice(at, 1);
    list.unshift(hit);
    return hit;
  }
  const entry: FoldingEntry = { key, table: cubeTable(seed, p), distance: null };
  list.unshift(entry);
  list.length = Math.min(list.length, FOLDING_CACHE_SEEDS);
  return entry;
}

/** Whether `seed`'s table is cached for `model` (no LRU change). */
export function hasFoldingTable(model: Model, seed: number): boolean {
  const p = model.manifest.folding;
  if (!p) return true;
  const key = `${seed}:${JSON.stringify(p)}`;
  return (foldingCaches.get(model) ?? []).some((e) => e.key === key);
}

/**
 * Add a table computed elsewhere (the seed helper worker: `cubeTable(seed, p)`) for `model`'s
 * folding parameters `p`; a seed already cached keeps its entry.
 */
export function insertFoldingTable(
  model: Model,
  seed: number,
  p: FoldingParams,
  table: Float64Array,
): void {
  if (JSON.stringify(p) !== JSON.stringify(model.manifest.folding)) return;
  if (table.length !== 6 * (p.tableSize + 1) ** 2) throw new Error('insertFoldingTable: size');
  const key = `${seed}:${JSON.stringify(p)}`;
  let list = foldingCaches.get(model);
  if (!list) foldingCaches.set(model, (list = []));
  if (list.some((e) => e.key === key)) return;
  list.unshift({ key, table, distance: null });
  list.length = Math.min(list.length, FOLDING_CACHE_SEEDS);
}

/** Drop the folding cache of `model` (tests; a model's cache also goes with the model). */
export function clearFoldingCache(model: Model): void {
  foldingCaches.delete(model);
}

/** Seeds with a folding cache entry for `model`, most recent first (tests). */
export function cachedFoldingSeeds(model: Model): number[] {
  return (foldingCaches.get(model) ?? []).map((e) => Number(e.key.split(':')[0]));
}

/** The pre-folding labels of the gyral-core test: a copy reused across calls (never escapes). */
let beforeScratch: Int32Array | null = null;

function scratchCopy(labels: Int32Array): Int32Array {
  if (!beforeScratch || beforeScratch.length !== labels.length)
    beforeScratch = new Int32Array(labels.length);
  beforeScratch.set(labels);
  return beforeScratch;
}

/** Whether the model folds (manifest `folding` and `arrays.corticalDepth`). */
export function hasFolding(model: Model): boolean {
  return Boolean(model.manifest.folding && model.arrays.corticalDepth);
}

/**
 * Step 7b on label *indices* (edited in place) of the output grid, with each voxel's nearest
 * template voxel (`templateIndex`; out of bounds = −1 or ≥ count → depth 0). Returns the
 * sulcal CSF fraction per voxel for the image (0 where the final label is not cortex).
 */
export function applyFolding(
  model: Model,
  labels: Int32Array,
  templateIndex: Int32Array,
  seed: number,
  options: { cache?: boolean } = {},
): Float32Array {
  const p = model.manifest.folding;
  const depth = model.arrays.corticalDepth;
  const g = model.grid;
  const frac = new Float32Array(g.count);
  if (!p || !depth) return frac;
  const t = model.labels;
  const idx = (v: number) => t.indexOfValue.get(v) ?? -1;
  const wmL = idx(WM_LEFT);
  const wmR = idx(WM_RIGHT);
  const ctxL = idx(CTX_LEFT);
  const ctxR = idx(CTX_RIGHT);
  const csf = idx(CSF);
  if (csf < 0 || ctxL < 0 || ctxR < 0 || wmL < 0 || wmR < 0) return frac;
  const useCache = options.cache !== false;
  const entry = useCache ? entryFor(model, seed, p) : null;
  const table = entry ? entry.table : cubeTable(seed, p);
  let dist: Float64Array | null = null;
  if (entry) {
    if (!entry.distance || entry.distance.length !== g.count) {
      entry.distance = new Float64Array(g.count).fill(NaN);
    }
    dist = entry.distance;
  }
  // sheetDistance inlined (same float64 operations, same order)
  const tn = p.tableSize;
  const tm = tn + 1;
  const tmm = tm * tm;
  const denom = Math.sqrt(2 / 3) * waveNumber(p);
  const h = p.sulcalHalfWidthMm;
  const lin = p.liningMm;
  const deep = p.sulcalDepthMm;
  const [cx, cy, cz] = model.manifest.calibration.gridCentreMm;
  const [nx, ny, nz] = g.shape;
  const [sx, sy, sz] = g.spacing;
  const [ox, oy, oz] = g.origin;
  const spacing = sx;
  const tcount = depth.length;
  const crown = p.crownMm;
  // labels before folding, for the "near CSF or outside" test of the gyral-core rule
  const before = crown === undefined ? labels : scratchCopy(labels);
  const radius = Math.max(1, Math.round(CROWN_NEIGHBOUR_MM / spacing));
  // one axis of the gyral-core test: CSF or outside within `radius` voxels along it
  const openAlong = (k: number, n: number, stride: number, at: number): boolean => {
    for (let r = 1; r <= radius; r++) {
      if (k - r < 0 || k + r >= n) return true;
      const a = before[at - r * stride];
      const b = before[at + r * stride];
      if (a === 0 || a === csf || b === 0 || b === csf) return true;
    }
    return false;
  };
  const plane = nx * ny;
  const open = (kx: number, ky: number, kz: number, at: number): boolean =>
    openAlong(kx, nx, 1, at) || openAlong(ky, ny, nx, at) || openAlong(kz, nz, plane, at);
  let i = 0;
  for (let kz = 0; kz < nz; kz++) {
    const rz = Math.fround(kz * sz + oz) - cz;
    const azAbs = Math.abs(rz);
    for (let ky = 0; ky < ny; ky++) {
      const ry = Math.fround(ky * sy + oy) - cy;
      const ayAbs = Math.abs(ry);
      for (let kx = 0; kx < nx; kx++, i++) {
        const l = labels[i];
        const isCtx = l === ctxL || l === ctxR;
        const isWm = l === wmL || l === wmR;
        if (!isCtx && !isWm) continue;
        const ti = templateIndex[i];
        const dep = ti >= 0 && ti < tcount ? depth[ti] : 0;
        if (!(dep < deep + lin)) continue;
        let d = dist ? dist[i] : NaN;
        if (d !== d) {
          const rx = Math.fround(kx * sx + ox) - cx;
          const ax = Math.abs(rx);
          let a = 0;
          let big = ax;
          if (ayAbs > big) {
            a = 1;
            big = ayAbs;
          }
          if (azAbs > big) {
            a = 2;
            big = azAbs;
          }
          const mm = big > 0 ? big : 1;
          let face: number;
          let u: number;
          let v: number;
          if (a === 0) {
            face = rx < 0 ? 1 : 0;
            u = ry / mm;
            v = rz / mm;
          } else if (a === 1) {
            face = ry < 0 ? 3 : 2;
            u = rx / mm;
            v = rz / mm;
          } else {
            face = rz < 0 ? 5 : 4;
            u = rx / mm;
            v = ry / mm;
          }
          const fi = (u + 1) * 0.5 * tn;
          const fj = (v + 1) * 0.5 * tn;
          const i0 = Math.min(Math.max(Math.floor(fi), 0), tn - 1);
          const j0 = Math.min(Math.max(Math.floor(fj), 0), tn - 1);
          const ti0 = fi - i0;
          const tj = fj - j0;
          const base = face * tmm + i0 * tm + j0;
          const fv =
            table[base] * (1 - ti0) * (1 - tj) +
            table[base + tm] * ti0 * (1 - tj) +
            table[base + 1] * (1 - ti0) * tj +
            table[base + tm + 1] * ti0 * tj;
          const radius = Math.sqrt(rx * rx + ry * ry + rz * rz);
          d = (Math.abs(fv) * radius) / denom;
          if (dist) dist[i] = d;
        }
        let out = l;
        if (d < h && (isCtx || dep < deep)) out = csf;
        else if (isWm && d < h + lin) out = l === wmR ? ctxR : ctxL;
        else if (
          isCtx &&
          crown !== undefined &&
          d >= h + lin &&
          dep >= crown &&
          !open(kx, ky, kz, i)
        )
          out = l === ctxR ? wmR : wmL;
        labels[i] = out;
        if (out === ctxL || out === ctxR) {
          const pv = (h + 0.5 * spacing - d) / spacing;
          frac[i] = pv <= 0 ? 0 : pv >= 1 ? 1 : pv;
        }
      }
    }
  }
  return frac;
}

/** After the pathology drew: a lesion over folded cortex is no longer cortex (no sulcal PV). */
export function clearNonCortex(model: Model, labels: Int32Array, frac: Float32Array): void {
  const ctxL = model.labels.indexOfValue.get(CTX_LEFT);
  const ctxR = model.labels.indexOfValue.get(CTX_RIGHT);
  for (let i = 0; i < labels.length; i++) {
    if (frac[i] !== 0 && labels[i] !== ctxL && labels[i] !== ctxR) frac[i] = 0;
  }
}

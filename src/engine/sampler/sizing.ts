/**
 * Step 7c (MODEL_FORMAT.md §3): label-level sizing of the small structures (hippocampus,
 * amygdala, 3rd/4th ventricles, temporal horns) for age, sex and Alzheimer's disease, of the
 * cerebral WM and cortex, and of the head's layers (skull and scalp thickness, model ≥ 1.12.0),
 * on the label map, after the folding (7b).
 *
 * The 6 mm regional basis cannot steer these structures reliably for random individuals, so
 * their size is set directly. Per structure of the manifest's `sizing` (in order), f = its
 * factor row for the sex, linear in age, times adFactor^adSeverity under Alzheimer's disease
 * (when it has one); per label of the structure (in order): n = its voxels, target
 * m = floor(n·f + ½); the interface with its partner labels moves one 6-neighbour layer at a
 * time — grow: partner voxels next to it become it; shrink: its voxels next to a partner take
 * the label of their first partner neighbour in the order −x, +x, −y, +y, −z, +z; a partial
 * last layer takes its first (grow) or last (shrink) voxels in flat order (x fastest), so ageing
 * stays coherent from year to year; an empty layer ends it. A structure with
 * `partialLayer: 'smooth'` (cerebral WM, cortex: interfaces that span the brain) moves the
 * voxels of a partial layer with the most 6-neighbours of the growing label (shrink: of a
 * partner) first, ties by the lowest `priority` (a fixed hash of the flat index): pockets fill
 * and protrusions go first, so the interface gets smoother, the part-layer is spread over it, and
 * the same voxels still come first from year to year. A structure with `individualLogSd` s also
 * gets exp(s·z), z its size latent (`latent` j of the individual's size latents, latents.ts:
 * 0 the ventricles', 1 the skull's thickness, 2 the scalp's). The same rule as
 * `brainsynth/sizing.py`, so labels agree voxel for voxel with the teacher. A manifest of
 * software 0.4.0 (`horns` only) is read as one structure: the temporal horns against each
 * side's cerebral white matter.
 */
import type { Conditions } from '../generated/conditions';
import type { Model } from '../model/loadModel';
import type { ModelManifest } from '../model/manifest';
import { interpAge } from './latents';

/** The manifest's `sizing` parameters (type generated from manifest.schema.json). */
export type SizingParams = NonNullable<ModelManifest['sizing']>;
export type SizedStructure = SizingParams['structures'][number];

/** The legacy `horns` block's structure: [horn, cerebral WM] per side (FreeSurfer). */
const HORN_LABELS = [
  { value: 5, partners: [2] },
  { value: 44, partners: [41] },
];

/** `sizing`, or the legacy `horns` (software 0.4.0) as one structure; undefined: no step 7c. */
export function sizingParams(manifest: ModelManifest): SizingParams | undefined {
  if (manifest.sizing) return manifest.sizing;
  const h = manifest.horns;
  if (!h) return undefined;
  return {
    ages: h.ages,
    structures: [
      {
        region: 'inf-lat-ventricles',
        labels: HORN_LABELS.map((x) => ({ value: x.value, partners: [...x.partners] })),
        factor: h.factor,
        adFactor: h.adFactor,
      },
    ],
  };
}

export function hasSizing(model: Model): boolean {
  return sizingParams(model.manifest) !== undefined;
}

/**
 * f(age, sex)·adFactor^severity (adFactor only under Alzheimer's disease, when given)
 * ·exp(individualLogSd(age, sex)·z) (only for a structure with individualLogSd; z = its size
 * latent, `latentOf`).
 */
export function structureFactor(
  p: SizingParams,
  s: SizedStructure,
  c: Conditions,
  zSizes: ArrayLike<number> | number = 0,
): number {
  const zSize = latentOf(s, zSizes);
  const table = s.factor[c.sex].map((v) => [v]);
  let f = interpAge(p.ages, table, c.age)[0];
  if (s.adFactor !== undefined && c.pathology === 'alzheimers')
    f *= Math.pow(s.adFactor, c.adSeverity ?? 0);
  if (s.individualLogSd !== undefined && zSize !== 0) {
    const sd = interpAge(
      p.ages,
      s.individualLogSd[c.sex].map((v) => [v]),
      c.age,
    )[0];
    f *= Math.exp(sd * zSize);
  }
  return f;
}

/**
 * The structure's size latent (`latent`, default 0) out of the individual's size latents
 * (latents.ts `sizeLatents`); a single number is latent 0, latents beyond the list read 0.
 */
export function latentOf(s: SizedStructure, zSizes: ArrayLike<number> | number): number {
  const j = s.latent ?? 0;
  if (typeof zSizes === 'number') return j === 0 ? zSizes : 0;
  return j < zSizes.length ? zSizes[j] : 0;
}

/** What step 7c did: per structure (region) its factor and, per label value, the counts. */
export type SizingReport = Record<
  string,
  { factor: number; labels: Record<string, { before: number; target: number; after: number }> }
>;

/**
 * The smooth order's tie-break priority of a flat grid index: an integer hash (xor-shift / multiply
 * rounds; a bijection of uint32, so no ties) that decorrelates neighbouring voxels. The same
 * arithmetic as `brainsynth.sizing.priority`.
 */
export function priority(i: number): number {
  let x = i >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * Positions in `layer` of its first k entries (k < layer.length) in the smooth order: most
 * neighbours first (`nb[j]`: the count of layer entry j), then lowest priority.
 */
function smoothFirst(layer: ArrayLike<number>, k: number, nb: Uint8Array): Uint32Array {
  // bucket by neighbour count (most first), then by priority: within a bucket each entry is
  // priority·2^21 + position, exact in float64 (priority < 2^32, position < 2^21) and sorted
  // by the typed array's native numeric sort (no comparator callback: the sizing step's hot
  // spot). Priorities are distinct (a bijection), so the order is that of the rule.
  if (layer.length >= 2 ** 21) throw new Error('smoothFirst: layer too large');
  const sizes = new Int32Array(7);
  for (const c of nb) sizes[c]++;
  const out = new Uint32Array(k);
  let at = 0;
  for (let c = 6; c >= 0 && at < k; c--) {
    if (sizes[c] === 0) continue;
    const packed = new Float64Array(sizes[c]);
    let n = 0;
    for (let j = 0; j < layer.length; j++)
      if (nb[j] === c) packed[n++] = priority(layer[j]) * 2097152 + j;
    packed.sort();
    for (let q = 0; q < n && at < k; q++) out[at++] = packed[q] % 2097152;
  }
  return out;
}

let marks: Uint8Array | undefined;

/** A zeroed byte per voxel, reused between calls (each use leaves it zeroed again). */
function markBuffer(n: number): Uint8Array {
  if (!marks || marks.length < n) marks = new Uint8Array(n);
  return marks;
}

/** Grow the box at `box[b..b+6]` ([x0, y0, z0, x1, y1, z1]) to include voxel (x, y, z). */
function include(box: Int32Array, b: number, x: number, y: number, z: number): void {
  if (x < box[b]) box[b] = x;
  if (x > box[b + 3]) box[b + 3] = x;
  if (y < box[b + 1]) box[b + 1] = y;
  if (y > box[b + 4]) box[b + 4] = y;
  if (z < box[b + 2]) box[b + 2] = z;
  if (z > box[b + 5]) box[b + 5] = z;
}

/**
 * Voxel count and bounding box [x0, y0, z0, x1, y1, z1] of every label index, from one scan of
 * the label map, kept up to date as step 7c moves voxels (`move`). A box only grows: after a
 * shrink it may be larger than its label, which costs a little scanning and changes nothing
 * (the first layer is looked for inside it, in increasing flat index either way).
 */
class LabelStats {
  readonly count: Int32Array;
  readonly box: Int32Array;
  constructor(
    labels: Int32Array,
    private readonly shape: readonly [number, number, number],
    nLabels: number,
  ) {
    const [nx, ny, nz] = shape;
    const count = new Int32Array(nLabels);
    const box = new Int32Array(6 * nLabels);
    for (let l = 0; l < nLabels; l++) box.set([nx, ny, nz, -1, -1, -1], 6 * l);
    // by runs of one label along x: a run's two ends bound it in x, and y, z are the row's
    for (let z = 0, i = 0; z < nz; z++) {
      for (let y = 0; y < ny; y++, i += nx) {
        let x = 0;
        while (x < nx) {
          const l = labels[i + x];
          let e = x + 1;
          while (e < nx && labels[i + e] === l) e++;
          count[l] += e - x;
          include(box, 6 * l, x, y, z);
          include(box, 6 * l, e - 1, y, z);
          x = e;
        }
      }
    }
    this.count = count;
    this.box = box;
  }

  /** Voxel `i` changed from label index `from` to `to`. */
  move(i: number, from: number, to: number): void {
    const nx = this.shape[0];
    const ny = this.shape[1];
    this.count[from]--;
    this.count[to]++;
    const x = i % nx;
    const y = Math.floor(i / nx) % ny;
    const z = Math.floor(i / (nx * ny));
    include(this.box, 6 * to, x, y, z);
  }
}

/**
 * Grow or shrink label index `label` of `labels` (x fastest, in place) against the partner
 * label indices (`isPartner[index]`) until it has m voxels or no layer is left. `stats` holds
 * every label's voxel count and bounding box (kept up to date here); `smooth`: a partial
 * layer by priority (else flat order). Returns the final count.
 *
 * The first layer comes from a scan of the box (grown by one voxel to grow); each later one from
 * the 6-neighbours of the layer before, which was taken whole: a partner voxel next to the grown
 * structure touches a voxel of that layer (one next to the structure before would have been in
 * it), and a structure voxel next to a partner after a shrink touches one the layer turned into
 * a partner. So the layers are those of the rule (MODEL_FORMAT.md §3, 7c), without rescanning.
 */
function resizeLabel(
  labels: Int32Array,
  shape: readonly [number, number, number],
  label: number,
  isPartner: Uint8Array,
  m: number,
  stats: LabelStats,
  smooth = false,
): number {
  const [nx, ny, nz] = shape;
  const sy = nx;
  const sz = nx * ny;
  let count = stats.count[label];
  if (count === m || count === 0) return count;
  const grow = m > count;
  const [x0, y0, z0, x1, y1, z1] = stats.box.subarray(6 * label, 6 * label + 6);
  const mark = markBuffer(nx * ny * nz);
  // shrink: a voxel's target, the first partner neighbour in the order -x, +x, -y, +y, -z, +z
  // (labels as before the layer), or -1
  const target = (i: number): number => {
    const x = i % nx;
    const y = Math.floor(i / nx) % ny;
    const z = Math.floor(i / sz);
    if (x > 0 && isPartner[labels[i - 1]]) return labels[i - 1];
    if (x < nx - 1 && isPartner[labels[i + 1]]) return labels[i + 1];
    if (y > 0 && isPartner[labels[i - sy]]) return labels[i - sy];
    if (y < ny - 1 && isPartner[labels[i + sy]]) return labels[i + sy];
    if (z > 0 && isPartner[labels[i - sz]]) return labels[i - sz];
    if (z < nz - 1 && isPartner[labels[i + sz]]) return labels[i + sz];
    return -1;
  };
  // The 6-neighbours of `from` that can be in the next layer — grow: partner voxels (each is
  // next to a voxel of the label: in the layer); shrink: voxels of the label (each is next to a
  // voxel that became a partner: in the layer) — once each, in increasing flat index. Marked in
  // a reusable byte per voxel (unmarked after); closures per neighbour and a Set were the hot
  // spots for the head's whole-head layers.
  const neighboursIn = (from: ArrayLike<number>): Int32Array => {
    const cand = new Int32Array(6 * from.length);
    let nc = 0;
    const want = grow ? isPartner : undefined;
    for (let q = 0; q < from.length; q++) {
      const i = from[q];
      const x = i % nx;
      const y = Math.floor(i / nx) % ny;
      const z = Math.floor(i / sz);
      for (let d = 0; d < 6; d++) {
        let j: number;
        if (d === 0) {
          if (x === 0) continue;
          j = i - 1;
        } else if (d === 1) {
          if (x === nx - 1) continue;
          j = i + 1;
        } else if (d === 2) {
          if (y === 0) continue;
          j = i - sy;
        } else if (d === 3) {
          if (y === ny - 1) continue;
          j = i + sy;
        } else if (d === 4) {
          if (z === 0) continue;
          j = i - sz;
        } else {
          if (z === nz - 1) continue;
          j = i + sz;
        }
        if (mark[j] !== 0) continue;
        if (want ? want[labels[j]] !== 1 : labels[j] !== label) continue;
        mark[j] = 1;
        cand[nc++] = j;
      }
    }
    const sorted = cand.subarray(0, nc).sort();
    for (let q = 0; q < nc; q++) mark[sorted[q]] = 0;
    return sorted;
  };
  let layer: Int32Array;
  let targets = new Int32Array(0);
  // The first layer. Shrink: the label's voxels next to a partner, in flat order (every voxel
  // of the label lies in its box, so the native indexOf over the box's flat range finds exactly
  // them). Grow: the partner voxels next to the label, as the label's neighbours (the same
  // voxels in the same order as scanning the box grown by one; the head's partner, its soft
  // tissue, fills most of the head's box).
  const own: number[] = [];
  const last = x1 + nx * (y1 + ny * z1);
  let at = labels.indexOf(label, x0 + nx * (y0 + ny * z0));
  while (at !== -1 && at <= last) {
    own.push(at);
    at = labels.indexOf(label, at + 1);
  }
  if (grow) layer = neighboursIn(own);
  else {
    const l: number[] = [];
    const t: number[] = [];
    for (const i of own) {
      const to = target(i);
      if (to >= 0) {
        l.push(i);
        t.push(to);
      }
    }
    layer = Int32Array.from(l);
    targets = Int32Array.from(t);
  }
  while (layer.length > 0) {
    const take = Math.min(layer.length, Math.abs(m - count));
    const set = (j: number) => {
      const i = layer[j];
      const to = grow ? label : targets[j];
      stats.move(i, labels[i], to);
      labels[i] = to;
    };
    if (smooth && take < layer.length) {
      // grow: neighbours labelled `label`; shrink: neighbours labelled a partner (one flag per
      // label index, tested inline)
      const hitOf = new Uint8Array(isPartner.length > label ? isPartner.length : label + 1);
      if (grow) hitOf[label] = 1;
      else hitOf.set(isPartner);
      const nb = new Uint8Array(layer.length);
      for (let j = 0; j < layer.length; j++) {
        const i = layer[j];
        const x = i % nx;
        const y = Math.floor(i / nx) % ny;
        const z = Math.floor(i / sz);
        nb[j] =
          (x > 0 ? hitOf[labels[i - 1]] : 0) +
          (x < nx - 1 ? hitOf[labels[i + 1]] : 0) +
          (y > 0 ? hitOf[labels[i - sy]] : 0) +
          (y < ny - 1 ? hitOf[labels[i + sy]] : 0) +
          (z > 0 ? hitOf[labels[i - sz]] : 0) +
          (z < nz - 1 ? hitOf[labels[i + sz]] : 0);
      }
      for (const j of smoothFirst(layer, take, nb)) set(j);
    } else if (grow) {
      for (let k = 0; k < take; k++) set(k);
    } else {
      for (let k = 0; k < take; k++) set(layer.length - 1 - k);
    }
    count += grow ? take : -take;
    if (count === m) break;
    // the next layer: among the 6-neighbours of this one (taken whole), in flat order
    layer = neighboursIn(layer);
    if (!grow) targets = layer.map(target);
  }
  return count;
}

/**
 * Step 7c on label *indices* (`labels`, x fastest), edited in place. Returns what was done.
 * A model without `sizing` (or the legacy `horns`) is left unchanged.
 */
export function applySizing(
  model: Model,
  labels: Int32Array,
  c: Conditions,
  zSizes: ArrayLike<number> | number = 0,
): SizingReport {
  const p = sizingParams(model.manifest);
  const out: SizingReport = {};
  if (!p) return out;
  const nLabels = model.labels.indexOfValue.size;
  const shape = model.grid.shape as [number, number, number];
  const stats = new LabelStats(labels, shape, nLabels);
  for (const s of p.structures) {
    const f = structureFactor(p, s, c, zSizes);
    const report: SizingReport[string] = { factor: f, labels: {} };
    for (const entry of s.labels) {
      const label = model.labels.indexOfValue.get(entry.value);
      if (label === undefined) continue;
      const isPartner = new Uint8Array(Math.max(nLabels, label + 1));
      for (const v of entry.partners) {
        const j = model.labels.indexOfValue.get(v);
        if (j !== undefined && j !== label) isPartner[j] = 1;
      }
      const n = stats.count[label];
      const m = Math.floor(n * f + 0.5);
      const smooth = s.partialLayer === 'smooth';
      const after = m === n ? n : resizeLabel(labels, shape, label, isPartner, m, stats, smooth);
      report.labels[String(entry.value)] = { before: n, target: m, after };
    }
    out[s.region] = report;
  }
  return out;
}

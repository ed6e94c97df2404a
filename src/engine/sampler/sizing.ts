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
import { groupMembers } from '../model/labelTable';
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
 * neighbours first (`nb[j]`: the count of layer entry j), then lowest priority. Returned as a
 * set (the order among them is not that of the rule; the caller moves each once, so the
 * result is the same): the buckets taken whole are not sorted, and in the one taken in part the
 * k-th lowest priority is found by the native numeric sort of the bucket's priorities (distinct:
 * a bijection), the hot spot of the sizing step before.
 */
function smoothFirst(layer: ArrayLike<number>, k: number, nb: Uint8Array): Uint32Array {
  const sizes = new Int32Array(7);
  for (let j = 0; j < nb.length; j++) sizes[nb[j]]++;
  const out = new Uint32Array(k);
  let at = 0;
  for (let c = 6; c >= 0 && at < k; c--) {
    if (sizes[c] === 0) continue;
    if (at + sizes[c] <= k) {
      for (let j = 0; j < layer.length; j++) if (nb[j] === c) out[at++] = j;
      continue;
    }
    const pri = new Uint32Array(sizes[c]);
    for (let j = 0, n = 0; j < layer.length; j++) if (nb[j] === c) pri[n++] = priority(layer[j]);
    const limit = pri.slice().sort()[k - at - 1];
    for (let j = 0, n = 0; j < layer.length; j++)
      if (nb[j] === c && pri[n++] <= limit) out[at++] = j;
  }
  return out;
}

let marks: Uint8Array | undefined;
let borders: { key: string; mask: Uint8Array } | undefined;

/** 1 for the voxels on the grid's faces (a neighbour is missing), 0 inside; cached per shape. */
function borderMask(shape: readonly [number, number, number]): Uint8Array {
  const key = shape.join('x');
  if (borders?.key === key) return borders.mask;
  const [nx, ny, nz] = shape;
  const mask = new Uint8Array(nx * ny * nz);
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++)
        if (x === 0 || y === 0 || z === 0 || x === nx - 1 || y === ny - 1 || z === nz - 1)
          mask[i] = 1;
  borders = { key, mask };
  return mask;
}

/** A zeroed byte per voxel, reused between calls (each use leaves it zeroed again). */
function markBuffer(n: number): Uint8Array {
  if (!marks || marks.length < n) marks = new Uint8Array(n);
  return marks;
}

/**
 * Voxel counts and voxels (in flat order) of the labels that step 7c sizes, from one pass over
 * the label map, kept up to date as step 7c moves voxels (`move`). A sized label's list is its
 * voxels at the start, less those that left it, plus those that came in (`added`, merged in
 * flat order when the list is next asked for), so finding a label's voxels costs its size rather
 * than a scan of its extent. (Scanning each label's extent, by a bounding box from a run scan or
 * by the native indexOf, and a histogram of every label cost more than the sizing itself for
 * most structures.) The counts of labels that are not sized are not kept (`count` holds
 * nothing meaningful for them).
 */
class LabelStats {
  readonly count: Int32Array;
  private readonly lists: (Int32Array | undefined)[];
  private readonly added: (number[] | undefined)[];
  constructor(
    private readonly labels: Int32Array,
    nLabels: number,
    sized: readonly number[],
  ) {
    // each sized label a group (1-based): its voxels in flat order, from one pass
    const groupOf = new Uint8Array(nLabels);
    const order: number[] = [];
    for (const l of sized) if (groupOf[l] === 0) groupOf[l] = order.push(l);
    const members = groupMembers(labels, groupOf, order.length);
    this.count = new Int32Array(nLabels);
    this.lists = new Array<Int32Array | undefined>(nLabels);
    this.added = new Array<number[] | undefined>(nLabels);
    order.forEach((l, g) => {
      this.lists[l] = members[g];
      this.count[l] = members[g].length;
      this.added[l] = [];
    });
  }

  /** The voxels of sized label `label` now, in increasing flat index. */
  voxels(label: number): Int32Array {
    const list = this.lists[label];
    const added = this.added[label];
    if (!list || !added) throw new Error(`step 7c: label index ${label} is not sized`);
    const labels = this.labels;
    // the list less the voxels that left (each voxel once, in order)
    const kept = new Int32Array(this.count[label]);
    let n = 0;
    for (let q = 0; q < list.length; q++) if (labels[list[q]] === label) kept[n++] = list[q];
    if (added.length > 0) {
      // the voxels that came in and are still here, once each (a voxel that left and came back
      // is in both lists), merged in flat order
      const inc = Int32Array.from(added.filter((i) => labels[i] === label)).sort();
      const merged = new Int32Array(this.count[label]);
      let a = 0;
      let b = 0;
      let m = 0;
      let prev = -1;
      while (a < n || b < inc.length) {
        const v = b >= inc.length || (a < n && kept[a] <= inc[b]) ? kept[a++] : inc[b++];
        if (v !== prev) merged[m++] = v;
        prev = v;
      }
      added.length = 0;
      this.lists[label] = merged.subarray(0, m);
      return this.lists[label];
    }
    this.lists[label] = kept.subarray(0, n);
    return this.lists[label];
  }

  /** Voxel `i` changed from label index `from` to `to`. */
  move(i: number, from: number, to: number): void {
    this.count[from]--;
    this.count[to]++;
    this.added[to]?.push(i);
  }
}

let candidates = new Int32Array(0);

/**
 * The 6-neighbours of `from` whose label index is flagged in `wanted`, once each, in increasing
 * flat index — the next layer (grow: partner voxels, each next to a voxel of the label, so in
 * the layer; shrink: voxels of the label, each next to a voxel that became a partner). Marked in
 * `mark` (a zeroed byte per voxel, zeroed again after). A module-level function with the six
 * neighbours written out and a reused candidate buffer: closures per voxel, a Set and captured
 * counters were the hot spots of the head's whole-head layers.
 */
function neighbourLayer(
  from: Int32Array,
  labels: Int32Array,
  wanted: Uint8Array,
  mark: Uint8Array,
  border: Uint8Array,
  shape: readonly [number, number, number],
): Int32Array {
  const [nx, ny, nz] = shape;
  const sy = nx;
  const sz = nx * ny;
  if (candidates.length < 6 * from.length) candidates = new Int32Array(6 * from.length);
  const cand = candidates;
  let nc = 0;
  for (let q = 0; q < from.length; q++) {
    const i = from[q];
    if (border[i] === 0) {
      // inside the grid: all six neighbours exist (no coordinates needed); written out, as a
      // loop over the six flat offsets measured ~10 % slower for the whole step (session 14)
      let j = i - 1;
      if (mark[j] === 0 && wanted[labels[j]] === 1) {
        mark[j] = 1;
        cand[nc++] = j;
      }
      j = i + 1;
      if (mark[j] === 0 && wanted[labels[j]] === 1) {
        mark[j] = 1;
        cand[nc++] = j;
      }
      j = i - sy;
      if (mark[j] === 0 && wanted[labels[j]] === 1) {
        mark[j] = 1;
        cand[nc++] = j;
      }
      j = i + sy;
      if (mark[j] === 0 && wanted[labels[j]] === 1) {
        mark[j] = 1;
        cand[nc++] = j;
      }
      j = i - sz;
      if (mark[j] === 0 && wanted[labels[j]] === 1) {
        mark[j] = 1;
        cand[nc++] = j;
      }
      j = i + sz;
      if (mark[j] === 0 && wanted[labels[j]] === 1) {
        mark[j] = 1;
        cand[nc++] = j;
      }
      continue;
    }
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
      if (mark[j] === 0 && wanted[labels[j]] === 1) {
        mark[j] = 1;
        cand[nc++] = j;
      }
    }
  }
  const sorted = cand.slice(0, nc).sort();
  for (let q = 0; q < nc; q++) mark[sorted[q]] = 0;
  return sorted;
}

/**
 * Grow or shrink label index `label` of `labels` (x fastest, in place) against the partner
 * label indices (`isPartner[index]`) until it has m voxels or no layer is left. `stats` holds
 * every label's voxel count and flat range (kept up to date here); `smooth`: a partial
 * layer by priority (else flat order). Returns the final count.
 *
 * The first layer comes from the label's own voxels (shrink: those next to a partner; grow: their
 * partner neighbours); each later one from
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
  const mark = markBuffer(nx * ny * nz);
  const border = borderMask(shape);
  // shrink: a voxel's target, the first partner neighbour in the order -x, +x, -y, +y, -z, +z
  // (labels as before the layer), or -1
  const target = (i: number): number => {
    if (border[i] === 0) {
      if (isPartner[labels[i - 1]]) return labels[i - 1];
      if (isPartner[labels[i + 1]]) return labels[i + 1];
      if (isPartner[labels[i - sy]]) return labels[i - sy];
      if (isPartner[labels[i + sy]]) return labels[i + sy];
      if (isPartner[labels[i - sz]]) return labels[i - sz];
      if (isPartner[labels[i + sz]]) return labels[i + sz];
      return -1;
    }
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
  // 1 for the label indices a candidate of the next layer may have: grow, a partner; shrink,
  // the label itself
  const wanted = new Uint8Array(Math.max(isPartner.length, label + 1));
  if (grow) wanted.set(isPartner);
  else wanted[label] = 1;
  const neighboursIn = (from: Int32Array): Int32Array =>
    neighbourLayer(from, labels, wanted, mark, border, shape);
  let layer: Int32Array;
  let targets = new Int32Array(0);
  // The first layer. Shrink: the label's voxels next to a partner, in flat order. Grow: the
  // partner voxels next to the label, as the label's neighbours, in flat order.
  const own = stats.voxels(label);
  if (grow) layer = neighboursIn(own);
  else {
    const l = new Int32Array(own.length);
    const t = new Int32Array(own.length);
    let k = 0;
    for (let q = 0; q < own.length; q++) {
      const to = target(own[q]);
      if (to >= 0) {
        l[k] = own[q];
        t[k++] = to;
      }
    }
    layer = l.subarray(0, k);
    targets = t.subarray(0, k);
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
        if (border[i] === 0) {
          nb[j] =
            hitOf[labels[i - 1]] +
            hitOf[labels[i + 1]] +
            hitOf[labels[i - sy]] +
            hitOf[labels[i + sy]] +
            hitOf[labels[i - sz]] +
            hitOf[labels[i + sz]];
          continue;
        }
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
  const sized: number[] = [];
  for (const s of p.structures)
    for (const entry of s.labels) {
      const label = model.labels.indexOfValue.get(entry.value);
      if (label !== undefined) sized.push(label);
    }
  const stats = new LabelStats(labels, nLabels, sized);
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

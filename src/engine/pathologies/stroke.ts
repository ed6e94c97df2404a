/**
 * Chronic stroke (MODEL_FORMAT.md §4), in plain JS on the downloaded label map (a best-first
 * growth over the territory's voxels; not tensor work). The Python teacher
 * (`brainsynth/pathologies/stroke.py`) draws the same voxels.
 *
 * The territory code of each output voxel is read from the `territories` atlas at its template
 * position t (nearest neighbour, the same mapping as the labels). Candidates: output voxels of
 * the territory whose label group is `cortex` or `wm` (n of them). Each candidate's score is
 *   s = q(t) + A·F(t),
 * q = `strokeLogFrequency` at t (40·ln((f + 0.01)/0.01), f the real strokes' relative lesion
 * frequency in the territory; 0 without the array), F a smooth random field in [-1, 1] on the
 * template grid (trilinear interpolation of a lattice every L template voxels whose node values,
 * x fastest, are rng() + rng() − 1 from mulberry32(strokeStreamSeed(seed))), A = fieldAmplitude,
 * L = fieldSpacingVoxels. All arithmetic is +, −, ×, / in float64 (no log or cos), so engine and
 * teacher give the same scores bit for bit.
 *
 * The lesion is grown best-first (highest score first, ties by the lower flat index) from the
 * best candidate through 6-neighbour candidates until it holds m = max(1, round(f·n)) voxels (a
 * new growth starts from the best remaining candidate if a connected piece runs out): an
 * irregular, connected, cortex-based shape of exactly m voxels, different for every seed.
 * Its voxels within rimMm of surviving brain tissue (6-neighbour steps, max(1, round(rimMm /
 * spacing)) of them) become gliosis (722), the rest the CSF-like cavity (721): the cavity opens
 * onto the sulcal CSF and ventricles, the gliotic rim lines the surviving brain.
 * Gains: the ex-vacuo enlargement of the lateral ventricles, g += exVacuoGain · strokeSize.
 */
import type { Model } from '../model/loadModel';
import { groupMask, PATHOLOGY_LABELS, requireLabelIndex } from '../model/labelTable';
import { mulberry32, strokeStreamSeed } from '../rng';
import type { StrokeSide, StrokeTerritory } from '../types';
import type { PathologyModule, PathologyPlan } from './types';

export interface StrokePlan extends PathologyPlan {
  pathology: 'stroke';
  territory: StrokeTerritory;
  side: StrokeSide;
  /** Fraction of the territory's cortex + white matter that becomes infarct (cavity + gliosis). */
  fraction: number;
  /** Seed of the random field that shapes this stroke (strokeStreamSeed of the sample seed). */
  fieldSeed: number;
}

export interface StrokeResult {
  territory: string;
  territoryCode: number;
  territoryTissueMl: number;
  /** Cavity + gliosis. */
  infarctMl: number;
  cavityMl: number;
  gliosisMl: number;
  /** Share of the lesion's voxels that were cortex. */
  cortexFraction: number;
  note?: string;
}

/** Shape parameters when the manifest does not give them (the pipeline writes them). */
export const STROKE_SHAPE_DEFAULTS = { fieldSpacingVoxels: 8, fieldAmplitude: 60, rimMm: 2 };

/** Brain tissue that survives around an infarct (its boundary with the lesion is gliosis). */
const TISSUE_GROUPS = [
  'cortex',
  'wm',
  'deep-gm',
  'hippocampus',
  'amygdala',
  'cerebellum-gm',
  'cerebellum-wm',
  'brainstem',
];

/** Territory code per output voxel (0 outside the atlas). */
export function territoryPerVoxel(model: Model, templateIndex: Int32Array): Uint8Array {
  const atlas = model.arrays.territories;
  if (!atlas)
    throw new Error(`Model ${model.manifest.id} has no territory atlas (arrays.territories)`);
  const n = model.grid.count;
  const out = new Uint8Array(n);
  for (let v = 0; v < n; v++) {
    const t = templateIndex[v];
    out[v] = t < n ? atlas[t] : 0;
  }
  return out;
}

/**
 * The stroke's smooth random field on the template grid `shape`: a function of the flat template
 * voxel index (x fastest). Lattice nodes every `spacing` voxels, floor((n − 1)/spacing) + 2 per
 * axis, values rng() + rng() − 1 (x fastest); trilinear interpolation as nested lerps.
 */
export function strokeField(
  shape: readonly number[],
  spacing: number,
  seed: number,
): (t: number) => number {
  const [nx, ny, nz] = shape;
  const gx = Math.floor((nx - 1) / spacing) + 2;
  const gy = Math.floor((ny - 1) / spacing) + 2;
  const gz = Math.floor((nz - 1) / spacing) + 2;
  const rng = mulberry32(seed);
  const lattice = new Float64Array(gx * gy * gz);
  for (let c = 0; c < lattice.length; c++) lattice[c] = rng() + rng() - 1;
  return (t: number) => {
    const i = t % nx;
    const j = Math.floor(t / nx) % ny;
    const k = Math.floor(t / (nx * ny));
    const li = Math.floor(i / spacing);
    const lj = Math.floor(j / spacing);
    const lk = Math.floor(k / spacing);
    const fx = (i - li * spacing) / spacing;
    const fy = (j - lj * spacing) / spacing;
    const fz = (k - lk * spacing) / spacing;
    const c = li + gx * (lj + gy * lk);
    const sy = gx;
    const sz = gx * gy;
    const c000 = lattice[c];
    const c100 = lattice[c + 1];
    const c010 = lattice[c + sy];
    const c110 = lattice[c + sy + 1];
    const c001 = lattice[c + sz];
    const c101 = lattice[c + sz + 1];
    const c011 = lattice[c + sz + sy];
    const c111 = lattice[c + sz + sy + 1];
    const a00 = c000 + (c100 - c000) * fx;
    const a10 = c010 + (c110 - c010) * fx;
    const a01 = c001 + (c101 - c001) * fx;
    const a11 = c011 + (c111 - c011) * fx;
    const b0 = a00 + (a10 - a00) * fy;
    const b1 = a01 + (a11 - a01) * fy;
    return b0 + (b1 - b0) * fz;
  };
}

/** A binary max-heap of candidates by (score desc, flat index asc), fixed capacity. */
class CandidateHeap {
  private readonly s: Float64Array;
  private readonly v: Int32Array;
  private readonly c: Int32Array;
  size = 0;
  constructor(capacity: number) {
    this.s = new Float64Array(capacity);
    this.v = new Int32Array(capacity);
    this.c = new Int32Array(capacity);
  }
  private before(a: number, b: number): boolean {
    return this.s[a] > this.s[b] || (this.s[a] === this.s[b] && this.v[a] < this.v[b]);
  }
  private swap(a: number, b: number): void {
    const s = this.s[a];
    this.s[a] = this.s[b];
    this.s[b] = s;
    const v = this.v[a];
    this.v[a] = this.v[b];
    this.v[b] = v;
    const c = this.c[a];
    this.c[a] = this.c[b];
    this.c[b] = c;
  }
  push(score: number, voxel: number, cand: number): void {
    let i = this.size++;
    this.s[i] = score;
    this.v[i] = voxel;
    this.c[i] = cand;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  /** Remove the top; returns its candidate number. */
  pop(): number {
    const top = this.c[0];
    this.size--;
    if (this.size > 0) {
      this.swap(0, this.size);
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let b = i;
        if (l < this.size && this.before(l, b)) b = l;
        if (r < this.size && this.before(r, b)) b = r;
        if (b === i) break;
        this.swap(i, b);
        i = b;
      }
    }
    return top;
  }
}

export function drawStroke(
  model: Model,
  labels: Int32Array,
  templateIndex: Int32Array,
  territory: string,
  side: string,
  fraction: number,
  fieldSeed: number,
): StrokeResult {
  const spec = model.manifest.pathology.stroke;
  if (!spec)
    throw new Error(`Model ${model.manifest.id} has no stroke parameters (pathology.stroke)`);
  const key = `${territory}-${side}`;
  const code = spec.territoryCodes[key];
  if (code === undefined) throw new Error(`Model ${model.manifest.id} has no territory '${key}'`);
  const infarct = requireLabelIndex(model.labels, PATHOLOGY_LABELS.infarct, 'chronic infarct');
  const gliosis = requireLabelIndex(model.labels, PATHOLOGY_LABELS.gliosis, 'gliosis');
  const L = spec.fieldSpacingVoxels ?? STROKE_SHAPE_DEFAULTS.fieldSpacingVoxels;
  const A = spec.fieldAmplitude ?? STROKE_SHAPE_DEFAULTS.fieldAmplitude;
  const rimMm = spec.rimMm ?? STROKE_SHAPE_DEFAULTS.rimMm;
  const codes = territoryPerVoxel(model, templateIndex);
  const tissue = groupMask(model.labels, 'cortex', 'wm');
  const isCortex = groupMask(model.labels, 'cortex');
  const survives = groupMask(model.labels, ...TISSUE_GROUPS);
  const logFrequency = model.arrays.strokeLogFrequency;
  const g = model.grid;
  const [nx, ny, nz] = g.shape;
  const field = strokeField(g.shape, L, fieldSeed);

  // Candidates in flat order, their scores, and each output voxel's candidate number.
  const candOf = new Int32Array(g.count).fill(-1);
  const voxels: number[] = [];
  const scores: number[] = [];
  for (let v = 0; v < g.count; v++) {
    if (codes[v] !== code || !tissue[labels[v]]) continue;
    const t = templateIndex[v];
    candOf[v] = voxels.length;
    voxels.push(v);
    scores.push((logFrequency ? logFrequency[t] : 0) + A * field(t));
  }
  const n = voxels.length;
  const result: StrokeResult = {
    territory: key,
    territoryCode: code,
    territoryTissueMl: n * g.voxelMl,
    infarctMl: 0,
    cavityMl: 0,
    gliosisMl: 0,
    cortexFraction: 0,
  };
  if (n === 0) {
    result.note = 'the territory holds no cortex or white matter in this anatomy: no infarct drawn';
    return result;
  }
  const m = Math.max(1, Math.round(fraction * n));
  // Restart order: candidates by (score desc, flat index asc).
  const order = Int32Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => scores[b] - scores[a] || voxels[a] - voxels[b],
  );
  const state = new Uint8Array(n); // 0 untouched, 1 queued, 2 in the lesion
  const heap = new CandidateHeap(n);
  const lesion: number[] = [];
  let next = 0;
  const offsets = [-1, 1, -nx, nx, -nx * ny, nx * ny];
  const neighbour = (v: number, d: number): number => {
    const i = v % nx;
    const j = Math.floor(v / nx) % ny;
    const k = Math.floor(v / (nx * ny));
    if ((d === 0 && i === 0) || (d === 1 && i === nx - 1)) return -1;
    if ((d === 2 && j === 0) || (d === 3 && j === ny - 1)) return -1;
    if ((d === 4 && k === 0) || (d === 5 && k === nz - 1)) return -1;
    return v + offsets[d];
  };
  while (lesion.length < m) {
    if (heap.size === 0) {
      while (state[order[next]] !== 0) next++;
      const c = order[next];
      state[c] = 1;
      heap.push(scores[c], voxels[c], c);
    }
    const c = heap.pop();
    state[c] = 2;
    const v = voxels[c];
    lesion.push(v);
    for (let d = 0; d < 6; d++) {
      const w = neighbour(v, d);
      if (w < 0) continue;
      const cw = candOf[w];
      if (cw >= 0 && state[cw] === 0) {
        state[cw] = 1;
        heap.push(scores[cw], w, cw);
      }
    }
  }

  // Gliosis: lesion voxels within `steps` 6-neighbour steps of surviving tissue.
  const inLesion = new Uint8Array(g.count);
  for (const v of lesion) inLesion[v] = 1;
  const rim = new Uint8Array(g.count);
  const steps = Math.max(1, Math.round(rimMm / g.spacing[0]));
  for (let s = 1; s <= steps; s++) {
    const added: number[] = [];
    for (const v of lesion) {
      if (rim[v]) continue;
      for (let d = 0; d < 6; d++) {
        const w = neighbour(v, d);
        if (w < 0) continue;
        const hit = s === 1 ? !inLesion[w] && survives[labels[w]] === 1 : rim[w] === s - 1;
        if (hit) {
          added.push(v);
          break;
        }
      }
    }
    for (const v of added) rim[v] = s;
  }
  let cortex = 0;
  let rimCount = 0;
  for (const v of lesion) {
    if (isCortex[labels[v]]) cortex++;
    if (rim[v]) rimCount++;
  }
  for (const v of lesion) labels[v] = rim[v] ? gliosis : infarct;
  result.infarctMl = lesion.length * g.voxelMl;
  result.gliosisMl = rimCount * g.voxelMl;
  result.cavityMl = (lesion.length - rimCount) * g.voxelMl;
  result.cortexFraction = cortex / lesion.length;
  return result;
}

export const stroke: PathologyModule<StrokePlan> = {
  id: 'stroke',
  labels: [PATHOLOGY_LABELS.infarct, PATHOLOGY_LABELS.gliosis],
  manifestProblems(m) {
    if (!m.pathology.stroke) return [];
    const p: string[] = [];
    if (!m.arrays.territories) p.push('pathology.stroke needs arrays.territories');
    for (const value of [PATHOLOGY_LABELS.infarct, PATHOLOGY_LABELS.gliosis]) {
      if (!m.labels.some((l) => l.value === value))
        p.push(`pathology.stroke needs label ${value} in labels`);
    }
    return p;
  },
  gains(manifest, c, g) {
    const spec = manifest.pathology.stroke;
    if (!spec) throw new Error(`Model ${manifest.id} has no stroke parameters (pathology.stroke)`);
    const r = manifest.regions.findIndex((reg) => reg.name === 'lateral-ventricles');
    // A model without a lateral-ventricle region simply gets no ex-vacuo enlargement.
    if (r >= 0) g[r] += spec.exVacuoGain * (c.strokeSize ?? 0);
  },
  plan: (_model, c, seed) => ({
    pathology: 'stroke',
    territory: c.strokeTerritory ?? 'MCA',
    side: c.strokeSide ?? 'left',
    fraction: c.strokeSize ?? 0.4,
    fieldSeed: strokeStreamSeed(seed),
  }),
  async draw(ctx, plan) {
    const templateIndex = await ctx.templateIndex();
    const labels = await ctx.labels();
    const st = drawStroke(
      ctx.model,
      labels,
      templateIndex,
      plan.territory,
      plan.side,
      plan.fraction,
      plan.fieldSeed ?? strokeStreamSeed(ctx.seed),
    );
    return { type: 'stroke', fraction: plan.fraction, ...st };
  },
  studentFeatures: { strokeSize: (c) => c.strokeSize ?? 0 },
};

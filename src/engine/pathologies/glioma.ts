/**
 * Glioma (docs/MODEL_FORMAT.md §4), the twin of brainsynth/pathologies/glioma.py.
 *
 * - Mass effect on the output→template mapping (step 6a, `massEffect` in sampler/anatomy.ts and
 *   kernels/warp.ts): the radial push of an expanding sphere of radius R plus a midline shift
 *   S·exp(−r²/2L²) along x, away from the tumour's side (S = midlineShiftPerMm·R²/30, L = 2R+10).
 * - An irregular margin R(d) = R·max(1 + a·F_m(d), 0.3)/n, F a few seeded spherical waves and n
 *   the factor that keeps the enclosed volume at (4/3)πR³; inside it, over intracranial labels,
 *   the enhancing rim (712).
 * - A necrotic core (711): its own noisier radius around an offset centre, at least `minRimMm`
 *   inside the margin.
 * - Oedema (713): white matter reached from the tumour through white matter in 6-neighbour steps
 *   (a geodesic flood: layer k takes the WM voxels next to layer k−1 with k·s ≤ reach(d),
 *   reach = (oedemaFactor − 1)·R·max(1 + a_o·F_o(d), 0)); it follows the gyral WM fingers.
 * - Sulcal effacement: CSF (24) within margin + reach + effacementMm becomes cortex of the
 *   tumour's side, and the sulcal partial volume there is cleared.
 * Every random draw is in the plan (stream mulberry32(s ^ 0x27d4eb2f)); `draw` is a plain
 * TypedArray pass over the box around the tumour, the same on every backend.
 */
import type { Model } from '../model/loadModel';
import { PATHOLOGY_LABELS, requireLabelIndex } from '../model/labelTable';
import { isIntracranialValue } from '../model/labelRanges';
import type { Vec3 } from '../model/manifest';
import { mulberry32 } from '../rng';
import { getModelArrays } from '../sampler/modelTensors';
import type { PathologyModule, PathologyPlan } from './types';

/** [wx, wy, wz, phase] per wave. */
export type Wave = [number, number, number, number];

export interface GliomaParams {
  centreMm: Vec3;
  radiusMm: number;
}

export interface GliomaPlan extends PathologyPlan, GliomaParams {
  pathology: 'glioma';
  marginWaves: Wave[];
  coreWaves: Wave[];
  oedemaWaves: Wave[];
  /** Core centre − tumour centre, mm. */
  coreOffsetMm: Vec3;
  /** Signed x shift of the inverse map (towards the tumour's side), mm; and its fall-off. */
  midlineShiftMm: number;
  midlineShiftLengthMm: number;
}

export const GLIOMA_STREAM = 0x27d4eb2f;
const FIB_POINTS = 512;
const CSF = 24;
const CTX_LEFT = 3;
const CTX_RIGHT = 42;

/** Shape parameters; a manifest without them gets these (= glioma.py SHAPE). */
export const GLIOMA_SHAPE = {
  marginAmplitude: 0.3,
  marginWaves: 6,
  marginWavenumber: 3.0,
  coreAmplitude: 0.35,
  coreWaves: 8,
  coreWavenumber: 4.0,
  coreOffsetFraction: 0.15,
  minRimMm: 3.0,
  oedemaAmplitude: 0.4,
  midlineShiftPerMm: 0.3,
  effacementMm: 4.0,
};

function gliomaSpec(model: Model) {
  const spec = model.manifest.pathology.glioma;
  if (!spec)
    throw new Error(`Model ${model.manifest.id} has no glioma parameters (pathology.glioma)`);
  return { ...GLIOMA_SHAPE, ...spec };
}
type Spec = ReturnType<typeof gliomaSpec>;

function drawWaves(rng: () => number, count: number): Wave[] {
  const out: Wave[] = [];
  for (let j = 0; j < count; j++) {
    const u1 = rng();
    const u2 = rng();
    const u3 = rng();
    const cz = 2 * u1 - 1;
    const az = 2 * Math.PI * u2;
    const s = Math.sqrt(Math.max(1 - cz * cz, 0));
    out.push([s * Math.cos(az), s * Math.sin(az), cz, 2 * Math.PI * u3]);
  }
  return out;
}

/** F for an offset (d0, d1, d2) of length r (float64, waves in order; d·w = 0 at r = 0). */
export function waveField(
  d0: number,
  d1: number,
  d2: number,
  r: number,
  waves: Wave[],
  k: number,
): number {
  let f = 0;
  for (const [wx, wy, wz, ph] of waves) {
    const dot = r > 0 ? (d0 * wx + d1 * wy + d2 * wz) / r : 0;
    f = f + Math.cos(k * dot + ph);
  }
  return f * Math.sqrt(2 / waves.length);
}

const marginFactor = (a: number, f: number) => Math.max(1 + a * f, 0.3);

/**
 * (n, c) over a 512-point Fibonacci sphere with m_i = max(1 + a·F(d_i), 0.3): n = (mean m³)^(1/3)
 * (the margin R·m/n encloses (4/3)πR³) and c = (3/4)(Σ m⁴d / Σ m³)/n, the centroid of that body
 * in units of R (the margin is centred on c0 − R·c, so the tumour's centroid is the asked centre).
 */
export function marginShape(
  waves: Wave[],
  k: number,
  a: number,
): { norm: number; centroid: [number, number, number] } {
  let acc3 = 0;
  const a4 = [0, 0, 0];
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let i = 0; i < FIB_POINTS; i++) {
    const z = 1 - (2 * i + 1) / FIB_POINTS;
    const phi = i * golden;
    const s = Math.sqrt(Math.max(1 - z * z, 0));
    const d = [s * Math.cos(phi), s * Math.sin(phi), z];
    const m = marginFactor(a, waveField(d[0], d[1], d[2], 1, waves, k));
    const m3 = m * m * m;
    acc3 += m3;
    const m4 = m3 * m;
    for (let j = 0; j < 3; j++) a4[j] += m4 * d[j];
  }
  const norm = (acc3 / FIB_POINTS) ** (1 / 3);
  const c = a4.map((v) => (0.75 * (v / acc3)) / norm);
  return { norm, centroid: [c[0], c[1], c[2]] };
}

export function volumeNorm(waves: Wave[], k: number, a: number): number {
  return marginShape(waves, k, a).norm;
}

/** The plan: every random draw, in order (margin waves, core waves, core offset, oedema waves). */
export function planGlioma(
  model: Model,
  centreMm: Vec3,
  radiusMm: number,
  seed: number,
): GliomaPlan {
  const p = gliomaSpec(model);
  const rng = mulberry32((seed ^ GLIOMA_STREAM) >>> 0);
  const marginWaves = drawWaves(rng, p.marginWaves);
  const coreWaves = drawWaves(rng, p.coreWaves);
  const u1 = rng();
  const u2 = rng();
  const u3 = rng();
  const cz = 2 * u1 - 1;
  const az = 2 * Math.PI * u2;
  const s = Math.sqrt(Math.max(1 - cz * cz, 0));
  const m = p.coreOffsetFraction * radiusMm * u3;
  const oedemaWaves = drawWaves(rng, p.marginWaves);
  const shift = (p.midlineShiftPerMm * radiusMm * radiusMm) / 30;
  return {
    pathology: 'glioma',
    centreMm: [centreMm[0], centreMm[1], centreMm[2]],
    radiusMm,
    marginWaves,
    coreWaves,
    oedemaWaves,
    coreOffsetMm: [m * s * Math.cos(az), m * s * Math.sin(az), m * cz],
    midlineShiftMm: centreMm[0] >= 0 ? shift : -shift,
    midlineShiftLengthMm: 2 * radiusMm + 10,
  };
}

/** A plan passed by hand must be complete and finite (bad input is rejected, not repaired). */
export function checkGliomaPlan(plan: GliomaPlan): void {
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const vec = (v: unknown, n: number) =>
    Array.isArray(v) && v.length === n && v.every((x) => finite(x));
  const waves = (w: unknown) => Array.isArray(w) && w.length > 0 && w.every((x) => vec(x, 4));
  const problems: string[] = [];
  if (!vec(plan.centreMm, 3)) problems.push('centreMm');
  if (!finite(plan.radiusMm) || !(plan.radiusMm > 0)) problems.push('radiusMm');
  if (!waves(plan.marginWaves)) problems.push('marginWaves');
  if (!waves(plan.coreWaves)) problems.push('coreWaves');
  if (!waves(plan.oedemaWaves)) problems.push('oedemaWaves');
  if (!vec(plan.coreOffsetMm, 3)) problems.push('coreOffsetMm');
  if (!finite(plan.midlineShiftMm)) problems.push('midlineShiftMm');
  if (!finite(plan.midlineShiftLengthMm) || !(plan.midlineShiftLengthMm > 0))
    problems.push('midlineShiftLengthMm');
  if (problems.length > 0) throw new Error(`Invalid glioma plan: bad ${problems.join(', ')}`);
}

/** Upper bound of |x − c0| over tumour, oedema and effaced zone (|F| ≤ √(2W)). */
function reachBound(plan: GliomaPlan, p: Spec, norm: number, cen: number[]): number {
  const fmax = Math.sqrt(2 * p.marginWaves);
  let rm = (plan.radiusMm * (1 + p.marginAmplitude * fmax)) / norm;
  rm += plan.radiusMm * Math.sqrt(cen[0] ** 2 + cen[1] ** 2 + cen[2] ** 2);
  const ro = (p.oedemaFactor - 1) * plan.radiusMm * (1 + p.oedemaAmplitude * fmax);
  return rm + ro + p.effacementMm + 1.0;
}

interface Box {
  lo: [number, number, number];
  hi: [number, number, number]; // exclusive
}

/** Index ranges of the output grid within `bound` of the centre (from the float32 coordinates). */
function boxOf(model: Model, coords: Float32Array, c: Vec3, bound: number): Box {
  const [nx, ny] = model.grid.shape;
  const n = model.grid.count;
  const at = [
    (i: number) => coords[i],
    (j: number) => coords[n + nx * j],
    (k: number) => coords[2 * n + nx * ny * k],
  ];
  const lo: [number, number, number] = [0, 0, 0];
  const hi: [number, number, number] = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    let first = -1;
    let last = -2;
    for (let i = 0; i < model.grid.shape[a]; i++) {
      if (Math.abs(at[a](i) - c[a]) <= bound) {
        if (first < 0) first = i;
        last = i;
      }
    }
    lo[a] = first < 0 ? 0 : first;
    hi[a] = first < 0 ? 0 : last + 1;
  }
  return { lo, hi };
}

/**
 * The tumour's geometry over its box, evaluated lazily per voxel (the wave fields are the cost:
 * only the voxels a test needs pay for them; each value is the same pure per-voxel formula as
 * the teacher's vectorised one).
 */
class Regions {
  readonly box: Box;
  readonly bx: number;
  readonly by: number;
  readonly bz: number;
  readonly size: number;
  private readonly p: Spec;
  private readonly coords: Float32Array;
  private readonly n: number;
  private readonly nx: number;
  private readonly ny: number;
  private readonly norm: number;
  private readonly body: number[];
  private readonly coreCentre: number[];
  private readonly marginCache: Float64Array;
  private readonly reachCache: Float64Array;

  constructor(
    model: Model,
    private readonly plan: GliomaPlan,
  ) {
    const p = gliomaSpec(model);
    this.p = p;
    this.coords = getModelArrays(model, { outputCoords: true }).outputCoords as Float32Array;
    const { norm, centroid } = marginShape(plan.marginWaves, p.marginWavenumber, p.marginAmplitude);
    this.norm = norm;
    this.box = boxOf(model, this.coords, plan.centreMm, reachBound(plan, p, norm, centroid));
    const { lo, hi } = this.box;
    [this.bx, this.by, this.bz] = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
    this.size = this.bx * this.by * this.bz;
    this.n = model.grid.count;
    [this.nx, this.ny] = model.grid.shape;
    const c0 = plan.centreMm;
    this.body = [0, 1, 2].map((a) => c0[a] - plan.radiusMm * centroid[a]); // the margin's centre
    this.coreCentre = [0, 1, 2].map((a) => c0[a] + plan.coreOffsetMm[a]);
    this.marginCache = new Float64Array(this.size).fill(NaN);
    this.reachCache = new Float64Array(this.size).fill(NaN);
  }

  /** Calls fn(b, v) for every box voxel b (x fastest) and its flat grid index v. */
  forEach(fn: (b: number, v: number) => void): void {
    const { lo, hi } = this.box;
    let b = 0;
    for (let k = lo[2]; k < hi[2]; k++)
      for (let j = lo[1]; j < hi[1]; j++) {
        const row = this.nx * (j + this.ny * k);
        for (let i = lo[0]; i < hi[0]; i++, b++) fn(b, row + i);
      }
  }

  /** Flat grid index of box voxel b. */
  flat(b: number): number {
    const i = b % this.bx;
    const j = Math.floor(b / this.bx) % this.by;
    const k = Math.floor(b / (this.bx * this.by));
    const { lo } = this.box;
    return lo[0] + i + this.nx * (lo[1] + j + this.ny * (lo[2] + k));
  }

  private offset(b: number, c: number[]): [number, number, number, number] {
    const v = this.flat(b);
    const d0 = this.coords[v] - c[0];
    const d1 = this.coords[this.n + v] - c[1];
    const d2 = this.coords[2 * this.n + v] - c[2];
    return [d0, d1, d2, Math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)];
  }

  /** |x − b| (b the margin's centre). */
  r(b: number): number {
    return this.offset(b, this.body)[3];
  }

  /** The margin radius R_m in the voxel's direction. */
  margin(b: number): number {
    let m = this.marginCache[b];
    if (Number.isNaN(m)) {
      const [d0, d1, d2, r] = this.offset(b, this.body);
      const p = this.p;
      const fm = waveField(d0, d1, d2, r, this.plan.marginWaves, p.marginWavenumber);
      m = (this.plan.radiusMm * marginFactor(p.marginAmplitude, fm)) / this.norm;
      this.marginCache[b] = m;
    }
    return m;
  }

  /** The oedema reach ρ_o in the voxel's direction. */
  reach(b: number): number {
    let m = this.reachCache[b];
    if (Number.isNaN(m)) {
      const [d0, d1, d2, r] = this.offset(b, this.body);
      const p = this.p;
      const fo = waveField(d0, d1, d2, r, this.plan.oedemaWaves, p.marginWavenumber);
      m = (p.oedemaFactor - 1) * this.plan.radiusMm * Math.max(1 + p.oedemaAmplitude * fo, 0);
      this.reachCache[b] = m;
    }
    return m;
  }

  /** Inside the necrotic core (given r = |x − b| and its margin). */
  core(b: number, r: number, margin: number): boolean {
    const p = this.p;
    if (!(r <= margin - p.minRimMm)) return false;
    const [e0, e1, e2, rc] = this.offset(b, this.coreCentre);
    const fc = waveField(e0, e1, e2, rc, this.plan.coreWaves, p.coreWavenumber);
    return rc <= p.necrosisFraction * this.plan.radiusMm * Math.max(1 + p.coreAmplitude * fc, 0.2);
  }

  /** In the effaced (swollen) zone. */
  effaced(b: number): boolean {
    return this.r(b) <= this.margin(b) + this.reach(b) + this.p.effacementMm;
  }
}

/** Draw the tumour into `labels` (label indices, x fastest) in place. */
export function drawGliomaArray(model: Model, labels: Int32Array, plan: GliomaPlan): void {
  const core = requireLabelIndex(model.labels, PATHOLOGY_LABELS.necroticCore, 'glioma core');
  const rim = requireLabelIndex(model.labels, PATHOLOGY_LABELS.enhancingRim, 'glioma rim');
  const oedema = requireLabelIndex(model.labels, PATHOLOGY_LABELS.oedema, 'glioma oedema');
  const g = new Regions(model, plan);
  const { bx, by, bz, size: m } = g;
  if (m === 0) return;
  const values = model.labels.values;
  const groups = model.manifest.labels.map((l) => l.group);
  const p = gliomaSpec(model);
  // the margin never exceeds this: no wave field beyond it
  const fmax = Math.sqrt(2 * p.marginWaves);
  const { norm } = marginShape(plan.marginWaves, p.marginWavenumber, p.marginAmplitude);
  const rmMax = (plan.radiusMm * (1 + p.marginAmplitude * fmax)) / norm;
  // tumour: rim, core inside
  const visited = new Uint8Array(m);
  let front: number[] = [];
  g.forEach((b, v) => {
    if (!isIntracranialValue(model.manifest, values[labels[v]])) return;
    const r = g.r(b);
    if (r > rmMax) return;
    const margin = g.margin(b);
    if (!(r <= margin)) return;
    labels[v] = g.core(b, r, margin) ? core : rim;
    visited[b] = 1;
    front.push(b);
  });
  // oedema: 6-neighbour flood through white matter, layer k within k·s ≤ reach
  const s = model.grid.spacing[0];
  const steps = [1, -1, bx, -bx, bx * by, -bx * by];
  for (let k = 1; front.length > 0; k++) {
    const next: number[] = [];
    for (const b of front) {
      const i = b % bx;
      const j = Math.floor(b / bx) % by;
      const z = Math.floor(b / (bx * by));
      for (let q = 0; q < 6; q++) {
        if ((q === 0 && i === bx - 1) || (q === 1 && i === 0)) continue;
        if ((q === 2 && j === by - 1) || (q === 3 && j === 0)) continue;
        if ((q === 4 && z === bz - 1) || (q === 5 && z === 0)) continue;
        const nb = b + steps[q];
        if (visited[nb] || groups[labels[g.flat(nb)]] !== 'wm' || !(k * s <= g.reach(nb))) continue;
        visited[nb] = 1;
        next.push(nb);
      }
    }
    for (const b of next) labels[g.flat(b)] = oedema;
    front = next;
  }
  // sulcal effacement: CSF in the swollen zone becomes cortex of the tumour's side
  const csf = model.labels.indexOfValue.get(CSF);
  const ctx = model.labels.indexOfValue.get(plan.centreMm[0] >= 0 ? CTX_RIGHT : CTX_LEFT);
  if (csf === undefined || ctx === undefined) return;
  g.forEach((b, v) => {
    if (labels[v] === csf && g.effaced(b)) labels[v] = ctx;
  });
}

/** Clear the sulcal partial volume (step 7b) in the effaced zone, in place. */
export function effaceSulcalPartialVolume(
  model: Model,
  plan: GliomaPlan,
  frac: Float32Array,
): void {
  const g = new Regions(model, plan);
  g.forEach((b, v) => {
    if (frac[v] !== 0 && g.effaced(b)) frac[v] = 0;
  });
}

export const glioma: PathologyModule<GliomaPlan> = {
  id: 'glioma',
  labels: [PATHOLOGY_LABELS.necroticCore, PATHOLOGY_LABELS.enhancingRim, PATHOLOGY_LABELS.oedema],
  manifestProblems(m) {
    if (!m.pathology.glioma) return [];
    const values = new Set(m.labels.map((l) => l.value));
    return glioma.labels
      .filter((v) => !values.has(v))
      .map((v) => `pathology.glioma needs label ${v} in labels`);
  },
  plan: (model, c, seed) =>
    planGlioma(
      model,
      [c.gliomaCenterXMm ?? 0, c.gliomaCenterYMm ?? 0, c.gliomaCenterZMm ?? 0],
      c.gliomaRadiusMm ?? 15,
      seed,
    ),
  deform: (model, plan) => {
    checkGliomaPlan(plan);
    return {
      centreMm: plan.centreMm,
      radiusMm: plan.radiusMm,
      decayMm: gliomaSpec(model).massEffectDecayMm,
      shiftMm: plan.midlineShiftMm,
      shiftLengthMm: plan.midlineShiftLengthMm,
    };
  },
  async draw(ctx, plan) {
    checkGliomaPlan(plan);
    const labels = await ctx.labels();
    drawGliomaArray(ctx.model, labels, plan);
    let tumour = 0;
    let oedema = 0;
    const core = ctx.model.labels.indexOfValue.get(PATHOLOGY_LABELS.necroticCore);
    const rim = ctx.model.labels.indexOfValue.get(PATHOLOGY_LABELS.enhancingRim);
    const oed = ctx.model.labels.indexOfValue.get(PATHOLOGY_LABELS.oedema);
    for (const l of labels) {
      if (l === core || l === rim) tumour++;
      else if (l === oed) oedema++;
    }
    return {
      type: 'glioma',
      centreMm: plan.centreMm,
      radiusMm: plan.radiusMm,
      midlineShiftMm: Math.round(Math.abs(plan.midlineShiftMm) * 1000) / 1000,
      tumourVoxels: tumour,
      oedemaVoxels: oedema,
    };
  },
  adjustSulcalPartialVolume: (model, plan, frac) => effaceSulcalPartialVolume(model, plan, frac),
};

/**
 * MS lesions (MODEL_FORMAT.md §4), placed in plain JS: the procedure is sequential (each lesion
 * depends on the load reached so far) and touches few voxels, so tensors would not help.
 *
 * Lesion *sites* are drawn in template space, so they do not depend on the individual anatomy:
 * the same seed gives the same lesions (moved with the brain) for any age, for the exact sampler
 * and the distilled student alike, and at 2 mm or 1 mm. (Drawing them by inverse CDF over output
 * voxels, as version 1 did, moved every later lesion whenever one voxel of anatomy changed.)
 *
 * Lesion locations (template voxels, by their template label group): `infratentorial` (brainstem,
 * cerebellar white matter), `juxtacortical` (white matter with a 6-neighbour in the cortex) and
 * `cerebral` (the other white matter: periventricular and deep). Each class's site weight is
 * msLesionPrior + siteFloor over its voxels (x-fastest order).
 *
 * Random draws, stream mulberry32(s ^ 0x9e3779b9), per lesion, in this order (the Python teacher,
 * `brainsynth/pathologies/ms.py`, draws the same way):
 *   0. u_l = rng()                  → location: infratentorial if u_l < s_i, juxtacortical if
 *                                     u_l < s_i + s_j, else cerebral (s = locationShares; a class
 *                                     without sites falls back to cerebral);
 *   1. u_c = rng()                  → template voxel: inverse CDF over the class's voxels;
 *   2. j_x, j_y, j_z = rng() ×3     → t = voxel centre + (j − ½)·spacing (a point in the voxel);
 *   3. u1 = 1 − rng(), u2 = rng()   → n = sqrt(−2 ln u1)·cos(2π u2) (the sin half is discarded);
 *                                     volume = exp(lesionVolumeLogMeanMl + lesionVolumeLogSdMl·n) mL;
 *   4. u_b = rng()                  → a T1 black hole (label 702) if u_b < blackHoleFraction.
 * Centre: the output point x with p(x) = t (sampler/inverseMap.ts). Long axis: from the mapped
 * nearest template lateral-ventricle voxel centre to x, i.e. perpendicular to the ventricle wall.
 * Shape: ellipsoid with semi-axes a = e·b, b, b (e = elongation, (4/3)π·a·b² = volume); its output
 * voxels whose centre lies inside and whose label group is `wm`, `brainstem` or `cerebellum-wm`
 * become 701, or 702 for a black hole (earlier lesions are no longer eligible, so overlaps do not
 * count twice). Lesions are added until the relabelled volume
 * reaches the target L or maxLesions; the last one is filled from its centre outwards (by
 * normalised radius ρ, ties by flat index) and stops at L, so the load overshoots by < 1 voxel.
 *
 * Plan and draw: `planMsLesions` makes all the random draws above (for maxLesions lesions, in
 * template space; the later ones are unused when the load is reached first), `drawMsLesions`
 * applies them to an anatomy. A hand-made plan (a lesion placed at a chosen template point)
 * goes through the same drawing.
 */
import type { Grid } from '../model/grid';
import type { Model } from '../model/loadModel';
import type { Vec3 } from '../model/manifest';
import { groupMask, PATHOLOGY_LABELS, requireLabelIndex, valueMask } from '../model/labelTable';
import { msStreamSeed, mulberry32 } from '../rng';
import { invertMapping, sampleWithGradient } from '../sampler/inverseMap';
import type { Deformation, PathologyModule, PathologyPlan } from './types';

export type { Deformation } from './types';

export interface MsResult {
  targetLoadMl: number;
  realisedLoadMl: number;
  lesionCount: number;
  lesionsDrawn: number;
  /** Largest |p(x) − t| of the inverse mappings (mm): how exactly sites were carried over. */
  maxInverseResidualMm: number;
  /** Drawn lesions that are T1 black holes (label 702). */
  blackHoles: number;
  /** Drawn lesions by location (a hand-placed lesion without one counts as cerebral). */
  byLocation: Record<MsLocation, number>;
  note?: string;
}

/** One lesion in output space. */
export interface MsLesion {
  centreMm: Vec3;
  /** Semi-axes (mm): `a` along `direction`, `b` across. */
  a: number;
  b: number;
  direction: Vec3;
  /** Drawn as 702 (T1 black hole) instead of 701. */
  blackHole?: boolean;
  location?: MsLocation;
}

/**
 * One planned lesion and its volume: a site in template space (`templateMm`, as drawn from the
 * seed: it moves with the anatomy) or, for a lesion placed by hand on the shown volume, in
 * output space (`outputMm`, used as it is).
 */
export type MsSite = (
  | { templateMm: Vec3; outputMm?: undefined; volumeMm3: number }
  | { outputMm: Vec3; templateMm?: undefined; volumeMm3: number }
) & {
  /** Drawn as a T1 black hole (label 702) rather than 701. */
  blackHole?: boolean;
  location?: MsLocation;
};

export type MsLocation = 'cerebral' | 'juxtacortical' | 'infratentorial';
export const MS_LOCATIONS: readonly MsLocation[] = ['cerebral', 'juxtacortical', 'infratentorial'];

/** Used when the manifest does not give them (the pipeline writes the measured values). */
export const MS_DEFAULTS = {
  locationShares: { juxtacortical: 0, infratentorial: 0 },
  blackHoleFraction: 0,
  siteFloor: 0,
};

/** Label groups an MS lesion may replace. */
const MS_ELIGIBLE_GROUPS = ['wm', 'brainstem', 'cerebellum-wm'];

export interface MsPlan extends PathologyPlan {
  pathology: 'ms';
  targetLoadMl: number;
  /** In drawing order; drawing stops at the target load (or when the sites run out). */
  sites: MsSite[];
  /** Why there are no sites, when there are none. */
  note?: string;
}

interface ClassSites {
  /** Template voxels of the class (x-fastest order) and their cumulative weights. */
  voxels: Int32Array;
  cdf: Float64Array;
  total: number;
}

interface TemplateSites {
  classes: Record<MsLocation, ClassSites>;
  /** World positions (flat xyz triples) of the template's lateral-ventricle voxels. */
  ventricles: Float64Array;
}

const sitesCache = new WeakMap<Model, TemplateSites>();

type MsSpec = NonNullable<Model['manifest']['pathology']['ms']>;

function msModel(model: Model): { spec: MsSpec; prior: Float32Array } {
  const spec = model.manifest.pathology.ms;
  const prior = model.arrays.msLesionPrior;
  if (!spec || !prior)
    throw new Error(`Model ${model.manifest.id} has no MS model (pathology.ms / msLesionPrior)`);
  return { spec, prior };
}

/** The template-space site distribution and ventricle voxels (fixed per model, cached). */
function templateSites(model: Model, prior: Float32Array): TemplateSites {
  const cached = sitesCache.get(model);
  if (cached) return cached;
  const template = model.arrays.templateLabels;
  const floor = model.manifest.pathology.ms?.siteFloor ?? MS_DEFAULTS.siteFloor;
  const cls = templateLocations(model);
  const lists: Record<MsLocation, number[]> = {
    cerebral: [],
    juxtacortical: [],
    infratentorial: [],
  };
  for (let v = 0; v < model.grid.count; v++) {
    if (cls[v] > 0) lists[MS_LOCATIONS[cls[v] - 1]].push(v);
  }
  const classes = {} as Record<MsLocation, ClassSites>;
  for (const loc of MS_LOCATIONS) {
    const voxels = Int32Array.from(lists[loc]);
    const cdf = new Float64Array(voxels.length);
    let sum = 0;
    for (let i = 0; i < voxels.length; i++) {
      sum += prior[voxels[i]] + floor;
      cdf[i] = sum;
    }
    classes[loc] = { voxels, cdf, total: sum };
  }
  const sites = { classes, ventricles: ventricleVoxels(model, template) };
  sitesCache.set(model, sites);
  return sites;
}

/** All random draws of the MS lesions of stream `streamSeed`: maxLesions template sites. */
export function planMsLesions(model: Model, targetMl: number, streamSeed: number): MsPlan {
  const { spec, prior } = msModel(model);
  const plan: MsPlan = { pathology: 'ms', targetLoadMl: targetMl, sites: [] };
  const sites = templateSites(model, prior);
  if (!(sites.classes.cerebral.total > 0)) {
    plan.note = 'no template white matter with non-zero lesion prior: no lesions drawn';
    return plan;
  }
  const grid = model.grid;
  const shares = spec.locationShares ?? MS_DEFAULTS.locationShares;
  const blackHoleFraction = spec.blackHoleFraction ?? MS_DEFAULTS.blackHoleFraction;
  const rng = mulberry32(streamSeed);
  for (let i = 0; i < spec.maxLesions; i++) {
    const ul = rng();
    let location: MsLocation =
      ul < shares.infratentorial
        ? 'infratentorial'
        : ul < shares.infratentorial + shares.juxtacortical
          ? 'juxtacortical'
          : 'cerebral';
    if (!(sites.classes[location].total > 0)) location = 'cerebral';
    const cls = sites.classes[location];
    const voxel = cls.voxels[searchCdf(cls.cdf, rng() * cls.total)];
    const vc = worldOf(grid, voxel);
    const t: Vec3 = [0, 1, 2].map((a) => vc[a] + (rng() - 0.5) * grid.spacing[a]) as Vec3;
    const u1 = 1 - rng();
    const u2 = rng();
    const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    const volumeMm3 =
      1000 * Math.exp(spec.lesionVolumeLogMeanMl + spec.lesionVolumeLogSdMl * normal);
    const blackHole = rng() < blackHoleFraction;
    plan.sites.push({ templateMm: t, volumeMm3, location, blackHole });
  }
  return plan;
}

/** Planned sites carried into output space, one lesion per call of `next`. */
function lesionStream(
  model: Model,
  spec: MsSpec,
  prior: Float32Array,
  deformation: Deformation,
  plan: MsPlan,
): { next: () => MsLesion; maxResidualMm: () => number } {
  const sites = templateSites(model, prior);
  const vgrid = model.velocityGrid;
  const centre = model.manifest.calibration.gridCentreMm;
  let maxResidual = 0;
  let i = 0;
  const toOutput = (t: Vec3) => {
    const inv = invertMapping(deformation.displacement, vgrid, t, deformation.scale, centre);
    maxResidual = Math.max(maxResidual, inv.residualMm);
    return inv.point;
  };
  // Forward mapping of step 6b–c for an output point: p = x' + T(u, x'), x' = C + (x − C)/k.
  const toTemplate = (x: Vec3): Vec3 => {
    const xp = [0, 1, 2].map((a) => centre[a] + (x[a] - centre[a]) / deformation.scale) as Vec3;
    const d = sampleWithGradient(deformation.displacement, vgrid, xp).value;
    return [xp[0] + d[0], xp[1] + d[1], xp[2] + d[2]];
  };
  const next = (): MsLesion => {
    const n = i++;
    const s = plan.sites[n];
    const { volumeMm3 } = s;
    if (!(volumeMm3 > 0)) throw new Error(`MS plan site ${n}: volumeMm3 must be > 0`);
    let site: Vec3;
    let t: Vec3;
    if (s.outputMm) {
      site = s.outputMm;
      t = toTemplate(site);
    } else if (s.templateMm) {
      t = s.templateMm;
      site = toOutput(t);
    } else throw new Error(`MS plan site ${n} needs templateMm or outputMm`);
    const e = spec.elongation;
    const b = Math.cbrt((3 * volumeMm3) / (4 * Math.PI * e));
    const wall = nearest(sites.ventricles, t);
    const away = unit(sub(site, centre));
    const direction = (wall ? unit(sub(site, toOutput(wall))) : null) ?? away ?? [0, 0, 1];
    return {
      centreMm: site,
      a: e * b,
      b,
      direction,
      blackHole: s.blackHole === true,
      location: s.location,
    };
  };
  return { next, maxResidualMm: () => maxResidual };
}

/** Apply a plan to the label indices `labels` (edited in place). */
export function drawMsLesions(
  model: Model,
  labels: Int32Array,
  deformation: Deformation,
  plan: MsPlan,
): MsResult {
  const { spec, prior } = msModel(model);
  const lesionIndex = requireLabelIndex(model.labels, PATHOLOGY_LABELS.msLesion, 'MS lesion');
  const blackHoleIndex = requireLabelIndex(
    model.labels,
    PATHOLOGY_LABELS.msBlackHole,
    'MS black hole',
  );
  const targetMl = plan.targetLoadMl;
  const result: MsResult = {
    targetLoadMl: targetMl,
    realisedLoadMl: 0,
    lesionCount: 0,
    lesionsDrawn: 0,
    maxInverseResidualMm: 0,
    blackHoles: 0,
    byLocation: { cerebral: 0, juxtacortical: 0, infratentorial: 0 },
  };
  if (plan.sites.length === 0) {
    result.note = plan.note ?? 'the plan holds no lesion sites: no lesions drawn';
    return result;
  }
  const stream = lesionStream(model, spec, prior, deformation, plan);
  const grid = model.grid;
  const eligible = groupMask(model.labels, ...MS_ELIGIBLE_GROUPS);
  const targetVoxels = targetMl / grid.voxelMl;
  const maxLesions = Math.min(spec.maxLesions, plan.sites.length);
  let relabelled = 0;
  while (relabelled < targetVoxels - 1e-9 && result.lesionsDrawn < maxLesions) {
    result.lesionsDrawn++;
    const lesion = stream.next();
    const { voxels, rho } = ellipsoidVoxels(grid, lesion, (v) => eligible[labels[v]] === 1);
    if (voxels.length === 0) continue;
    const remaining = Math.ceil(targetVoxels - relabelled - 1e-9);
    let chosen = voxels;
    if (voxels.length > remaining) {
      const order = voxels
        .map((_, i) => i)
        .sort((p, q) => rho[p] - rho[q] || voxels[p] - voxels[q]);
      chosen = order.slice(0, remaining).map((i) => voxels[i]);
    }
    const index = lesion.blackHole ? blackHoleIndex : lesionIndex;
    for (const v of chosen) labels[v] = index;
    relabelled += chosen.length;
    result.lesionCount++;
    if (lesion.blackHole) result.blackHoles++;
    result.byLocation[lesion.location ?? 'cerebral']++;
  }
  result.realisedLoadMl = relabelled * grid.voxelMl;
  result.maxInverseResidualMm = stream.maxResidualMm();
  if (relabelled < targetVoxels - 1e-9) {
    result.note =
      maxLesions < spec.maxLesions
        ? `the plan's ${plan.sites.length} sites ran out below the requested load`
        : `stopped at maxLesions (${spec.maxLesions}) below the requested load`;
  }
  return result;
}

export const ms: PathologyModule<MsPlan> = {
  id: 'ms',
  labels: [PATHOLOGY_LABELS.msLesion, PATHOLOGY_LABELS.msBlackHole],
  needsDisplacement: true,
  manifestProblems(m) {
    if (!m.pathology.ms) return [];
    const p: string[] = [];
    if (!m.arrays.msLesionPrior) p.push('pathology.ms needs arrays.msLesionPrior');
    for (const value of [PATHOLOGY_LABELS.msLesion, PATHOLOGY_LABELS.msBlackHole]) {
      if (!m.labels.some((l) => l.value === value))
        p.push(`pathology.ms needs label ${value} in labels`);
    }
    return p;
  },
  plan: (model, c, seed) => planMsLesions(model, c.msLesionLoadMl ?? 8, msStreamSeed(seed)),
  async draw(ctx, plan) {
    const deformation = await ctx.deformation();
    const labels = await ctx.labels();
    return { type: 'ms', ...drawMsLesions(ctx.model, labels, deformation, plan) };
  },
};

/**
 * Flat indices (z outer, y, x inner) of the eligible voxels whose centre lies inside the
 * ellipsoid, with their normalised radius ρ ≤ 1. The search box is floor/ceil of centre ∓ a,
 * so no rounding rule (half-up vs half-even) can make two implementations disagree.
 */
export function ellipsoidVoxels(
  grid: Grid,
  lesion: MsLesion,
  eligible: (v: number) => boolean,
): { voxels: number[]; rho: number[] } {
  const [nx, ny] = grid.shape;
  const c = lesion.centreMm;
  const dir = lesion.direction;
  const lo: number[] = [];
  const hi: number[] = [];
  for (let a = 0; a < 3; a++) {
    lo.push(Math.max(0, Math.floor((c[a] - lesion.a - grid.origin[a]) / grid.spacing[a])));
    hi.push(
      Math.min(grid.shape[a] - 1, Math.ceil((c[a] + lesion.a - grid.origin[a]) / grid.spacing[a])),
    );
  }
  const voxels: number[] = [];
  const rho: number[] = [];
  const a2 = lesion.a * lesion.a;
  const b2 = lesion.b * lesion.b;
  for (let k = lo[2]; k <= hi[2]; k++) {
    const dz = grid.origin[2] + grid.spacing[2] * k - c[2];
    for (let j = lo[1]; j <= hi[1]; j++) {
      const dy = grid.origin[1] + grid.spacing[1] * j - c[1];
      for (let i = lo[0]; i <= hi[0]; i++) {
        const v = i + nx * (j + ny * k);
        if (!eligible(v)) continue;
        const dx = grid.origin[0] + grid.spacing[0] * i - c[0];
        const along = dx * dir[0] + dy * dir[1] + dz * dir[2];
        const perp2 = dx * dx + dy * dy + dz * dz - along * along;
        const r = (along * along) / a2 + perp2 / b2;
        if (r <= 1) {
          voxels.push(v);
          rho.push(r);
        }
      }
    }
  }
  return { voxels, rho };
}

function worldOf(grid: Grid, v: number): Vec3 {
  const [nx, ny] = grid.shape;
  const i = v % nx;
  const j = Math.floor(v / nx) % ny;
  const k = Math.floor(v / (nx * ny));
  return [
    grid.origin[0] + grid.spacing[0] * i,
    grid.origin[1] + grid.spacing[1] * j,
    grid.origin[2] + grid.spacing[2] * k,
  ];
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

/**
 * Location class of each template voxel: 0 none, 1 cerebral, 2 juxtacortical, 3 infratentorial
 * (MS_LOCATIONS order + 1). Juxtacortical: `wm` with a 6-neighbour (inside the grid) in `cortex`.
 */
export function templateLocations(model: Model): Uint8Array {
  const template = model.arrays.templateLabels;
  const isWm = groupMask(model.labels, 'wm');
  const isCortex = groupMask(model.labels, 'cortex');
  const isInfra = groupMask(model.labels, 'brainstem', 'cerebellum-wm');
  const [nx, ny, nz] = model.grid.shape;
  const out = new Uint8Array(model.grid.count);
  for (let k = 0, v = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, v++) {
        const l = template[v];
        if (isInfra[l]) out[v] = 3;
        else if (isWm[l]) {
          const near =
            (i > 0 && isCortex[template[v - 1]]) ||
            (i < nx - 1 && isCortex[template[v + 1]]) ||
            (j > 0 && isCortex[template[v - nx]]) ||
            (j < ny - 1 && isCortex[template[v + nx]]) ||
            (k > 0 && isCortex[template[v - nx * ny]]) ||
            (k < nz - 1 && isCortex[template[v + nx * ny]]);
          out[v] = near ? 2 : 1;
        }
      }
    }
  }
  return out;
}

/** World positions (flat xyz triples) of the template voxels labelled as lateral ventricle. */
function ventricleVoxels(model: Model, template: ArrayLike<number>): Float64Array {
  const region = model.manifest.regions.find((r) => r.name === 'lateral-ventricles');
  const values = region ? region.labels : [4, 43]; // FreeSurfer Left/Right-Lateral-Ventricle
  const isVent = valueMask(model.labels, values);
  const out: number[] = [];
  for (let v = 0; v < model.grid.count; v++) {
    if (isVent[template[v]]) out.push(...worldOf(model.grid, v));
  }
  return Float64Array.from(out);
}

/** The nearest point of `points` (flat xyz triples) to p, first in order on ties; null if none. */
function nearest(points: Float64Array, p: Vec3): Vec3 | null {
  let best = Infinity;
  let at = -1;
  for (let i = 0; i < points.length; i += 3) {
    const dx = p[0] - points[i];
    const dy = p[1] - points[i + 1];
    const dz = p[2] - points[i + 2];
    const d = dx * dx + dy * dy + dz * dz;
    if (d < best) {
      best = d;
      at = i;
    }
  }
  return at < 0 ? null : [points[at], points[at + 1], points[at + 2]];
}

const sub = (p: Vec3, q: Vec3): Vec3 => [p[0] - q[0], p[1] - q[1], p[2] - q[2]];

function unit(v: Vec3): Vec3 | null {
  const len = Math.hypot(v[0], v[1], v[2]);
  return len > 0 ? [v[0] / len, v[1] / len, v[2] / len] : null;
}

import { describe, expect, it } from 'vitest';
import type { Conditions } from '../generated/conditions';
import type { Model } from '../model/loadModel';
import type { ModelManifest } from '../model/manifest';
import { normals } from '../rng';
import { drawLatents, sizeLatentCount } from './latents';
import {
  applySizing,
  latentOf,
  priority,
  sizingParams,
  structureFactor,
  type SizingParams,
} from './sizing';

/** Label values of the toy models; a label's index is its position here. */
const VALUES = [0, 2, 3, 5, 10, 14, 17, 24, 41, 44, 49];
const index = (v: number) => VALUES.indexOf(v);

type Shape = [number, number, number];

function toyModel(shape: Shape, manifest: Partial<ModelManifest>): Model {
  return {
    manifest,
    grid: { shape },
    labels: { indexOfValue: new Map(VALUES.map((v, i) => [v, i])) },
  } as unknown as Model;
}

/** A label volume from label values set by a callback (x fastest). */
function volume(shape: Shape, value: (x: number, y: number, z: number) => number): Int32Array {
  const [nx, ny, nz] = shape;
  const out = new Int32Array(nx * ny * nz);
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++, i++) out[i] = index(value(x, y, z));
  return out;
}

const at = (shape: Shape, x: number, y: number, z: number) => x + shape[0] * (y + shape[1] * z);
const count = (labels: Int32Array, v: number) => labels.filter((l) => l === index(v)).length;

type Structure = {
  region: string;
  labels: { value: number; partners: number[] }[];
  partialLayer?: 'flat' | 'smooth';
};
const HORNS: Structure = {
  region: 'inf-lat-ventricles',
  labels: [
    { value: 5, partners: [2] },
    { value: 44, partners: [41] },
  ],
};
const params = (structures: Structure[], f: number[] = [1], ad?: number): SizingParams => ({
  ages: [20, 90],
  structures: structures.map((s, i) => ({
    ...s,
    factor: { female: [f[i] ?? 1, f[i] ?? 1], male: [f[i] ?? 1, f[i] ?? 1] },
    ...(ad !== undefined ? { adFactor: ad } : {}),
  })),
});
const cond = (extra: Partial<Conditions> = {}) =>
  ({ age: 60, sex: 'female', pathology: 'none', contrast: 'T1w', ...extra }) as Conditions;

/** 20×20×16 with WM (2) against cortex (3), the WM sized by f with a smooth partial layer. */
const slab: Shape = [20, 20, 16];
const SMOOTH_WM: Structure = {
  region: 'cerebral-wm',
  labels: [{ value: 2, partners: [3] }],
  partialLayer: 'smooth',
};
/** The voxels whose label the smooth WM sizing by f changes in the slab labelled by `value`. */
function movedBySmoothWm(value: (x: number, y: number, z: number) => number, f: number): number[] {
  const v = volume(slab, value);
  const before = volume(slab, value);
  applySizing(toyModel(slab, { sizing: params([SMOOTH_WM], [f]) }), v, cond());
  return [...v.keys()].filter((i) => v[i] !== before[i]);
}

/** 12×10×10: left WM (x 1-5), right WM (x 6-10), a 2-voxel left horn, an 8-voxel right one. */
const TOY: Shape = [12, 10, 10];
function toyHorns(): Int32Array {
  return volume(TOY, (x, y, z) => {
    if (x === 3 && y === 5 && (z === 5 || z === 6)) return 5;
    if (x === 8 && y === 2 && z >= 1 && z <= 8) return 44;
    const inside = y > 0 && y < 9 && z > 0 && z < 9 && x > 0 && x < 11;
    return inside ? (x < 6 ? 2 : 41) : 0;
  });
}

describe('step 7c: label-level sizing', () => {
  it('grows and shrinks each label to round(n·f) against its own partners', () => {
    const model = toyModel(TOY, { sizing: params([HORNS], [3]) });
    const labels = toyHorns();
    const report = applySizing(model, labels, cond());
    expect(count(labels, 5)).toBe(6);
    expect(count(labels, 44)).toBe(24);
    expect(count(labels, 2) + count(labels, 5)).toBe(320);
    expect(count(labels, 41) + count(labels, 44)).toBe(320);
    expect(report['inf-lat-ventricles'].labels['5']).toEqual({ before: 2, target: 6, after: 6 });
    const small = toyHorns();
    applySizing(toyModel(TOY, { sizing: params([HORNS], [0.5]) }), small, cond());
    expect(count(small, 5)).toBe(1);
    expect(count(small, 44)).toBe(4);
  });

  it('is the identity at factor 1 and without sizing', () => {
    const labels = toyHorns();
    applySizing(toyModel(TOY, { sizing: params([HORNS], [1.06]) }), labels, cond());
    expect(labels).toEqual(toyHorns()); // 8 × 1.06 = 8.48 rounds to 8; 2 × 1.06 to 2
    const none = toyHorns();
    expect(applySizing(toyModel(TOY, {}), none, cond())).toEqual({});
    expect(none).toEqual(toyHorns());
  });

  it('takes the partial layer in flat order (grow: first, shrink: last)', () => {
    const shape: Shape = [7, 5, 5];
    const one: Structure = { region: 'h', labels: [{ value: 5, partners: [2] }] };
    const labels = volume(shape, (x, y, z) =>
      x === 3 && y === 2 && z === 2
        ? 5
        : x >= 1 && x <= 5 && y >= 1 && y <= 3 && z >= 1 && z <= 3
          ? 2
          : 0,
    );
    applySizing(toyModel(shape, { sizing: params([one], [3]) }), labels, cond());
    const grown = [...labels.keys()].filter((i) => labels[i] === index(5));
    expect(grown).toEqual([at(shape, 3, 2, 1), at(shape, 3, 1, 2), at(shape, 3, 2, 2)]);
    const bar: Shape = [5, 3, 3];
    const w = volume(bar, (x, y, z) => (y === 1 && z === 1 && x >= 1 && x <= 3 ? 5 : 2));
    applySizing(toyModel(bar, { sizing: params([one], [0.4]) }), w, cond());
    expect([...w.keys()].filter((i) => w[i] === index(5))).toEqual([at(bar, 1, 1, 1)]);
  });

  it('takes a smooth partial layer on a flat interface by priority, over all of it, coherently', () => {
    // 20×20×16: WM (2) below z = 8, cortex (3) above; 3200 WM voxels × 1.03 → 96 of the 400
    const moved = (f: number) => movedBySmoothWm((_x, _y, z) => (z < 8 ? 2 : 3), f);
    const grown = moved(1.03);
    const layer = Array.from({ length: 400 }, (_, j) => at(slab, j % 20, Math.floor(j / 20), 8));
    const lowest = [...layer].sort((a, b) => priority(a) - priority(b)).slice(0, 96);
    expect(grown).toEqual(lowest.sort((a, b) => a - b));
    const quadrants = new Set(grown.map((i) => `${i % 20 < 10}${Math.floor(i / 20) % 20 < 10}`));
    expect(quadrants.size).toBe(4);
    // a larger factor keeps every voxel a smaller one moved (no flicker from year to year)
    let previous = new Set<number>();
    for (const f of [1.01, 1.02, 1.05, 1.1, 1.2]) {
      const now = new Set(moved(f));
      for (const i of previous) expect(now.has(i)).toBe(true);
      previous = now;
    }
    // shrinking: 96 WM voxels of the top WM layer become cortex
    const shrunk = moved(0.97);
    expect(shrunk.length).toBe(96);
    expect(shrunk.every((i) => Math.floor(i / 400) === 7)).toBe(true);
  });

  it('fills pockets and removes protrusions first in a smooth partial layer', () => {
    const moved = (f: number) =>
      movedBySmoothWm(
        (x, y, z) =>
          x === 5 && y === 5 && z === 7 ? 3 : x === 12 && y === 12 && z === 8 ? 2 : z < 8 ? 2 : 3,
        f,
      );
    expect(moved(1.0002)).toEqual([at(slab, 5, 5, 7)]); // the pocket: 5 WM neighbours
    expect(moved(0.9998)).toEqual([at(slab, 12, 12, 8)]); // the protrusion: 5 cortex neighbours
  });

  it('priority is the same hash as the teacher (brainsynth.sizing.priority)', () => {
    expect([0, 1, 2, 123456].map(priority)).toEqual([0, 1753845952, 3507691905, 3173061056]);
  });

  it('gives a shrinking voxel its first partner neighbour (−x, +x, −y, …) and never a non-partner', () => {
    const shape: Shape = [5, 5, 5];
    const hip: Structure = { region: 'hippocampus', labels: [{ value: 17, partners: [24, 5] }] };
    const labels = volume(shape, (x, y, z) => {
      if (y === 2 && z === 2 && x === 2) return 17;
      if (y === 2 && z === 2 && x === 1) return 3; // −x: cortex, not a partner
      if (y === 2 && z === 2 && x === 3) return 5; // +x: horn
      if (x === 2 && z === 2 && y === 1) return 24; // −y: CSF
      return 0;
    });
    const report = applySizing(toyModel(shape, { sizing: params([hip], [0]) }), labels, cond());
    expect(labels[at(shape, 2, 2, 2)]).toBe(index(5));
    expect(report.hippocampus.labels['17'].after).toBe(0);
    const lone = volume(shape, (x, y, z) => (x === 2 && y === 2 && z === 2 ? 17 : 0));
    const r2 = applySizing(toyModel(shape, { sizing: params([hip], [0]) }), lone, cond());
    expect(r2.hippocampus.labels['17']).toEqual({ before: 1, target: 0, after: 1 });
  });

  it('grows only into partners and stops when none is left', () => {
    const shape: Shape = [6, 6, 6];
    const v3: Structure = { region: 'v3', labels: [{ value: 14, partners: [10, 49] }] };
    const cube = (y: number, z: number) => y >= 2 && y <= 3 && z >= 2 && z <= 3;
    const labels = volume(shape, (x, y, z) =>
      cube(y, z) && x >= 2 && x <= 3 ? 14 : cube(y, z) && x === 1 ? 10 : 3,
    );
    const r = applySizing(toyModel(shape, { sizing: params([v3], [2]) }), labels, cond());
    expect(r.v3.labels['14']).toEqual({ before: 8, target: 16, after: 12 });
    expect(count(labels, 10)).toBe(0);
  });

  it('applies the structures in order (the hippocampus gives voxels to the horn first)', () => {
    const shape: Shape = [8, 6, 6];
    const hip: Structure = { region: 'hippocampus', labels: [{ value: 17, partners: [24, 5] }] };
    const horn: Structure = { region: 'inf-lat-ventricles', labels: [{ value: 5, partners: [2] }] };
    const make = () =>
      volume(shape, (x, y, z) => {
        const yz = y >= 2 && y <= 3 && z >= 2 && z <= 3;
        if (yz && x >= 2 && x <= 5) return 17;
        if (yz && x === 6) return 5;
        return x >= 1 && x <= 6 && y >= 1 && y <= 4 && z >= 1 && z <= 4 ? 2 : 0;
      });
    const a = make();
    applySizing(toyModel(shape, { sizing: params([hip, horn], [0.75, 1.5]) }), a, cond());
    expect(count(a, 17)).toBe(12);
    expect(count(a, 5)).toBe(12);
    const b = make();
    applySizing(toyModel(shape, { sizing: params([horn, hip], [1.5, 0.75]) }), b, cond());
    expect(count(b, 17)).toBe(12);
    expect(count(b, 5)).toBe(10);
  });

  it("multiplies by adFactor^severity under Alzheimer's disease only", () => {
    const p = params([HORNS], [1.5], 2);
    const s = p.structures[0];
    expect(structureFactor(p, s, cond())).toBeCloseTo(1.5);
    expect(structureFactor(p, s, cond({ pathology: 'alzheimers', adSeverity: 1 }))).toBeCloseTo(3);
    const noAd = params([HORNS], [1.5]);
    expect(
      structureFactor(noAd, noAd.structures[0], cond({ pathology: 'alzheimers', adSeverity: 1 })),
    ).toBeCloseTo(1.5);
  });

  it('gives a structure with individualLogSd the individual size factor exp(s·zSize)', () => {
    const p = params([HORNS], [1.5]);
    const s = { ...p.structures[0], individualLogSd: { female: [0.2, 0.4], male: [0.1, 0.1] } };
    // 55 y female, half way between the rows (ages 20, 90): s = 0.3
    expect(structureFactor(p, s, cond({ age: 55 }), 0)).toBeCloseTo(1.5);
    expect(structureFactor(p, s, cond({ age: 55 }), 1.5)).toBeCloseTo(
      1.5 * Math.exp(0.3 * 1.5),
      12,
    );
    expect(structureFactor(p, p.structures[0], cond({ age: 55 }), 1.5)).toBeCloseTo(1.5);
    // the size latent continues the seed's latent stream (the same normals as z, z_icv)
    const l = drawLatents(42, 8);
    expect(l.zSize).toBe(normals(42, 11)[9]);
    expect([...l.z, l.zIcv]).toEqual([...normals(42, 9)]);
  });

  it('reads each structure its own size latent (latent j: the (j+1)-th normal after z_icv)', () => {
    const p = params([HORNS], [1.5]);
    const sd = { female: [0.2, 0.2], male: [0.2, 0.2] };
    const ventricles = { ...p.structures[0], individualLogSd: sd };
    const skull = { ...p.structures[0], individualLogSd: sd, latent: 1 };
    const zs = [0.5, -1.25];
    expect(latentOf(ventricles, zs)).toBe(0.5);
    expect(latentOf(skull, zs)).toBe(-1.25);
    expect(latentOf(skull, 0.5)).toBe(0); // a single number is latent 0 only
    expect(latentOf({ ...skull, latent: 2 }, zs)).toBe(0); // beyond the list: 0
    expect(structureFactor(p, skull, cond({ age: 55 }), zs)).toBeCloseTo(
      1.5 * Math.exp(0.2 * -1.25),
      12,
    );
    expect(structureFactor(p, ventricles, cond({ age: 55 }), zs)).toBeCloseTo(
      1.5 * Math.exp(0.2 * 0.5),
      12,
    );
    // as many latents as the structures read, continuing the stream; latent 0 is zSize
    const man = { sizing: { ages: [20, 90], structures: [ventricles, skull] } } as ModelManifest;
    expect(sizeLatentCount(man)).toBe(2);
    expect(sizeLatentCount({} as ModelManifest)).toBe(1);
    const l = drawLatents(42, 8, 3);
    expect([...(l.sizeLatents ?? [])]).toEqual([...normals(42, 12).subarray(9, 12)]);
    expect(l.zSize).toBe(l.sizeLatents?.[0]);
    expect([...l.z]).toEqual([...drawLatents(42, 8).z]);
  });

  it('reads the legacy horns block as one structure (and prefers sizing)', () => {
    const horns = { ages: [20, 90], factor: { female: [3, 3], male: [1, 1] }, adFactor: 2 };
    const legacy = sizingParams({ horns } as ModelManifest);
    expect(legacy?.structures.map((s) => s.region)).toEqual(['inf-lat-ventricles']);
    const a = toyHorns();
    const b = toyHorns();
    applySizing(toyModel(TOY, { horns }), a, cond());
    applySizing(toyModel(TOY, { sizing: params([HORNS], [3]) }), b, cond());
    expect(a).toEqual(b);
    const both = sizingParams({ horns, sizing: params([HORNS], [1]) } as ModelManifest);
    expect(both?.structures[0].factor.female).toEqual([1, 1]);
    expect(sizingParams({} as ModelManifest)).toBeUndefined();
  });
});

/**
 * The rule of MODEL_FORMAT.md §3, 7c, written plainly: each layer found by scanning the whole
 * grid (labels as before the layer), a partial layer by flat order or the smooth order. The
 * engine's step 7c keeps per-label voxel lists and finds each layer from the one before; this
 * is what it must equal, voxel for voxel.
 */
function referenceSizing(
  shape: Shape,
  labels: Int32Array,
  structures: { labels: { value: number; partners: number[] }[]; smooth: boolean; f: number }[],
): void {
  const [nx, ny, nz] = shape;
  const nbrs = (i: number): number[] => {
    const x = i % nx;
    const y = Math.floor(i / nx) % ny;
    const z = Math.floor(i / (nx * ny));
    const out: number[] = [];
    if (x > 0) out.push(i - 1);
    if (x < nx - 1) out.push(i + 1);
    if (y > 0) out.push(i - nx);
    if (y < ny - 1) out.push(i + nx);
    if (z > 0) out.push(i - nx * ny);
    if (z < nz - 1) out.push(i + nx * ny);
    return out;
  };
  for (const s of structures) {
    for (const e of s.labels) {
      const l = index(e.value);
      const partner = new Set(e.partners.map(index).filter((p) => p !== l));
      const n = labels.filter((v) => v === l).length;
      const m = Math.floor(n * s.f + 0.5);
      let c = n;
      if (n === 0 || m === n) continue;
      const grow = m > n;
      while (c !== m) {
        const layer: number[] = [];
        const to: number[] = [];
        for (let i = 0; i < labels.length; i++) {
          if (grow && partner.has(labels[i]) && nbrs(i).some((j) => labels[j] === l)) {
            layer.push(i);
            to.push(l);
          }
          if (!grow && labels[i] === l) {
            const j = nbrs(i).find((q) => partner.has(labels[q]));
            if (j !== undefined) {
              layer.push(i);
              to.push(labels[j]);
            }
          }
        }
        if (layer.length === 0) break;
        const take = Math.min(layer.length, Math.abs(m - c));
        let order = layer.map((_, k) => k);
        if (take < layer.length) {
          if (s.smooth) {
            const hit = (q: number) => (grow ? labels[q] === l : partner.has(labels[q]));
            const nb = layer.map((i) => nbrs(i).filter(hit).length);
            order.sort((a, b) => nb[b] - nb[a] || priority(layer[a]) - priority(layer[b]));
          } else if (!grow) order = order.reverse();
        }
        const chosen = order.slice(0, take);
        for (const k of chosen) labels[layer[k]] = to[k];
        c += grow ? take : -take;
      }
    }
  }
}

describe('step 7c against the plain rule', () => {
  it('equals the whole-grid-scan reference on random blobs, at the grid faces, across structures', () => {
    const shape: Shape = [14, 12, 10];
    // a seeded stream of uniforms
    const u = normals(20261207, 4000).map((z) => 0.5 + 0.5 * Math.tanh(z));
    let k = 0;
    const next = () => u[k++ % u.length];
    let changed = 0;
    for (let trial = 0; trial < 12; trial++) {
      // blobs of WM (2), cortex (3), horn (5), CSF (24), hippocampus (17) reaching the faces
      const centres = Array.from({ length: 7 }, () => [next() * 14, next() * 12, next() * 10]);
      const kinds = [2, 3, 3, 24, 5, 17, 2];
      const labels = volume(shape, (x, y, z) => {
        let best = 0;
        let dBest = 9 + 6 * (trial % 3);
        centres.forEach((c, j) => {
          const d = (x - c[0]) ** 2 + (y - c[1]) ** 2 + 1.5 * (z - c[2]) ** 2;
          if (d < dBest) {
            dBest = d;
            best = kinds[j];
          }
        });
        return best;
      });
      const f = [0.6 + next(), 0.5 + 1.5 * next(), 0.7 + 0.6 * next(), 0.7 + 0.6 * next()];
      const structures = [
        { region: 'hippocampus', labels: [{ value: 17, partners: [24, 5] }], smooth: false },
        { region: 'inf-lat-ventricles', labels: [{ value: 5, partners: [2] }], smooth: false },
        { region: 'cerebral-wm', labels: [{ value: 2, partners: [3] }], smooth: true },
        { region: 'cortex', labels: [{ value: 3, partners: [24] }], smooth: true },
      ];
      const model = toyModel(shape, {
        sizing: params(
          structures.map(({ smooth, ...s }) => ({
            ...s,
            ...(smooth ? { partialLayer: 'smooth' as const } : {}),
          })),
          f,
        ),
      });
      const before = labels.slice();
      const want = labels.slice();
      referenceSizing(
        shape,
        want,
        structures.map((s, j) => ({ ...s, f: f[j] })),
      );
      applySizing(model, labels, cond());
      expect(labels).toEqual(want);
      changed += labels.filter((l, i) => l !== before[i]).length;
    }
    // the trials move voxels (not a comparison of unchanged maps)
    expect(changed).toBeGreaterThan(500);
  });
});

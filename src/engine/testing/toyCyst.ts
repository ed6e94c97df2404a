/**
 * A toy pathology, written the way a new module is (pathologies/README.md): one file holding
 * the module, its conditions-schema fragment and its label. A round "cyst" (label 790) of
 * radius `toyCystRadiusMm` at a random brain position: the position is the plan (drawn from the
 * seed), the drawing is deterministic. It also adds a gain term (enlarged ventricles ∝ radius)
 * and a student feature, so every hook of the registry is exercised. Used only by tests.
 */
import { isIntracranialValue } from '../model/labelRanges';
import type { Vec3 } from '../model/manifest';
import type { PathologyModule, PathologyPlan } from '../pathologies/types';
import { mulberry32 } from '../rng';
import type { SyntheticPathology } from './syntheticModel';

export const TOY_CYST_LABEL = 790;
/** Ventricle gain per mm of cyst radius. */
export const TOY_CYST_GAIN_PER_MM = 0.1;

export interface ToyCystPlan extends PathologyPlan {
  pathology: 'toy-cyst';
  centreMm: Vec3;
  radiusMm: number;
}

/** What the toy brings besides its code: schema fragment and label (for the synthetic model). */
export const toyCystModelParts: SyntheticPathology = {
  id: 'toy-cyst',
  schemaFragment: {
    properties: {
      toyCystRadiusMm: {
        title: 'Cyst radius',
        type: 'number',
        minimum: 2,
        maximum: 10,
        default: 4,
        'x-unit': 'mm',
        'x-showWhen': { pathology: 'toy-cyst' },
      },
    },
  },
  labels: [
    { value: TOY_CYST_LABEL, name: 'Toy-cyst', rgb: [0, 0, 255], appearance: [0.1, 1, 0.1] },
  ],
};

const radiusOf = (c: { readonly [name: string]: unknown }): number => {
  const r = c.toyCystRadiusMm;
  if (typeof r !== 'number') throw new Error('toy-cyst needs toyCystRadiusMm');
  return r;
};

export const toyCyst: PathologyModule<ToyCystPlan> = {
  id: 'toy-cyst',
  labels: [TOY_CYST_LABEL],
  gains(manifest, c, g) {
    const r = manifest.regions.findIndex((reg) => reg.name === 'lateral-ventricles');
    if (r >= 0) g[r] += TOY_CYST_GAIN_PER_MM * radiusOf(c);
  },
  plan(model, c, seed) {
    // The only randomness: a centre uniformly in the central box of half the grid extent.
    const rng = mulberry32(seed ^ 0x70c7);
    const g = model.grid;
    const centreMm = [0, 1, 2].map((a) => {
      const half = ((g.shape[a] - 1) * g.spacing[a]) / 2;
      const mid = g.origin[a] + half;
      return mid + (rng() - 0.5) * half;
    }) as Vec3;
    return { pathology: 'toy-cyst', centreMm, radiusMm: radiusOf(c) };
  },
  async draw(ctx, plan) {
    const labels = await ctx.labels();
    const { grid, labels: table, manifest } = ctx.model;
    const cyst = table.indexOfValue.get(TOY_CYST_LABEL);
    if (cyst === undefined) throw new Error(`The model has no label ${TOY_CYST_LABEL}`);
    const [nx, ny] = grid.shape;
    let voxels = 0;
    for (let v = 0; v < grid.count; v++) {
      const p = [v % nx, Math.floor(v / nx) % ny, Math.floor(v / (nx * ny))].map(
        (i, a) => grid.origin[a] + grid.spacing[a] * i - plan.centreMm[a],
      );
      // Only intracranial tissue becomes cyst (not scalp, not background).
      if (Math.hypot(p[0], p[1], p[2]) > plan.radiusMm) continue;
      if (!isIntracranialValue(manifest, table.values[labels[v]])) continue;
      labels[v] = cyst;
      voxels++;
    }
    return { type: 'toy-cyst', centreMm: plan.centreMm, cystMl: voxels * grid.voxelMl };
  },
  studentFeatures: { toyCystRadiusMm: radiusOf },
};

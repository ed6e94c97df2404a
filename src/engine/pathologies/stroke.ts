/**
 * Chronic stroke (MODEL_FORMAT.md §4), in plain JS on the downloaded label map (a sort over
 * the territory's voxels; not tensor work).
 *
 * The territory code of each output voxel is read from the `territories` atlas at its template
 * position p (nearest neighbour, the same mapping as the labels). Choices where the spec is
 * open: the territory's centroid is the mean world position of all output voxels carrying the
 * code; the infarct is the round(f·n) candidates (group `cortex` or `wm`, n of them) closest to
 * that centroid (ties at the boundary radius are all included). No randomness: the plan is the
 * territory, side and fraction of the conditions. Gains: the ex-vacuo enlargement of the lateral
 * ventricles, g += exVacuoGain · strokeSize.
 */
import type { Model } from '../model/loadModel';
import { groupMask, PATHOLOGY_LABELS, requireLabelIndex } from '../model/labelTable';
import type { StrokeSide, StrokeTerritory } from '../types';
import type { PathologyModule, PathologyPlan } from './types';

export interface StrokePlan extends PathologyPlan {
  pathology: 'stroke';
  territory: StrokeTerritory;
  side: StrokeSide;
  /** Fraction of the territory's cortex + white matter that becomes infarct. */
  fraction: number;
}

export interface StrokeResult {
  territory: string;
  territoryCode: number;
  territoryTissueMl: number;
  infarctMl: number;
  radiusMm: number;
  note?: string;
}

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

export function drawStroke(
  model: Model,
  labels: Int32Array,
  templateIndex: Int32Array,
  territory: string,
  side: string,
  fraction: number,
): StrokeResult {
  const spec = model.manifest.pathology.stroke;
  if (!spec)
    throw new Error(`Model ${model.manifest.id} has no stroke parameters (pathology.stroke)`);
  const key = `${territory}-${side}`;
  const code = spec.territoryCodes[key];
  if (code === undefined) throw new Error(`Model ${model.manifest.id} has no territory '${key}'`);
  const infarct = requireLabelIndex(model.labels, PATHOLOGY_LABELS.infarct, 'chronic infarct');
  const codes = territoryPerVoxel(model, templateIndex);
  const tissue = groupMask(model.labels, 'cortex', 'wm');
  const g = model.grid;
  const [nx, ny] = g.shape;
  const pos = (v: number): [number, number, number] => [
    g.origin[0] + g.spacing[0] * (v % nx),
    g.origin[1] + g.spacing[1] * (Math.floor(v / nx) % ny),
    g.origin[2] + g.spacing[2] * Math.floor(v / (nx * ny)),
  ];

  let count = 0;
  const centroid = [0, 0, 0];
  const candidates: number[] = [];
  for (let v = 0; v < g.count; v++) {
    if (codes[v] !== code) continue;
    const p = pos(v);
    centroid[0] += p[0];
    centroid[1] += p[1];
    centroid[2] += p[2];
    count++;
    if (tissue[labels[v]]) candidates.push(v);
  }
  const result: StrokeResult = {
    territory: key,
    territoryCode: code,
    territoryTissueMl: candidates.length * g.voxelMl,
    infarctMl: 0,
    radiusMm: 0,
  };
  if (candidates.length === 0) {
    result.note = 'the territory holds no cortex or white matter in this anatomy: no infarct drawn';
    return result;
  }
  for (let a = 0; a < 3; a++) centroid[a] /= count;
  const dist = new Float64Array(candidates.length);
  candidates.forEach((v, i) => {
    const p = pos(v);
    dist[i] = Math.hypot(p[0] - centroid[0], p[1] - centroid[1], p[2] - centroid[2]);
  });
  const m = Math.max(1, Math.round(fraction * candidates.length));
  const radius = Float64Array.from(dist).sort()[m - 1];
  let relabelled = 0;
  candidates.forEach((v, i) => {
    if (dist[i] <= radius) {
      labels[v] = infarct;
      relabelled++;
    }
  });
  result.infarctMl = relabelled * g.voxelMl;
  result.radiusMm = radius;
  return result;
}

export const stroke: PathologyModule<StrokePlan> = {
  id: 'stroke',
  labels: [PATHOLOGY_LABELS.infarct],
  manifestProblems(m) {
    if (!m.pathology.stroke) return [];
    const p: string[] = [];
    if (!m.arrays.territories) p.push('pathology.stroke needs arrays.territories');
    if (!m.labels.some((l) => l.value === PATHOLOGY_LABELS.infarct))
      p.push(`pathology.stroke needs label ${PATHOLOGY_LABELS.infarct} in labels`);
    return p;
  },
  gains(manifest, c, g) {
    const spec = manifest.pathology.stroke;
    if (!spec) throw new Error(`Model ${manifest.id} has no stroke parameters (pathology.stroke)`);
    const r = manifest.regions.findIndex((reg) => reg.name === 'lateral-ventricles');
    // A model without a lateral-ventricle region simply gets no ex-vacuo enlargement.
    if (r >= 0) g[r] += spec.exVacuoGain * (c.strokeSize ?? 0);
  },
  plan: (_model, c) => ({
    pathology: 'stroke',
    territory: c.strokeTerritory ?? 'MCA',
    side: c.strokeSide ?? 'left',
    fraction: c.strokeSize ?? 0.4,
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
    );
    return { type: 'stroke', fraction: plan.fraction, ...st };
  },
  studentFeatures: { strokeSize: (c) => c.strokeSize ?? 0 },
};

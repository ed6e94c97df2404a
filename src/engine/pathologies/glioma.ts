/**
 * Glioma (docs/MODEL_FORMAT.md §4): a mass effect on the output→template mapping (step 6,
 * `massEffect` in sampler/anatomy.ts), then labels drawn in output space after the mass-effected
 * anatomy: r ≤ necrosisFraction·R → 711 (necrotic core); r ≤ R → 712 (enhancing rim);
 * r ≤ oedemaFactor·R and the voxel's label group is `wm` → 713 (oedema). tfjs ops, per voxel.
 * No randomness: the plan is the centre and radius of the conditions.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Model } from '../model/loadModel';
import { groupMask, PATHOLOGY_LABELS, requireLabelIndex } from '../model/labelTable';
import type { Vec3 } from '../model/manifest';
import { getModelTensors } from '../sampler/modelTensors';
import type { PathologyModule, PathologyPlan } from './types';

export interface GliomaParams {
  centreMm: Vec3;
  radiusMm: number;
}

export interface GliomaPlan extends PathologyPlan, GliomaParams {
  pathology: 'glioma';
}

function gliomaSpec(model: Model) {
  const spec = model.manifest.pathology.glioma;
  if (!spec)
    throw new Error(`Model ${model.manifest.id} has no glioma parameters (pathology.glioma)`);
  return spec;
}

export function drawGliomaLabels(
  model: Model,
  labelIndex: tf.Tensor1D,
  g: GliomaParams,
): tf.Tensor1D {
  const spec = gliomaSpec(model);
  const core = requireLabelIndex(model.labels, PATHOLOGY_LABELS.necroticCore, 'glioma core');
  const rim = requireLabelIndex(model.labels, PATHOLOGY_LABELS.enhancingRim, 'glioma rim');
  const oedema = requireLabelIndex(model.labels, PATHOLOGY_LABELS.oedema, 'glioma oedema');
  const coords = getModelTensors(model).outputCoords;
  return tf.tidy(() => {
    const d2 = coords.map((x, a) => tf.square(tf.sub(x, g.centreMm[a])));
    const r = tf.sqrt(tf.add(tf.add(d2[0], d2[1]), d2[2]));
    const R = g.radiusMm;
    const isWm = tf.equal(
      tf.gather(tf.tensor1d(groupMask(model.labels, 'wm'), 'int32'), labelIndex),
      1,
    );
    const fill = (v: number) => tf.fill(labelIndex.shape, v, 'int32');
    const oedemaOrAnatomy = tf.where(
      tf.logicalAnd(tf.lessEqual(r, spec.oedemaFactor * R), isWm),
      fill(oedema),
      labelIndex,
    );
    const tumour = tf.where(tf.lessEqual(r, R), fill(rim), oedemaOrAnatomy);
    return tf.where(tf.lessEqual(r, spec.necrosisFraction * R), fill(core), tumour) as tf.Tensor1D;
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
  plan: (_model, c) => ({
    pathology: 'glioma',
    centreMm: [c.gliomaCenterXMm ?? 0, c.gliomaCenterYMm ?? 0, c.gliomaCenterZMm ?? 0],
    radiusMm: c.gliomaRadiusMm ?? 15,
  }),
  deform: (model, plan) => ({
    centreMm: plan.centreMm,
    radiusMm: plan.radiusMm,
    decayMm: gliomaSpec(model).massEffectDecayMm,
  }),
  draw(ctx, plan) {
    const params = { centreMm: plan.centreMm, radiusMm: plan.radiusMm };
    ctx.setLabelTensor(drawGliomaLabels(ctx.model, ctx.labelTensor(), params));
    return { type: 'glioma', ...params };
  },
};

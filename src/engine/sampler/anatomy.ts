/**
 * The anatomy sampler, MODEL_FORMAT.md §3 steps 3–7, in tfjs ops:
 * velocity (one matMul) → scaling and squaring → output→template mapping (global ICV scale,
 * optional glioma mass effect) → nearest-neighbour template labels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Model } from '../model/loadModel';
import type { Grid } from '../model/grid';
import type { Vec3 } from '../model/manifest';
import { nearestFlatIndex, trilinear } from './interpolate';
import { getModelTensors } from './modelTensors';

export const SQUARING_STEPS = 6;

export interface MassEffect {
  centreMm: Vec3;
  radiusMm: number;
  decayMm: number;
}

export interface AnatomyTensors {
  /** Label index per output voxel, int32 [N] (x fastest). */
  labelIndex: tf.Tensor1D;
  /** Flat template voxel each output voxel maps to (nearest neighbour), or N when outside. */
  templateIndex: tf.Tensor1D;
}

/** Step 3: v = Σ z_k σ_k PC_k + Σ g_r B_r, as one [1, K+R] × [K+R, 3·Nv] matMul → [3, Nv]. */
export function velocityField(basis: tf.Tensor2D, coefficients: Float32Array, nv: number): tf.Tensor2D {
  return tf.tidy(() => {
    const row = tf.tensor2d(coefficients, [1, coefficients.length]);
    return tf.reshape(tf.matMul(row, basis), [3, nv]);
  });
}

/** Step 4: displacement u = exp(v) by scaling and squaring: u ← u + T(u, x + u), N times. */
export function expVelocity(v: tf.Tensor2D, grid: Grid, coords: tf.Tensor2D, steps = SQUARING_STEPS): tf.Tensor2D {
  let u: tf.Tensor2D = tf.div(v, 2 ** steps);
  for (let s = 0; s < steps; s++) {
    const next = tf.tidy(() => tf.add(u, trilinear(u, grid, tf.add(coords, u) as tf.Tensor2D)) as tf.Tensor2D);
    u.dispose();
    u = next;
  }
  return u;
}

/**
 * §4 glioma mass effect M(x) on world points [3, N]: with r = |x − c0|,
 * r_src = cbrt(max(r³ − R³, 0)), w = exp(−max(r − R, 0)/decay),
 * M(x) = c0 + (x − c0)/r · (w·r_src + (1 − w)·r). Inside the tumour r_src = 0 and w = 1, so
 * M(x) = c0; at r = 0 the factor is 0/ε = 0, again c0 — no special case needed.
 */
export function massEffect(x: tf.Tensor2D, m: MassEffect): tf.Tensor2D {
  return tf.tidy(() => {
    const c0 = tf.tensor2d(m.centreMm, [3, 1]);
    const d = tf.sub(x, c0);
    const r = tf.sqrt(tf.sum(tf.square(d), 0));
    const R = m.radiusMm;
    const rSrc = tf.pow(tf.relu(tf.sub(tf.pow(r, 3), R ** 3)), 1 / 3);
    const w = tf.exp(tf.div(tf.neg(tf.relu(tf.sub(r, R))), m.decayMm));
    const newR = tf.add(tf.mul(w, rSrc), tf.mul(tf.sub(1, w), r));
    const factor = tf.div(newR, tf.maximum(r, 1e-6));
    return tf.add(c0, tf.mul(d, factor)) as tf.Tensor2D;
  });
}

/**
 * Steps 3–7. `scale` is k of step 5. Returns int32 tensors the caller must dispose.
 */
export function sampleAnatomyTensors(
  model: Model,
  coefficients: Float32Array,
  scale: number,
  mass?: MassEffect,
): AnatomyTensors {
  const t = getModelTensors(model);
  const vgrid = model.velocityGrid;
  const u = tf.tidy(() => expVelocity(velocityField(t.basis, coefficients, vgrid.count), vgrid, t.velocityCoords));
  try {
    const templateIndex = tf.tidy(() => {
      const centre = tf.tensor2d(model.manifest.calibration.gridCentreMm, [3, 1]);
      const x = mass ? massEffect(t.outputCoords, mass) : t.outputCoords;
      // Step 6b: x' = C + (x − C)/k (same operation order as the Python reference).
      const xp = tf.add(centre, tf.div(tf.sub(x, centre), tf.scalar(scale))) as tf.Tensor2D;
      // Step 6c: p = x' + T(u, x').
      const p = tf.add(xp, trilinear(u, vgrid, xp)) as tf.Tensor2D;
      return nearestFlatIndex(model.grid, p);
    });
    const labelIndex = tf.gather(t.templatePadded, templateIndex) as tf.Tensor1D;
    return { labelIndex, templateIndex };
  } finally {
    u.dispose();
  }
}

/** Steps 1, 2 and 5 of MODEL_FORMAT.md §3: latents, gains, global (ICV) scale. Plain numbers. */
import type { ModelManifest } from '../model/manifest';
import { pathologyModule } from '../pathologies/registry';
import { normals } from '../rng';
import type { Conditions } from '../types';

export interface Latents {
  /** Shape latents z[0..K-1]. */
  z: Float64Array;
  /** ICV latent. */
  zIcv: number;
  /** Size latent of step 7c (the ventricles' individual size); absent: 0 (the mean individual). */
  zSize?: number;
  /**
   * Every size latent step 7c reads (MODEL_FORMAT.md §3, 7c: latent j is the (j+1)-th normal
   * after z_icv; 0 = zSize, the ventricles', 1 the skull's thickness, 2 the scalp's); absent or
   * shorter: the missing ones are 0.
   */
  sizeLatents?: Float64Array;
}

/** How many size latents step 7c reads: 1 + the largest `latent` of its structures. */
export function sizeLatentCount(manifest: ModelManifest): number {
  let n = 1;
  for (const s of manifest.sizing?.structures ?? []) n = Math.max(n, (s.latent ?? 0) + 1);
  return n;
}

/** z[0..K-1], z_icv, then the size latents (`sizeLatents` of them, at least 1) from `seed`. */
export function drawLatents(seed: number, components: number, sizeLatents = 1): Latents {
  const n = Math.max(1, sizeLatents);
  const all = normals(seed, components + 1 + n);
  return {
    z: all.subarray(0, components),
    zIcv: all[components],
    zSize: all[components + 1],
    sizeLatents: all.subarray(components + 1, components + 1 + n),
  };
}

/** Linear interpolation of the per-age gain rows (clamped to the table's age range). */
export function interpAge(ages: number[], rows: number[][], age: number): Float64Array {
  const R = rows[0]?.length ?? 0;
  const out = new Float64Array(R);
  if (ages.length === 0) return out;
  let i = 0;
  if (age <= ages[0]) {
    out.set(rows[0]);
    return out;
  }
  if (age >= ages[ages.length - 1]) {
    out.set(rows[ages.length - 1]);
    return out;
  }
  while (ages[i + 1] < age) i++;
  const t = (age - ages[i]) / (ages[i + 1] - ages[i]);
  for (let r = 0; r < R; r++) out[r] = rows[i][r] * (1 - t) + rows[i + 1][r] * t;
  return out;
}

/** Step 2: calibrated age/sex gains plus the terms of the conditions' pathology module. */
export function gainsFor(manifest: ModelManifest, c: Conditions): Float64Array {
  const cal = manifest.calibration;
  const g = interpAge(cal.ages, cal.gains[c.sex], c.age);
  pathologyModule(c.pathology).gains?.(manifest, c, g);
  return g;
}

/** Coefficients of the velocity matMul: [z_k·sigma_k for k < K, g_r for r < R]. */
export function velocityCoefficients(
  manifest: ModelManifest,
  latents: Latents,
  gains: Float64Array,
): Float32Array {
  const K = manifest.shapeModel.components;
  const out = new Float32Array(K + gains.length);
  for (let k = 0; k < K; k++) out[k] = latents.z[k] * manifest.shapeModel.sigma[k];
  out.set(gains, K);
  return out;
}

/** Step 5: k = (icvMl[sex]·exp(icvLogSd·z_icv) / templateIcvMl)^(1/3). */
export function icvScale(manifest: ModelManifest, c: Conditions, zIcv: number): number {
  const cal = manifest.calibration;
  const icv = cal.icvMl[c.sex] * Math.exp(cal.icvLogSd * zIcv);
  return Math.pow(icv / cal.templateIcvMl, 1 / 3);
}

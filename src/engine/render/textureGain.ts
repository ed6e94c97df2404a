/**
 * The subject's texture gain (docs/MODEL_FORMAT.md §5 step 1, model ≥ 1.11.0): every label's SD
 * is multiplied by g = exp(perDecade·(age − 45)/10 + logSd·e + offset), e the first unit normal
 * of seed stream s + 7 — the real scans' fine-scale residual grows with age and varies between people
 * more than anatomy and seed make it vary. One definition for every render path (contrast.ts);
 * the teacher's is brainsynth/teacher/render.py `texture_gain`.
 */
import type { Model } from '../model/loadModel';
import { normals, streamSeed } from '../rng';

/** g for `age` and `seed` (float64); 1 for a model without `appearance.textureGain`. */
export function textureGainOf(
  app: Pick<Model['manifest']['appearance'], 'textureGain'>,
  age: number,
  seed: number,
): number {
  const spec = app.textureGain;
  if (!spec) return 1;
  const e = spec.logSd > 0 ? normals(streamSeed(seed, 7), 2)[0] : 0;
  return Math.exp((spec.perDecade * (age - 45)) / 10 + spec.logSd * e + spec.offset);
}

/** `sd` times the gain, each product rounded to float32 (sd · float32(g)). */
export function scaledSds(sd: ArrayLike<number>, gain: number): Float32Array {
  const out = Float32Array.from(sd);
  if (gain === 1) return out;
  const g = Math.fround(gain);
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i] * g);
  return out;
}

/**
 * Step 4b (MODEL_FORMAT.md §3): the individual's local displacement on the small deep
 * structures — the seed's own smooth random field, composed with step 4's displacement
 * (sampler/anatomy.ts `withLocalField`) so that it moves the finished individual. The shape model's 8 components
 * on a 6 mm grid do not span how differently people's hippocampi, deep nuclei and cerebella are
 * shaped and placed; the field, with amplitudes fitted to the real between-subject Dice
 * (brainsynth/pipeline/local_field.py), does. Same numbers as `brainsynth.anatomy.local_field`
 * (its blur sums in float64, so the two agree within float32 rounding).
 */
import type { Model } from '../model/loadModel';
import { blur3dArray, smoothedNoiseStd } from '../kernels/blur';
import { divergenceFree } from '../kernels/poisson';
import { normalsF32, streamSeed } from '../rng';

/** The field's normals: stream s + 8. */
export const LOCAL_FIELD_STREAM = 8;

/** Fields of the last few seeds per model (a kept subject reuses its own). */
const MAX_CACHED = 4;
const cache = new WeakMap<Model, Map<number, Float32Array>>();

/**
 * The local displacement of `seed` (mm), [3, Nv] as component planes (x, y, z; x fastest within a
 * plane), or null for a model without one. Per component c: the normals of stream s + 8 from
 * c·Nv, blurred on the velocity grid by the Gaussian of `localField.sigmaNodes` (the renderer's
 * kernel, zero padding), divided by the blurred noise's exact std and multiplied by the mask
 * (mm per node), each step rounded to float32; with `projection: 'divergence-free'`, then its
 * divergence-free part (kernels/poisson.ts).
 */
export function localField(model: Model, seed: number): Float32Array | null {
  const spec = model.manifest.shapeModel.localField;
  const mask = model.arrays.localFieldMask;
  if (!spec || !mask) return null;
  let perModel = cache.get(model);
  const hit = perModel?.get(seed);
  if (hit) return hit;
  const grid = model.velocityGrid;
  const nv = grid.count;
  const sigma = spec.sigmaNodes;
  const noise = normalsF32(streamSeed(seed, LOCAL_FIELD_STREAM), 3 * nv);
  const norm = Math.fround(smoothedNoiseStd(sigma));
  let out: Float32Array = new Float32Array(3 * nv);
  for (let c = 0; c < 3; c++) {
    const plane = blur3dArray(noise.subarray(c * nv, (c + 1) * nv), grid.shape, sigma);
    const o = c * nv;
    for (let i = 0; i < nv; i++) out[o + i] = Math.fround(plane[i] / norm) * mask[i];
  }
  // software >= 0.4.4: the field's divergence projected out (it then changes no volume)
  if (spec.projection === 'divergence-free') out = divergenceFree(out, grid.shape);
  if (!perModel) cache.set(model, (perModel = new Map()));
  if (perModel.size >= MAX_CACHED) perModel.delete(perModel.keys().next().value as number);
  perModel.set(seed, out);
  return out;
}

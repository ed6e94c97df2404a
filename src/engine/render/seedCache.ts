/**
 * The fields of contrast rendering (MODEL_FORMAT.md §5) that depend only on the seed, not on the
 * conditions: smoothed unit texture noise (stream s+1), the bias-field gain exp(strength·P)
 * (stream s+2), and the two Rician noise volumes (s+3, s+4). Kept for the last `MAX_SEEDS` seeds
 * per model (LRU), so that changing a condition for a kept subject skips 3.6 M normal draws and
 * a 3-D blur. Memory: 4 float32 volumes per seed (≈ 19 MB at 2 mm).
 *
 * Same float32 operation order as the tfjs path of render/contrast.ts (`blur3d`, `biasPolynomial`).
 */
import type { Model } from '../model/loadModel';
import { normalsF32, streamSeed } from '../rng';
import { blur3dArray, smoothedNoiseStd } from '../kernels/blur';
import { biasPlanes } from './bias';

export interface SeedFields {
  seed: number;
  /** Unit-variance smoothed texture noise. */
  texture: Float32Array;
  /** exp(biasFieldStrength · P) per voxel. */
  bias: Float32Array;
  noiseReal: Float32Array;
  noiseImag: Float32Array;
}

export const MAX_SEEDS = 2;

const caches = new WeakMap<Model, SeedFields[]>();

export function seedFields(model: Model, seed: number): SeedFields {
  let list = caches.get(model);
  if (!list) caches.set(model, (list = []));
  const at = list.findIndex((e) => e.seed === seed);
  if (at >= 0) {
    const [hit] = list.splice(at, 1);
    list.unshift(hit);
    return hit;
  }
  const fields = computeSeedFields(model, seed);
  list.unshift(fields);
  list.length = Math.min(list.length, MAX_SEEDS);
  return fields;
}

/** Drop the cached fields of `model` (e.g. when the subject is no longer kept). */
export function clearSeedFields(model: Model): void {
  caches.delete(model);
}

/** Seeds currently cached for `model`, most recent first (tests). */
export function cachedSeeds(model: Model): number[] {
  return (caches.get(model) ?? []).map((e) => e.seed);
}

/**
 * The texture field (MODEL_FORMAT.md §5 step 1): with `appearance.texture` {white, smooth,
 * sigmaVoxels}, white·n + smooth·(G_σ ∗ n)/std_σ (fitted to the real WM texture); otherwise the
 * first model's (G_σ ∗ n)/std_σ with σ = textureSigmaVoxels. n: normals of stream s+1.
 */
export function textureField(model: Model, seed: number): Float32Array {
  const app = model.manifest.appearance;
  const n = model.grid.count;
  const f = Math.fround;
  const noise = normalsF32(streamSeed(seed, 1), n);
  const spec = app.texture;
  const sigma = spec ? spec.sigmaVoxels : app.textureSigmaVoxels;
  const texture = blur3dArray(noise, model.grid.shape, sigma);
  const std = f(smoothedNoiseStd(sigma));
  if (!spec) {
    for (let i = 0; i < n; i++) texture[i] = texture[i] / std;
    return texture;
  }
  const white = f(spec.white);
  const smooth = f(spec.smooth);
  for (let i = 0; i < n; i++) texture[i] = f(white * noise[i]) + f(smooth * f(texture[i] / std));
  return texture;
}

function computeSeedFields(model: Model, seed: number): SeedFields {
  const n = model.grid.count;
  const texture = textureField(model, seed);
  return {
    seed,
    texture,
    bias: biasGain(model, seed),
    noiseReal: normalsF32(streamSeed(seed, 3), n),
    noiseImag: normalsF32(streamSeed(seed, 4), n),
  };
}

/** exp(strength · P) with P the bias polynomial of `biasPolynomial` (same float32 steps). */
function biasGain(model: Model, seed: number): Float32Array {
  const [nx, ny, nz] = model.grid.shape;
  const f = Math.fround;
  const { c, zs, A, B } = biasPlanes(model, seed);
  const c6 = f(c[6]);
  const plane = nx * ny;
  const strength = f(model.manifest.appearance.biasFieldStrength);
  const out = new Float32Array(model.grid.count);
  for (let k = 0; k < nz; k++) {
    const z0 = zs[k];
    const z1 = f(zs[k] * zs[k]);
    const o = k * plane;
    for (let s = 0; s < plane; s++) {
      const p = f(f(z0 * B[s] + z1 * c6) + A[s]);
      out[o + s] = Math.exp(f(p * strength));
    }
  }
  return out;
}

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
import type { ModelManifest } from '../model/manifest';
import { normalsF32, normalsF32Range, streamSeed } from '../rng';
import { blur3dArray, smoothedNoiseStd } from '../kernels/blur';
import { biasMeanOf, biasPlanesOf, radialTermOf } from './bias';

/**
 * What the seed-only fields depend on besides the seed, as plain (cloneable) data: the grid shape
 * and the appearance parameters. The seed helper worker (render/seedHelper.ts) computes the same
 * fields from it.
 */
export interface SeedFieldSpec {
  shape: [number, number, number];
  appearance: Pick<
    ModelManifest['appearance'],
    'texture' | 'textureSigmaVoxels' | 'biasFieldStrength' | 'biasMean'
  >;
}

export function seedFieldSpec(model: Model): SeedFieldSpec {
  const app = model.manifest.appearance;
  const [nx, ny, nz] = model.grid.shape;
  return {
    shape: [nx, ny, nz],
    appearance: {
      texture: app.texture,
      textureSigmaVoxels: app.textureSigmaVoxels,
      biasFieldStrength: app.biasFieldStrength,
      biasMean: app.biasMean,
    },
  };
}

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
  const fields = computeSeedFields(seedFieldSpec(model), seed);
  list.unshift(fields);
  list.length = Math.min(list.length, MAX_SEEDS);
  return fields;
}

/** Whether `seed`'s fields are cached for `model` (no LRU change). */
export function hasSeedFields(model: Model, seed: number): boolean {
  return (caches.get(model) ?? []).some((e) => e.seed === seed);
}

/**
 * Add fields computed elsewhere (the seed helper worker) as the most recent entry; a seed
 * already cached keeps its entry. The arrays must have the model's voxel count.
 */
export function insertSeedFields(model: Model, fields: SeedFields): void {
  const n = model.grid.count;
  const arrays = [fields.texture, fields.bias, fields.noiseReal, fields.noiseImag];
  if (arrays.some((a) => a.length !== n)) throw new Error('insertSeedFields: wrong voxel count');
  let list = caches.get(model);
  if (!list) caches.set(model, (list = []));
  if (list.some((e) => e.seed === fields.seed)) return;
  list.unshift(fields);
  list.length = Math.min(list.length, MAX_SEEDS);
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
  return textureFieldOf(seedFieldSpec(model), seed);
}

function textureFieldOf(fs: SeedFieldSpec, seed: number): Float32Array {
  const app = fs.appearance;
  const shape = fs.shape;
  const n = shape[0] * shape[1] * shape[2];
  const f = Math.fround;
  const noise = normalsF32(streamSeed(seed, 1), n);
  const spec = app.texture;
  const sigma = spec ? spec.sigmaVoxels : app.textureSigmaVoxels;
  if (spec && spec.coarseFactor === 2) {
    // the smooth part on the half-resolution grid (its own normals, stream s+5), back by
    // linear interpolation: 1/8 of the draws and of the blur's work
    const cs = coarseShape(shape);
    const coarse = blur3dArray(
      normalsF32(streamSeed(seed, 5), cs[0] * cs[1] * cs[2]),
      cs,
      sigma / 2,
    );
    const cstd = f(smoothedNoiseStd(sigma / 2));
    for (let i = 0; i < coarse.length; i++) coarse[i] = coarse[i] / cstd;
    const up = upsample2(coarse, cs, shape);
    const white = f(spec.white);
    const smooth = f(spec.smooth);
    for (let i = 0; i < n; i++) up[i] = f(white * noise[i]) + f(smooth * up[i]);
    return up;
  }
  const texture = blur3dArray(noise, shape, sigma);
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

type Shape3 = [number, number, number];

/** The half-resolution grid: node j on fine voxel 2j; node floor(i/2)+1 exists for every i. */
export function coarseShape(shape: readonly number[]): Shape3 {
  return [((shape[0] - 1) >> 1) + 2, ((shape[1] - 1) >> 1) + 2, ((shape[2] - 1) >> 1) + 2];
}

/**
 * Linear interpolation of a coarse field (x fastest) onto the fine grid, axis by axis (x, y, z):
 * even fine voxels take node i/2, odd ones 0.5·node + 0.5·next (float32; = brainsynth.common.upsample).
 */
export function upsample2(c: Float32Array, cs: Shape3, shape: readonly number[]): Float32Array {
  const f = Math.fround;
  const [nx, ny, nz] = shape;
  const [cx, cy, cz] = cs;
  // x: [cx, cy, cz] → [nx, cy, cz]
  const a = new Float32Array(nx * cy * cz);
  for (let r = 0, rows = cy * cz; r < rows; r++) {
    const s = r * cx;
    const d = r * nx;
    for (let x = 0; x < nx; x++) {
      const q = s + (x >> 1);
      a[d + x] = x & 1 ? f(f(c[q] * 0.5) + f(c[q + 1] * 0.5)) : c[q];
    }
  }
  // y: [nx, cy, cz] → [nx, ny, cz]
  const b = new Float32Array(nx * ny * cz);
  for (let z = 0; z < cz; z++) {
    for (let y = 0; y < ny; y++) {
      const s0 = ((y >> 1) + z * cy) * nx;
      const d = (y + z * ny) * nx;
      if (y & 1) {
        const s1 = s0 + nx;
        for (let x = 0; x < nx; x++) b[d + x] = f(f(a[s0 + x] * 0.5) + f(a[s1 + x] * 0.5));
      } else {
        for (let x = 0; x < nx; x++) b[d + x] = a[s0 + x];
      }
    }
  }
  // z: [nx, ny, cz] → [nx, ny, nz]
  const plane = nx * ny;
  const out = new Float32Array(plane * nz);
  for (let z = 0; z < nz; z++) {
    const s0 = (z >> 1) * plane;
    const d = z * plane;
    if (z & 1) {
      const s1 = s0 + plane;
      for (let i = 0; i < plane; i++) out[d + i] = f(f(b[s0 + i] * 0.5) + f(b[s1 + i] * 0.5));
    } else {
      out.set(b.subarray(s0, s0 + plane), d);
    }
  }
  return out;
}

/** All four seed-only fields of `seed` (pure: the same numbers wherever it runs). */
export function computeSeedFields(spec: SeedFieldSpec, seed: number): SeedFields {
  const [nx, ny, nz] = spec.shape;
  const n = nx * ny * nz;
  const texture = textureFieldOf(spec, seed);
  return {
    seed,
    texture,
    bias: biasGain(spec, seed),
    noiseReal: normalsF32(streamSeed(seed, 3), n),
    noiseImag: normalsF32(streamSeed(seed, 4), n),
  };
}

/**
 * Where a seed's fields are computed by two threads (render/seedHelper.ts), the Rician noise is
 * shared: the helper draws noiseReal[0, realFrom), the sample's own thread noiseReal[realFrom, n)
 * and all of noiseImag. `realFrom` is even.
 */
export function noiseSplit(n: number, engineShareOfReal: number): number {
  return Math.max(0, Math.min(n, 2 * Math.round((n * (1 - engineShareOfReal)) / 2)));
}

/** The helper's part: texture, bias and noiseReal[0, realFrom); noiseImag left empty. */
export function computeSeedFieldsHelperPart(
  spec: SeedFieldSpec,
  seed: number,
  realFrom: number,
): SeedFields {
  const [nx, ny, nz] = spec.shape;
  const n = nx * ny * nz;
  return {
    seed,
    texture: textureFieldOf(spec, seed),
    bias: biasGain(spec, seed),
    noiseReal: normalsF32Range(streamSeed(seed, 3), new Float32Array(n), 0, realFrom),
    noiseImag: new Float32Array(0),
  };
}

/** The sample thread's part: noiseReal[realFrom, n) (in a full-size array) and noiseImag. */
export function computeSeedFieldsOwnPart(
  n: number,
  seed: number,
  realFrom: number,
): { noiseReal: Float32Array; noiseImag: Float32Array } {
  return {
    noiseReal: normalsF32Range(streamSeed(seed, 3), new Float32Array(n), realFrom, n),
    noiseImag: normalsF32(streamSeed(seed, 4), n),
  };
}

/**
 * exp(strength · P) with P the bias polynomial of `biasPolynomial` plus the radial term
 * (`radialTermOf`), the same float32 steps.
 */
function biasGain(spec: SeedFieldSpec, seed: number): Float32Array {
  const [nx, ny, nz] = spec.shape;
  const f = Math.fround;
  const { c, zs, A, B } = biasPlanesOf(spec.shape, seed, biasMeanOf(spec.appearance));
  const radial = radialTermOf(spec.shape, spec.appearance);
  const c6 = f(c[6]);
  const plane = nx * ny;
  const strength = f(spec.appearance.biasFieldStrength);
  const out = new Float32Array(plane * nz);
  for (let k = 0; k < nz; k++) {
    const z0 = zs[k];
    const z1 = f(zs[k] * zs[k]);
    const o = k * plane;
    for (let s = 0; s < plane; s++) {
      let p = f(f(z0 * B[s] + z1 * c6) + A[s]);
      if (radial) p = f(p + radial[o + s]);
      out[o + s] = Math.exp(f(p * strength));
    }
  }
  return out;
}

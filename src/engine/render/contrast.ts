/**
 * Contrast rendering (MODEL_FORMAT.md §5) with tfjs ops on the [nz, ny, nx] volume:
 * per-label mean/sd with smoothed texture → partial-volume blur → multiplicative bias field →
 * Rician noise. Noise comes from the spec's mulberry32 streams (s+1, s+3, s+4; bias s+2), drawn
 * in JS and uploaded, so every backend renders the same image for the same seed.
 *
 * Choices where the spec is open (documented for the Python teacher):
 * - Gaussian kernels: taps i ∈ [−r, r], r = max(1, ceil(3σ)), w_i ∝ exp(−i²/2σ²), Σw = 1,
 *   applied separably along x, y, z as conv3d with zero ('same') padding. σ = 0 → no blur.
 * - Texture renormalisation: divide by the exact std of white noise after that filter,
 *   (Σ w_i²)^(3/2), rather than by a sample std (deterministic, backend independent).
 * - Bias polynomial: coefficients c_j = normals(s+2, 10)[j] / 3 of the monomials
 *   [1, x, y, z, x², y², z², xy, xz, yz] in normalised coordinates x = 2i/(nx−1) − 1 (etc.).
 * - mean_of_wm: mean image intensity over `wm`-group voxels after the bias field (the signal
 *   the SNR refers to); if there are none, the largest label mean.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Model } from '../model/loadModel';
import { groupMask } from '../model/labelTable';
import { normals, normalsF32, streamSeed } from '../rng';
import type { Contrast } from '../types';

export function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const w = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    w[i + r] = v;
    sum += v;
  }
  for (let i = 0; i < w.length; i++) w[i] /= sum;
  return w;
}

/** Separable Gaussian blur of a [1, nz, ny, nx, 1] volume (zero padding). */
export function blur3d(vol: tf.Tensor5D, sigma: number): tf.Tensor5D {
  if (!(sigma > 0)) return tf.clone(vol);
  const w = gaussianKernel(sigma);
  const k = w.length;
  return tf.tidy(() => {
    const kz = tf.tensor5d(w, [k, 1, 1, 1, 1]);
    const ky = tf.tensor5d(w, [1, k, 1, 1, 1]);
    const kx = tf.tensor5d(w, [1, 1, k, 1, 1]);
    const a = tf.conv3d(vol, kx, 1, 'same');
    const b = tf.conv3d(a, ky, 1, 'same');
    a.dispose();
    return tf.conv3d(b, kz, 1, 'same');
  });
}

/** Std of unit white noise after the separable filter of `sigma`: (Σw²)^(3/2). */
export function smoothedNoiseStd(sigma: number): number {
  if (!(sigma > 0)) return 1;
  const w = gaussianKernel(sigma);
  const s2 = w.reduce((s, v) => s + v * v, 0);
  return Math.pow(s2, 1.5);
}

/** Per-label mean for `contrast`, with the optional age slope (T1w: mean += slope·(age−45)/10). */
export function labelMeans(model: Model, contrast: Contrast, age: number): Float32Array {
  const app = model.manifest.appearance;
  const mean = Float32Array.from(app.contrasts[contrast].mean);
  const slope = app.ageSlopePerDecade?.[contrast]?.mean;
  if (slope) for (let i = 0; i < mean.length; i++) mean[i] += (slope[i] * (age - 45)) / 10;
  return mean;
}

/** The bias polynomial P over the grid, [nz, ny, nx]. */
function biasPolynomial(model: Model, seed: number): tf.Tensor3D {
  const [nx, ny, nz] = model.grid.shape;
  const c = Array.from(normals(streamSeed(seed, 2), 10), (v) => v / 3);
  return tf.tidy(() => {
    const axis = (n: number, shape: [number, number, number]) =>
      tf.reshape(tf.sub(tf.mul(tf.range(0, n, 1, 'float32'), 2 / Math.max(n - 1, 1)), 1), shape);
    const x = axis(nx, [1, 1, nx]);
    const y = axis(ny, [1, ny, 1]);
    const z = axis(nz, [nz, 1, 1]);
    const terms: tf.Tensor[] = [
      tf.scalar(c[0]),
      tf.mul(x, c[1]),
      tf.mul(y, c[2]),
      tf.mul(z, c[3]),
      tf.mul(tf.square(x), c[4]),
      tf.mul(tf.square(y), c[5]),
      tf.mul(tf.square(z), c[6]),
      tf.mul(tf.mul(x, y), c[7]),
      tf.mul(tf.mul(x, z), c[8]),
      tf.mul(tf.mul(y, z), c[9]),
    ];
    // Broadcasting adds build the full [nz, ny, nx] field from separable pieces.
    return terms.reduce((acc, t) => tf.add(acc, t)) as tf.Tensor3D;
  });
}

/**
 * Render `contrast` for label indices [N] (int32, x fastest). Returns float32 [nz, ny, nx].
 */
export function renderContrast(
  model: Model,
  labelIndex: tf.Tensor1D,
  contrast: Contrast,
  age: number,
  seed: number,
): tf.Tensor3D {
  const app = model.manifest.appearance;
  const [nx, ny, nz] = model.grid.shape;
  const n = model.grid.count;
  const shape5: [number, number, number, number, number] = [1, nz, ny, nx, 1];
  const means = labelMeans(model, contrast, age);
  const sds = Float32Array.from(app.contrasts[contrast].sd);

  // 1. Texture: unit-variance smoothed noise.
  const textured = tf.tidy(() => {
    const noise = tf.tensor(normalsF32(streamSeed(seed, 1), n), shape5) as tf.Tensor5D;
    const tex = tf.div(blur3d(noise, app.textureSigmaVoxels), smoothedNoiseStd(app.textureSigmaVoxels));
    const mean = tf.gather(tf.tensor1d(means), labelIndex);
    const sd = tf.gather(tf.tensor1d(sds), labelIndex);
    return tf.add(tf.reshape(mean, shape5), tf.mul(tf.reshape(sd, shape5), tex)) as tf.Tensor5D;
  });
  // 2. Partial volume.
  const pv = blur3d(textured, app.partialVolumeSigmaVoxels);
  textured.dispose();
  return tf.tidy(() => {
    // 3. Bias field.
    const biased = tf.mul(tf.reshape(pv, [nz, ny, nx]), tf.exp(tf.mul(biasPolynomial(model, seed), app.biasFieldStrength)));
    pv.dispose();
    // 4. Rician noise, σ_n = mean_of_wm / snr (kept on the device: no sync).
    const wm = tf.reshape(tf.gather(tf.tensor1d(groupMask(model.labels, 'wm'), 'float32'), labelIndex), [nz, ny, nx]);
    const wmCount = tf.sum(wm);
    const fallback = Math.max(...means);
    const wmMean = tf.where(
      tf.greater(wmCount, 0),
      tf.div(tf.sum(tf.mul(biased, wm)), tf.maximum(wmCount, 1)),
      tf.scalar(fallback),
    );
    const sigmaN = tf.div(wmMean, app.snr);
    const n1 = tf.tensor3d(normalsF32(streamSeed(seed, 3), n), [nz, ny, nx]);
    const n2 = tf.tensor3d(normalsF32(streamSeed(seed, 4), n), [nz, ny, nx]);
    const real = tf.add(biased, tf.mul(sigmaN, n1));
    const imag = tf.mul(sigmaN, n2);
    return tf.sqrt(tf.add(tf.square(real), tf.square(imag))) as tf.Tensor3D;
  });
}

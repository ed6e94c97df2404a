/**
 * Contrast rendering (MODEL_FORMAT.md §5) with tfjs ops on the [nz, ny, nx] volume:
 * per-label mean/sd with smoothed texture → partial-volume blur → multiplicative bias field →
 * Rician noise. Noise comes from the spec's mulberry32 streams (s+1, s+3, s+4; bias s+2; the
 * texture gain s+7), drawn in JS and uploaded, so every backend renders the same image for the
 * same seed.
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
import { normalsF32, streamSeed } from '../rng';
import type { Contrast } from '../types';
import { typedArrayKernelsActive } from '../kernels/path';
import { blur3dInto, gaussianKernel, smoothedNoiseStd } from '../kernels/blur';
import { wasmKernels } from '../kernels/wasm/runtime';
import { renderContrastWasm } from '../kernels/wasm/ops';
import { biasPlanes, radialTermOf } from './bias';
import { seedFields } from './seedCache';
import { addVoxelMix, appearanceTables } from './depthLayers';
import { scaledSds, textureGainOf } from './textureGain';

export { gaussianKernel, smoothedNoiseStd };

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

/** The model's per-label table for `contrast` (T1c: only in models calibrated with it). */
export function contrastTable(model: Model, contrast: Contrast): { mean: number[]; sd: number[] } {
  const table = model.manifest.appearance.contrasts[contrast];
  if (!table)
    throw new Error(`Model ${model.manifest.id} has no appearance for contrast ${contrast}`);
  return table;
}

/** Per-label mean for `contrast`, with the optional age slope (T1w: mean += slope·(age−45)/10). */
export function labelMeans(model: Model, contrast: Contrast, age: number): Float32Array {
  const app = model.manifest.appearance;
  const mean = Float32Array.from(contrastTable(model, contrast).mean);
  const slope = app.ageSlopePerDecade?.[contrast]?.mean;
  if (slope) for (let i = 0; i < mean.length; i++) mean[i] += (slope[i] * (age - 45)) / 10;
  return mean;
}

/** Per-label SD for `contrast`, times the subject's texture gain (render/textureGain.ts). */
export function labelSds(
  model: Model,
  contrast: Contrast,
  age: number,
  seed: number,
): Float32Array {
  const gain = textureGainOf(model.manifest.appearance, age, seed);
  return scaledSds(contrastTable(model, contrast).sd, gain);
}

/**
 * The bias polynomial P over the grid, [nz, ny, nx], plus the systematic field's radial term
 * when the model has one (bias.ts `radialTermOf`). Written as
 * P = A(x, y) + z·B(x, y) + c6·z² with A, B small [ny, nx] planes, so the full volume comes from
 * one [nz, 2] × [2, ny·nx] matMul plus a suffix-broadcast add (both fast on every backend).
 */
export function biasPolynomial(model: Model, seed: number): tf.Tensor3D {
  const [nx, ny, nz] = model.grid.shape;
  const { c, zs, A, B } = biasPlanes(model, seed);
  const Z = new Float32Array(nz * 2);
  for (let k = 0; k < nz; k++) {
    Z[2 * k] = zs[k];
    Z[2 * k + 1] = zs[k] * zs[k];
  }
  const radial = radialTermOf(model.grid.shape, model.manifest.appearance);
  return tf.tidy(() => {
    const rows = tf.concat([tf.tensor2d(B, [1, ny * nx]), tf.fill([1, ny * nx], c[6])], 0);
    const zPart = tf.reshape(tf.matMul(tf.tensor2d(Z, [nz, 2]), rows), [nz, ny, nx]);
    const p = tf.add(zPart, tf.tensor2d(A, [ny, nx])) as tf.Tensor3D;
    // the systematic field's radial part (model ≥ 1.12.0), x fastest = [nz, ny, nx]
    return (radial ? tf.add(p, tf.tensor3d(radial, [nz, ny, nx])) : p) as tf.Tensor3D;
  });
}

/** Mean of the CSF label (24) for the sulcal partial volume of step 7b. */
function csfMean(model: Model, means: Float32Array): number {
  const i = model.labels.indexOfValue.get(24);
  return i === undefined ? 0 : means[i];
}

/**
 * Render `contrast` for label indices [N] (int32, x fastest). Returns float32 [nz, ny, nx].
 * `csfFraction` (step 7b, per voxel) mixes the CSF mean into the textured image before the
 * partial-volume blur: img = img + f·(mean_csf − img).
 */
export function renderContrast(
  model: Model,
  labelIndex: tf.Tensor1D,
  contrast: Contrast,
  age: number,
  seed: number,
  csfFraction?: Float32Array,
): tf.Tensor3D {
  const [nx, ny, nz] = model.grid.shape;
  if (typedArrayKernelsActive()) {
    const labels = labelIndex.dataSync() as Int32Array;
    return tf.tensor3d(renderContrastArray(model, labels, contrast, age, seed, csfFraction), [
      nz,
      ny,
      nx,
    ]);
  }
  const app = model.manifest.appearance;
  const n = model.grid.count;
  const shape5: [number, number, number, number, number] = [1, nz, ny, nx, 1];
  let means: Float32Array = labelMeans(model, contrast, age);
  let sds: Float32Array = labelSds(model, contrast, age, seed);
  let wmTable: Uint8Array = groupMask(model.labels, 'wm');
  // step 0, depth layers: the voxels' rows of the appended table (render/depthLayers.ts); the
  // labels are read back only for a model that has them
  let depthIndex: tf.Tensor1D | null = null;
  let mixField: Float32Array | null = null;
  if (app.depthLayers?.length) {
    const t = appearanceTables(model, labelIndex.dataSync() as Int32Array, means, sds, wmTable);
    ({ means, sds, wmMask: wmTable } = t);
    depthIndex = tf.tensor1d(t.index, 'int32');
    if (t.mix) {
      // the voxel mix as an added field: f(0 + f(sd·v)) = f(sd·v), so the add below is the
      // TypedArray path's f(t + f(sd·v))
      mixField = new Float32Array(n);
      addVoxelMix(mixField, t, seed);
    }
  }
  const tableIndex = depthIndex ?? labelIndex;

  // 1. Texture: unit-variance smoothed noise.
  const textured = tf.tidy(() => {
    const spec = app.texture;
    let tex: tf.Tensor;
    if (spec?.coarseFactor === 2) {
      // the two-scale field with its coarse smooth part: computed once per seed (seedCache)
      tex = tf.tensor(seedFields(model, seed).texture, shape5);
    } else {
      const noise = tf.tensor(normalsF32(streamSeed(seed, 1), n), shape5) as tf.Tensor5D;
      const sigma = spec ? spec.sigmaVoxels : app.textureSigmaVoxels;
      const smoothed = tf.div(blur3d(noise, sigma), Math.fround(smoothedNoiseStd(sigma)));
      tex = spec
        ? tf.add(tf.mul(noise, Math.fround(spec.white)), tf.mul(smoothed, Math.fround(spec.smooth)))
        : smoothed;
    }
    const mean = tf.gather(tf.tensor1d(means), tableIndex);
    const sd = tf.gather(tf.tensor1d(sds), tableIndex);
    let img = tf.add(tf.reshape(mean, shape5), tf.mul(tf.reshape(sd, shape5), tex));
    if (csfFraction) {
      const f = tf.tensor(csfFraction, shape5);
      img = tf.add(img, tf.mul(f, tf.sub(tf.scalar(csfMean(model, means)), img)));
    }
    return (mixField ? tf.add(img, tf.tensor(mixField, shape5)) : img) as tf.Tensor5D;
  });
  // 2. Partial volume.
  const pv = blur3d(textured, app.partialVolumeSigmaVoxels);
  textured.dispose();
  return tf.tidy(() => {
    // 3. Bias field.
    const biased = tf.mul(
      tf.reshape(pv, [nz, ny, nx]),
      tf.exp(tf.mul(biasPolynomial(model, seed), app.biasFieldStrength)),
    );
    pv.dispose();
    // 4. Rician noise, σ_n = mean_of_wm / snr (kept on the device: no sync).
    const wm = tf.reshape(tf.gather(tf.tensor1d(wmTable, 'float32'), tableIndex), [nz, ny, nx]);
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
    const out = tf.sqrt(tf.add(tf.square(real), tf.square(imag))) as tf.Tensor3D;
    depthIndex?.dispose();
    return out;
  });
}

/** Two volumes reused by every `renderContrastArray` call (the PV blur's output and its
 * intermediate): they never leave the call, so one pair serves all samples. */
const scratchSlots: Float32Array[] = [];

function scratch(slot: number, n: number): Float32Array {
  let a = scratchSlots[slot];
  if (!a || a.length !== n) scratchSlots[slot] = a = new Float32Array(n);
  return a;
}

/**
 * `renderContrast` on plain typed arrays (the CPU-side fast path): the same four steps with the
 * same float32 operation order. The seed-only fields (smoothed texture noise, bias field, the two
 * Rician noise volumes) come from the per-seed cache (render/seedCache.ts), so a condition change
 * for a kept subject only pays for the label-dependent part: means/sds, the partial-volume blur
 * and the final combine.
 */
export function renderContrastArray(
  model: Model,
  inputLabels: Int32Array,
  contrast: Contrast,
  age: number,
  seed: number,
  csfFraction?: Float32Array,
): Float32Array {
  const app = model.manifest.appearance;
  const n = model.grid.count;
  if (inputLabels.length !== n)
    throw new Error(`renderContrast: ${inputLabels.length} labels for ${n} voxels`);
  const f = Math.fround;
  // step 0, depth layers: the voxels' rows of the appended table (render/depthLayers.ts)
  const tables = appearanceTables(
    model,
    inputLabels,
    labelMeans(model, contrast, age),
    labelSds(model, contrast, age, seed),
    groupMask(model.labels, 'wm'),
  );
  const { means, sds, wmMask } = tables;
  const labels = tables.index;
  const fields = seedFields(model, seed);
  const fallback = Math.max(...means);
  const ex = wasmKernels();
  if (ex) {
    // the same four steps on the WebAssembly kernels (same bits; kernels/wasm)
    const sigma = app.partialVolumeSigmaVoxels;
    return renderContrastWasm(ex, {
      labels,
      shape: model.grid.shape,
      means,
      sds,
      csfMean: csfMean(model, means),
      csfFraction,
      pvKernel: sigma > 0 ? gaussianKernel(sigma) : null,
      wmMask,
      fields,
      sigmaN: (wmSum, wmCount) => {
        const wmMean = wmCount > 0 ? f(f(wmSum) / wmCount) : f(fallback);
        return f(wmMean / app.snr);
      },
      afterTexture: tables.mix ? (t) => addVoxelMix(t, tables, seed) : undefined,
    });
  }
  // 1. Texture.
  const textured = new Float32Array(n);
  const tex = fields.texture;
  if (csfFraction) {
    // one pass: texture, then the sulcal CSF mix where the fraction is not 0
    const csf = csfMean(model, means);
    for (let i = 0; i < n; i++) {
      const l = labels[i];
      let t = f(means[l] + f(sds[l] * tex[i]));
      const fr = csfFraction[i];
      if (fr !== 0) t = f(t + f(fr * f(csf - t)));
      textured[i] = t;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const l = labels[i];
      textured[i] = means[l] + f(sds[l] * tex[i]);
    }
  }
  // the depth rows' voxel mix (step 1, after the sulcal CSF)
  addVoxelMix(textured, tables, seed);
  // 2. Partial volume.
  const biased = blur3dInto(
    textured,
    model.grid.shape,
    app.partialVolumeSigmaVoxels,
    scratch(0, n),
    scratch(1, n),
  );
  // 3. Bias field (in place) and the wm sums of step 4.
  const bias = fields.bias;
  let wmCount = 0;
  let wmSum = 0;
  for (let i = 0; i < n; i++) {
    const b = f(biased[i] * bias[i]);
    biased[i] = b;
    if (wmMask[labels[i]]) {
      wmCount++;
      wmSum += b;
    }
  }
  const wmMean = wmCount > 0 ? f(f(wmSum) / wmCount) : f(fallback);
  const sigmaN = f(wmMean / app.snr);
  // 4. Rician noise (into `textured`, no longer needed).
  const out = textured;
  const n1 = fields.noiseReal;
  const n2 = fields.noiseImag;
  for (let i = 0; i < n; i++) {
    const re = f(biased[i] + f(sigmaN * n1[i]));
    const im = f(sigmaN * n2[i]);
    out[i] = Math.sqrt(f(f(re * re) + f(im * im)));
  }
  return out;
}

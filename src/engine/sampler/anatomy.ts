/**
 * The anatomy sampler, MODEL_FORMAT.md §3 steps 3–7, in tfjs ops:
 * velocity (one matMul) → scaling and squaring → output→template mapping (global ICV scale,
 * optional glioma mass effect) → nearest-neighbour template labels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Model } from '../model/loadModel';
import type { Grid } from '../model/grid';
import type { Vec3 } from '../model/manifest';
import {
  nearestFlatIndex,
  toPoints,
  trilinear,
  trilinearOnLattice,
  type Points,
} from './interpolate';
import { getModelArrays, getModelTensors } from './modelTensors';
import { typedArrayKernelsActive } from '../kernels/path';
import { composeLocalFieldArray, warpLattice, warpPoints, type WarpResult } from '../kernels/warp';
import { helperIdle, requestWarpSlab } from '../render/seedHelper';

export const SQUARING_STEPS = 6;

export interface MassEffect {
  centreMm: Vec3;
  radiusMm: number;
  decayMm: number;
  /** Midline shift: x of the inverse map += shiftMm·exp(−r²/(2·shiftLengthMm²)), r = |x − c0|. */
  shiftMm?: number;
  shiftLengthMm?: number;
}

export interface AnatomyTensors {
  /** Label index per output voxel, int32 [N] (x fastest). */
  labelIndex: tf.Tensor1D;
  /** Flat template voxel each output voxel maps to (nearest neighbour), or N when outside. */
  templateIndex: tf.Tensor1D;
  /** The displacement u of step 4, [3, Nv], when asked for (`keepDisplacement`). */
  displacement?: tf.Tensor2D;
  /**
   * On the TypedArray path: the same two maps as arrays (what the tensors were made from), so
   * the caller needs no download. `labelIndex` may be edited by the caller (LabelMap does);
   * `templateIndex` is read-only.
   */
  arrays?: { labelIndex: Int32Array; templateIndex: Int32Array };
  /**
   * With `arrays`: the two tensors are made on first access; dispose them with this (instead of
   * disposing `labelIndex`/`templateIndex`, which would make them).
   */
  release?: () => void;
}

/** Step 3: v = Σ z_k σ_k PC_k + Σ g_r B_r, as one [1, K+R] × [K+R, 3·Nv] matMul → [3, Nv]. */
export function velocityField(
  basis: tf.Tensor2D,
  coefficients: Float32Array,
  nv: number,
): tf.Tensor2D {
  return tf.tidy(() => {
    const row = tf.tensor2d(coefficients, [1, coefficients.length]);
    return tf.reshape(tf.matMul(row, basis), [3, nv]);
  });
}

/**
 * Step 4b: u ← L + T(u, y + L) on the velocity grid (y its nodes, T trilinear as in step 4): the
 * individual's local displacement L [3·Nv] (sampler/localField.ts) composed before the anatomy's
 * mapping. Without L, u itself.
 */
export function withLocalField(
  model: Model,
  u: tf.Tensor2D,
  local: Float32Array | null | undefined,
  coords: Points,
): tf.Tensor2D {
  if (!local) return u;
  const grid = model.velocityGrid;
  if (typedArrayKernelsActive()) {
    // the same float32 operations in a plain loop (kernels/warp.ts): a tfjs trilinear over the
    // velocity grid costs ~100 ms of gathers on WASM
    const planes = getModelArrays(model, { velocityCoords: true }).velocityCoords as Float32Array;
    const out = composeLocalFieldArray(u.dataSync() as Float32Array, local, grid, planes);
    return tf.tensor2d(out, [3, grid.count]);
  }
  return tf.tidy(() => {
    const l = tf.tensor2d(local, [3, grid.count]);
    const [lx, ly, lz] = toPoints(l);
    const at: Points = [tf.add(coords[0], lx), tf.add(coords[1], ly), tf.add(coords[2], lz)];
    return tf.add(l, trilinear(u, grid, at)) as tf.Tensor2D;
  });
}

/** Options of `sampleAnatomyTensors`. */
export interface AnatomyOptions {
  forceGather?: boolean;
  displacement?: (v: tf.Tensor2D) => tf.Tensor2D;
  /** Return u as well (the caller disposes it): MS lesions map template sites through it. */
  keepDisplacement?: boolean;
  /** Step 4b: the individual's local displacement [3·Nv] (sampler/localField.ts). */
  localField?: Float32Array | null;
}

/**
 * Steps 3–4b: v, then u by scaling and squaring or in one pass by the distilled student
 * (`displacement`), then the individual's local field. The caller disposes u.
 */
function displacementOf(
  model: Model,
  coefficients: Float32Array,
  options: Pick<AnatomyOptions, 'displacement' | 'localField'>,
): tf.Tensor2D {
  const t = getModelTensors(model);
  const vgrid = model.velocityGrid;
  return tf.tidy(() => {
    const v = velocityField(t.basis, coefficients, vgrid.count);
    const u4 = options.displacement
      ? options.displacement(v)
      : expVelocity(v, vgrid, t.velocityCoords);
    return withLocalField(model, u4, options.localField, t.velocityCoords);
  });
}

/** Step 4: displacement u = exp(v) by scaling and squaring: u ← u + T(u, x + u), N times. */
export function expVelocity(
  v: tf.Tensor2D,
  grid: Grid,
  coords: Points,
  steps = SQUARING_STEPS,
): tf.Tensor2D {
  let u: tf.Tensor2D = tf.div(v, 2 ** steps);
  for (let s = 0; s < steps; s++) {
    const next = tf.tidy(() => {
      const [ux, uy, uz] = toPoints(u);
      const at: Points = [tf.add(coords[0], ux), tf.add(coords[1], uy), tf.add(coords[2], uz)];
      return tf.add(u, trilinear(u, grid, at)) as tf.Tensor2D;
    });
    u.dispose();
    u = next;
  }
  return u;
}

/**
 * §4 glioma mass effect M(x) on world points: with r = |x − c0|,
 * r_src = cbrt(max(r³ − R³, 0)), w = exp(−max(r − R, 0)/decay),
 * M(x) = c0 + (x − c0)/r · (w·r_src + (1 − w)·r). Inside the tumour r_src = 0 and w = 1, so
 * M(x) = c0; at r = 0 the factor is 0/ε = 0, again c0 — no special case needed.
 */
export function massEffect(x: Points, m: MassEffect): Points {
  return tf.tidy(() => {
    const d = x.map((xa, a) => tf.sub(xa, m.centreMm[a]));
    const r = tf.sqrt(tf.add(tf.add(tf.square(d[0]), tf.square(d[1])), tf.square(d[2])));
    const R = m.radiusMm;
    const rSrc = tf.pow(tf.relu(tf.sub(tf.pow(r, 3), R ** 3)), 1 / 3);
    const w = tf.exp(tf.div(tf.neg(tf.relu(tf.sub(r, R))), m.decayMm));
    const newR = tf.add(tf.mul(w, rSrc), tf.mul(tf.sub(1, w), r));
    const factor = tf.div(newR, tf.maximum(r, 1e-6));
    const out = d.map((da, a) => tf.add(tf.mul(da, factor), m.centreMm[a])) as Points;
    if (m.shiftMm && m.shiftLengthMm) {
      // midline shift: x += S·exp(−r²/(2L²))
      const L2 = Math.fround(2 * m.shiftLengthMm * m.shiftLengthMm);
      const g = tf.exp(tf.div(tf.neg(tf.square(r)), L2));
      out[0] = tf.add(out[0], tf.mul(g, m.shiftMm));
    }
    return out;
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
  options: AnatomyOptions = {},
): AnatomyTensors {
  const t = getModelTensors(model);
  const vgrid = model.velocityGrid;
  const u = displacementOf(model, coefficients, options);
  let kept = false;
  try {
    const C = model.manifest.calibration.gridCentreMm;
    if (typedArrayKernelsActive()) {
      // CPU-side backends: steps 6–7 as one pass over typed arrays (kernels/warp.ts).
      const uData = u.dataSync() as Float32Array;
      // the glioma's mass effect bends the positions: the 8-corner lookup at each point
      const gather = Boolean(mass || options.forceGather);
      const arrays = getModelArrays(model, { outputCoords: gather });
      const w = gather
        ? warpPoints(
            uData,
            vgrid,
            model.grid,
            arrays.outputCoords as Float32Array,
            C,
            scale,
            arrays.templatePadded,
            mass,
          )
        : warpLattice(
            uData,
            vgrid,
            model.grid,
            scaledAxes(model.grid, C, scale),
            arrays.templatePadded,
          );
      kept = options.keepDisplacement === true;
      return kernelResult(w, kept ? u : undefined);
    }
    const templateIndex = tf.tidy(() => {
      let xp: Points;
      let disp: tf.Tensor2D;
      if (mass || options.forceGather) {
        // Step 6a–c with the mass effect: positions are no longer a lattice → 8-gather path.
        const x = mass ? massEffect(t.outputCoords, mass) : t.outputCoords;
        // Step 6b: x' = C + (x − C)/k (same operation order as the Python reference).
        xp = x.map((xa, a) => tf.add(tf.div(tf.sub(xa, C[a]), scale), C[a])) as Points;
        disp = trilinear(u, vgrid, xp);
      } else {
        // x' is separable (x'_x depends on i only, …): interpolate on the lattice with matMuls.
        const axes = scaledAxes(model.grid, C, scale);
        xp = expandAxes(axes, model.grid);
        disp = trilinearOnLattice(u, vgrid, axes);
      }
      // Step 6c: p = x' + T(u, x').
      const [dx, dy, dz] = toPoints(disp);
      const p: Points = [tf.add(xp[0], dx), tf.add(xp[1], dy), tf.add(xp[2], dz)];
      return nearestFlatIndex(model.grid, p);
    });
    const labelIndex = tf.gather(t.templatePadded, templateIndex) as tf.Tensor1D;
    if (!options.keepDisplacement) return { labelIndex, templateIndex };
    kept = true;
    return { labelIndex, templateIndex, displacement: u };
  } finally {
    if (!kept) u.dispose(); // also when something above threw
  }
}

/**
 * The TypedArray path's result: the warp's arrays, with the two tensors made only if asked for
 * (the fast path reads `arrays`); `release` disposes whichever were made.
 */
function kernelResult(w: WarpResult, displacement?: tf.Tensor2D): AnatomyTensors {
  let labelTensor: tf.Tensor1D | null = null;
  let templateTensor: tf.Tensor1D | null = null;
  const result: AnatomyTensors = {
    get labelIndex() {
      return (labelTensor ??= tf.tensor1d(w.labelIndex, 'int32'));
    },
    get templateIndex() {
      return (templateTensor ??= tf.tensor1d(w.templateIndex, 'int32'));
    },
    arrays: { labelIndex: w.labelIndex, templateIndex: w.templateIndex },
    release: () => {
      tf.dispose([labelTensor, templateTensor].filter((t): t is tf.Tensor1D => t !== null));
      labelTensor = templateTensor = null;
    },
  };
  if (displacement) result.displacement = displacement;
  return result;
}

let warpSplit = false;

/**
 * Split the lattice warp with the seed helper worker (off by default: in the app bench on the
 * shared 2-core machine, load ~4, it made no measurable difference to a kept subject's sample —
 * median 161 vs 164 ms over 5 runs each —, so it stays a measured option, not the default).
 */
export function setWarpSplit(enabled: boolean): void {
  warpSplit = enabled;
}

/**
 * `sampleAnatomyTensors`, with the lattice warp split over two threads when enabled
 * (`setWarpSplit`) and it can be: on the TypedArray path, without a mass effect, and with the
 * seed helper worker idle (a kept subject: its seed work is cached), the helper computes the
 * upper half of the output slices while this thread computes the lower half. The same voxels
 * either way (tests: seedHelper.test.ts).
 */
export async function sampleAnatomyTensorsAsync(
  model: Model,
  coefficients: Float32Array,
  scale: number,
  mass?: MassEffect,
  options: AnatomyOptions = {},
): Promise<AnatomyTensors> {
  if (!warpSplit || !typedArrayKernelsActive() || mass || options.forceGather || !helperIdle())
    return sampleAnatomyTensors(model, coefficients, scale, mass, options);
  const vgrid = model.velocityGrid;
  const u = displacementOf(model, coefficients, options);
  let keep = false;
  try {
    const uData = u.dataSync() as Float32Array;
    const arrays = getModelArrays(model);
    const axes = scaledAxes(model.grid, model.manifest.calibration.gridCentreMm, scale);
    const nz = model.grid.shape[2];
    const half = nz >> 1;
    const out: WarpResult = {
      labelIndex: new Int32Array(model.grid.count),
      templateIndex: new Int32Array(model.grid.count),
    };
    const theirs = requestWarpSlab(model, uData, axes, arrays.templatePadded, half, nz);
    warpLattice(uData, vgrid, model.grid, axes, arrays.templatePadded, { k0: 0, k1: half }, out);
    const slab = theirs ? await theirs : null;
    if (slab && slab.labelIndex.length === out.labelIndex.length - half * model.grid.strides[2]) {
      const at = half * model.grid.strides[2];
      out.labelIndex.set(slab.labelIndex, at);
      out.templateIndex.set(slab.templateIndex, at);
    } else {
      // no helper after all, or it failed: the upper half here
      warpLattice(uData, vgrid, model.grid, axes, arrays.templatePadded, { k0: half, k1: nz }, out);
    }
    keep = options.keepDisplacement === true;
    return kernelResult(out, keep ? u : undefined);
  } finally {
    if (!keep) u.dispose();
  }
}

/** Step 6b per axis: x' = C + (x − C)/k for the grid's axis positions, in float32 arithmetic. */
export function scaledAxes(
  grid: Grid,
  centre: Vec3,
  scale: number,
): [Float32Array, Float32Array, Float32Array] {
  const k = Math.fround(scale);
  return [0, 1, 2].map((a) => {
    const out = new Float32Array(grid.shape[a]);
    const c = Math.fround(centre[a]);
    for (let i = 0; i < out.length; i++) {
      const x = Math.fround(grid.origin[a] + grid.spacing[a] * i);
      out[i] = Math.fround(c + Math.fround(Math.fround(x - c) / k));
    }
    return out;
  }) as [Float32Array, Float32Array, Float32Array];
}

/** Per-voxel coordinate tensors (x fastest) from per-axis positions. */
function expandAxes(axes: [Float32Array, Float32Array, Float32Array], grid: Grid): Points {
  const [nx, ny, nz] = grid.shape;
  const n = grid.count;
  const px = new Float32Array(n);
  const py = new Float32Array(n);
  const pz = new Float32Array(n);
  for (let k = 0, v = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      px.set(axes[0], v);
      py.fill(axes[1][j], v, v + nx);
      pz.fill(axes[2][k], v, v + nx);
      v += nx;
    }
  }
  return [tf.tensor1d(px), tf.tensor1d(py), tf.tensor1d(pz)];
}

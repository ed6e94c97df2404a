/**
 * Device copies of the model's constant arrays, built once per (model, backend) and reused by
 * every sample. Layout choice: vector fields are kept as three component planes [3, Nv]
 * (x-plane, y-plane, z-plane) instead of the file's interleaved [Nv, 3], so that
 * `tf.gather(field, idx, 1)` yields [3, M] and the per-axis maths ((p − origin)/spacing, …)
 * broadcasts against [3, 1] constants without transposes.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Model } from '../model/loadModel';
import { worldCoordinatePlanes, type Grid } from '../model/grid';
import type { Points } from './interpolate';

export interface ModelTensors {
  backend: string;
  /** [K + R, 3·Nv]: rows = shape components then regional basis fields, each as 3 planes. */
  basis: tf.Tensor2D;
  /** World coordinates of velocity-grid points (x, y, z planes of [Nv]). */
  velocityCoords: Points;
  /** World coordinates of output voxel centres (x, y, z planes of [N]). */
  outputCoords: Points;
  /** Template label indices + one trailing 0 (the "outside" sentinel at index N), int32. */
  templatePadded: tf.Tensor1D;
}

const cache = new WeakMap<Model, ModelTensors>();

/** Interleaved [count, Nv, 3] → planes [count, 3, Nv]. */
export function toComponentPlanes(src: Float32Array, count: number, nv: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let r = 0; r < count; r++) {
    const base = r * 3 * nv;
    for (let v = 0; v < nv; v++) {
      const s = base + 3 * v;
      out[base + v] = src[s];
      out[base + nv + v] = src[s + 1];
      out[base + 2 * nv + v] = src[s + 2];
    }
  }
  return out;
}

function coordinateTensors(grid: Grid): Points {
  const planes = worldCoordinatePlanes(grid);
  const n = grid.count;
  return [0, 1, 2].map((a) => tf.keep(tf.tensor1d(planes.subarray(a * n, (a + 1) * n)))) as Points;
}

export function getModelTensors(model: Model): ModelTensors {
  const backend = tf.getBackend();
  const hit = cache.get(model);
  if (hit && hit.backend === backend) return hit;
  if (hit) disposeModelTensors(model);

  const K = model.manifest.shapeModel.components;
  const R = model.manifest.regions.length;
  const nv = model.velocityGrid.count;
  const n = model.grid.count;
  const rows = new Float32Array((K + R) * 3 * nv);
  rows.set(toComponentPlanes(model.arrays.shapeComponents, K, nv), 0);
  rows.set(toComponentPlanes(model.arrays.regionalBasis, R, nv), K * 3 * nv);
  const template = new Int32Array(n + 1);
  template.set(model.arrays.templateLabels);

  // tf.keep: these must survive any enclosing tf.tidy (they are reused across samples).
  const t: ModelTensors = {
    backend,
    basis: tf.keep(tf.tensor2d(rows, [K + R, 3 * nv])),
    velocityCoords: coordinateTensors(model.velocityGrid),
    outputCoords: coordinateTensors(model.grid),
    templatePadded: tf.keep(tf.tensor1d(template, 'int32')),
  };
  cache.set(model, t);
  return t;
}

/** Free the device copies of a model (e.g. when switching models or backends). */
export function disposeModelTensors(model: Model): void {
  const t = cache.get(model);
  if (!t) return;
  tf.dispose([t.basis, ...t.velocityCoords, ...t.outputCoords, t.templatePadded]);
  cache.delete(model);
}

/** Number of tensors held by the cache for `model` (for leak tests). */
export function modelTensorCount(model: Model): number {
  return cache.has(model) ? 8 : 0;
}

/** Plain-array constants of the TypedArray kernels (kernels/warp.ts), built once per model. */
export interface ModelArraysCache {
  /** Template label indices + one trailing 0 (the "outside" sentinel at index N). */
  templatePadded: Int32Array;
  /** Output voxel centres as [x…, y…, z…] float32 planes (only built for the 8-gather path). */
  outputCoords?: Float32Array;
  /** Velocity nodes' world coordinates, the same planes (only built for step 4b's field). */
  velocityCoords?: Float32Array;
}

const arrayCache = new WeakMap<Model, ModelArraysCache>();

/** Which coordinate planes `getModelArrays` must also build (each once per model). */
export interface ModelArraysNeeds {
  /** The output voxel centres (the 8-gather path, the glioma's mass effect). */
  outputCoords?: boolean;
  /** The velocity nodes' coordinates (step 4b's local field). */
  velocityCoords?: boolean;
}

export function getModelArrays(model: Model, needs: ModelArraysNeeds = {}): ModelArraysCache {
  let hit = arrayCache.get(model);
  if (!hit) {
    const templatePadded = new Int32Array(model.grid.count + 1);
    templatePadded.set(model.arrays.templateLabels);
    hit = { templatePadded };
    arrayCache.set(model, hit);
  }
  if (needs.outputCoords && !hit.outputCoords) hit.outputCoords = worldCoordinatePlanes(model.grid);
  if (needs.velocityCoords && !hit.velocityCoords)
    hit.velocityCoords = worldCoordinatePlanes(model.velocityGrid);
  return hit;
}

/**
 * Which implementation runs the per-voxel stages (MODEL_FORMAT.md §3 steps 6–7 and §5):
 * 'kernels' = the plain TypedArray kernels of this folder, 'tfjs' = tfjs ops on the active
 * backend. Both compute the same algorithm (parity tests compare them).
 *
 * 'auto' (default): kernels on the CPU-side backends (wasm, cpu), where tfjs dispatch and its
 * per-element gather (40–100 ns) dominate; tfjs on webgl/webgpu, where the work stays on the GPU.
 */
import * as tf from '@tensorflow/tfjs-core';

export type KernelPath = 'auto' | 'kernels' | 'tfjs';

let forced: KernelPath = 'auto';

/** Force a path (tests, benchmarks); 'auto' restores the backend-based choice. */
export function setKernelPath(path: KernelPath): void {
  forced = path;
}

export function kernelPath(): KernelPath {
  return forced;
}

/** True when the TypedArray kernels should run for the active backend. */
export function typedArrayKernelsActive(): boolean {
  if (forced !== 'auto') return forced === 'kernels';
  const b = tf.getBackend();
  return b === 'wasm' || b === 'cpu';
}

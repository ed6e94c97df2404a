import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { benchmarkCurrentBackend, initBackend } from './backends';

describe('initBackend', () => {
  it('forces the CPU backend', async () => {
    const choice = await initBackend('cpu');
    expect(choice).toEqual({ backend: 'cpu', reason: 'forced: cpu' });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('falls back with a reason when the forced backend is unavailable (no WebGPU in Node)', async () => {
    const choice = await initBackend('webgpu');
    expect(choice.backend).not.toBe('webgpu');
    expect(choice.reason).toMatch(/webgpu \(requested\): navigator\.gpu is not available/);
    await initBackend('cpu');
  });

  it("'auto' in Node skips the GPU backends and says why", async () => {
    const choice = await initBackend('auto');
    expect(['wasm', 'cpu']).toContain(choice.backend);
    expect(choice.reason).toMatch(
      /webgpu: navigator\.gpu is not available; webgl: WebGL needs a browser/,
    );
    await initBackend('cpu');
  });

  it('benchmarks the current backend', async () => {
    await initBackend('cpu');
    const ms = await benchmarkCurrentBackend();
    expect(ms).toBeGreaterThan(0);
  });
});

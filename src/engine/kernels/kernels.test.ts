/**
 * One algorithm, two implementations: the TypedArray kernels (kernels/*) and the tfjs ops give
 * the same labels and images for the same seed + conditions, on the synthetic test model and on
 * the committed real model (skipped when absent), every pathology and both samplers.
 *
 * Tolerance (stated): on the tfjs CPU backend, labels and template indices are identical and the
 * image agrees within 1e-5 relative to its maximum (in practice bit-identical except where the
 * float64 sums of the wm mean round differently); on WASM (XNNPACK conv/matMul, its own exp/pow)
 * labels are identical too (measured: image within ~4e-7 relative); the test asks for 1e-5.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backends';
import { loadModel, type Model } from '../model/loadModel';
import { sample } from '../sample';
import { syntheticModel } from '../testing/syntheticModel';
import type { Conditions, SampledVolume } from '../types';
import { setKernelPath } from './path';
import { blur3dArray } from './blur';
import { blur3d } from '../render/contrast';
import { cachedSeeds, MAX_SEEDS } from '../render/seedCache';
import { PATHOLOGY_CASES } from '../testing/pathologyCases';

const root = resolve(__dirname, '../../..');
const realDir = join(root, 'public/models/brainsynth-shape-v1');

const CASES = PATHOLOGY_CASES;

async function both(
  model: Model,
  c: Conditions,
  seed: number,
  sampler?: 'exact' | 'student',
): Promise<[SampledVolume, SampledVolume]> {
  try {
    setKernelPath('tfjs');
    const a = await sample(model, c, seed, { sampler });
    setKernelPath('kernels');
    const b = await sample(model, c, seed, { sampler });
    return [a, b];
  } finally {
    setKernelPath('auto');
  }
}

function compare(
  a: SampledVolume,
  b: SampledVolume,
  tol: { labelAgreement: number; imageRel: number },
) {
  let same = 0;
  for (let i = 0; i < a.labels.length; i++) if (a.labels[i] === b.labels[i]) same++;
  const agreement = same / a.labels.length;
  let max = 0;
  let maxDiff = 0;
  for (let i = 0; i < a.image.length; i++) {
    max = Math.max(max, Math.abs(a.image[i]));
    if (a.labels[i] === b.labels[i]) maxDiff = Math.max(maxDiff, Math.abs(a.image[i] - b.image[i]));
  }
  const rel = maxDiff / max;
  if (tol.labelAgreement === 1) expect(b.labels).toEqual(a.labels);
  else expect(agreement).toBeGreaterThanOrEqual(tol.labelAgreement);
  expect(rel).toBeLessThanOrEqual(tol.imageRel);
  expect(Object.keys(b.metadata.regionalVolumesMl)).toEqual(
    Object.keys(a.metadata.regionalVolumesMl),
  );
  return { agreement, rel };
}

const CPU_TOL = { labelAgreement: 1, imageRel: 1e-5 };
const WASM_TOL = { labelAgreement: 1, imageRel: 1e-5 };

describe('TypedArray kernels vs tfjs ops (tfjs CPU backend)', () => {
  let model: Model;
  beforeAll(async () => {
    await initBackend('cpu');
    model = syntheticModel();
  });

  it('blur3dArray equals blur3d (conv3d) bit for bit', () => {
    const shape: [number, number, number] = [13, 11, 9];
    const n = 13 * 11 * 9;
    const src = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7) + (i % 5));
    for (const sigma of [0.6, 1, 1.7]) {
      const t = tf.tensor5d(src, [1, 9, 11, 13, 1]);
      const ref = blur3d(t, sigma);
      expect(blur3dArray(src, shape, sigma)).toEqual(ref.dataSync());
      tf.dispose([t, ref]);
    }
  });

  for (const c of CASES) {
    it(`synthetic model, ${c.pathology} (${c.contrast})`, async () => {
      const [a, b] = await both(model, c, 4242);
      compare(a, b, CPU_TOL);
    });
  }

  it('the per-seed cache is bounded and gives the same volume as a fresh render', async () => {
    const c = CASES[0];
    setKernelPath('kernels');
    try {
      const first = await sample(model, c, 7);
      for (const s of [8, 9, 10]) await sample(model, c, s);
      expect(cachedSeeds(model).length).toBeLessThanOrEqual(MAX_SEEDS);
      expect(cachedSeeds(model)).not.toContain(7);
      const again = await sample(model, c, 7); // recomputed
      const kept = await sample(model, c, 7); // from the cache
      expect(again.image).toEqual(first.image);
      expect(kept.image).toEqual(first.image);
      const older = await sample(model, { ...c, age: 85 }, 7); // kept subject, new condition
      expect(cachedSeeds(model)[0]).toBe(7);
      expect(older.image).not.toEqual(first.image);
    } finally {
      setKernelPath('auto');
    }
  });
});

describe.skipIf(!existsSync(join(realDir, 'manifest.json')))(
  'TypedArray kernels vs tfjs ops on the committed real model',
  () => {
    let model: Model;
    beforeAll(async () => {
      model = await loadModel(realDir, async (url) => new Response(readFileSync(url)));
    });
    afterAll(() => setKernelPath('auto'));

    it('tfjs CPU backend: identical labels, image within 1e-5 (student and exact)', async () => {
      await initBackend('cpu');
      compare(...(await both(model, CASES[0], 11, 'student')), CPU_TOL);
      compare(...(await both(model, CASES[2], 12, 'exact')), CPU_TOL);
    }, 120_000);

    it('WASM backend: identical labels, image within 1e-5', async () => {
      const choice = await initBackend('wasm');
      expect(choice.backend).toBe('wasm');
      try {
        for (const c of [CASES[0], CASES[2], CASES[3]]) {
          const r = compare(...(await both(model, c, 13)), WASM_TOL);
          console.info(
            `wasm ${c.pathology}: labels ${(100 * r.agreement).toFixed(4)} %, image ${r.rel.toExponential(2)}`,
          );
        }
      } finally {
        await initBackend('cpu');
      }
    }, 180_000);
  },
);

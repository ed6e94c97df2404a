/**
 * Step 4b, the local field (MODEL_FORMAT.md §3): what the sampler adds and where. The field's
 * numbers against the Python reference are checked by the committed model's parity fixture
 * (parity.test.ts: the label maps of seeded samples, which include the field).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../model/loadModel';
import { sampleAnatomy } from '../sample';
import { syntheticModel } from '../testing/syntheticModel';
import { useCpuBackend } from '../testing/setupCpu';
import { drawLatents } from './latents';
import { divergenceFree } from '../kernels/poisson';
import { localField } from './localField';

const cond = { age: 60, sex: 'female', pathology: 'none', contrast: 'T1w' };

/** The synthetic model with a local field of `amp` mm on the middle third of the velocity grid. */
function withLocalField(amp: number): { model: Model; inside: Uint8Array } {
  const model = syntheticModel();
  const [nx, ny, nz] = model.velocityGrid.shape;
  const mask = new Float32Array(model.velocityGrid.count);
  const inside = new Uint8Array(mask.length);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const mid = [i / nx, j / ny, k / nz].every((t) => t > 1 / 3 && t < 2 / 3);
        const q = i + nx * (j + ny * k);
        mask[q] = mid ? amp : 0;
        inside[q] = mid ? 1 : 0;
      }
  model.manifest.shapeModel.localField = {
    sigmaNodes: 1,
    groups: [{ name: 'middle', labels: [17], amplitudeMm: amp }],
  };
  model.arrays.localFieldMask = mask;
  return { model, inside };
}

beforeAll(async () => {
  await useCpuBackend();
});

describe('local field (step 4b)', () => {
  it('is absent for a model without one', () => {
    expect(localField(syntheticModel(), 3)).toBeNull();
  });

  it("is the seed's own: same seed same field, another seed another; zero where the mask is", () => {
    const { model, inside } = withLocalField(2);
    const a = localField(model, 11)!;
    const again = localField(model, 11)!;
    const b = localField(model, 12)!;
    const nv = model.velocityGrid.count;
    expect(a.length).toBe(3 * nv);
    expect(again).toEqual(a);
    expect(b).not.toEqual(a);
    let sq = 0;
    let n = 0;
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < nv; i++) {
        const v = a[c * nv + i];
        if (inside[i]) {
          sq += v * v;
          n++;
        } else expect(Math.abs(v)).toBe(0);
      }
    // unit-variance smoothed noise times 2 mm (a few hundred correlated values: loose bounds)
    const rms = Math.sqrt(sq / n);
    expect(rms).toBeGreaterThan(1);
    expect(rms).toBeLessThan(3);
  });

  it('moves the anatomy of a seeded sample, not that of explicit latents', async () => {
    const { model } = withLocalField(4);
    const plain = syntheticModel();
    const seed = 21;
    const withField = await sampleAnatomy(model, cond, seed, { sampler: 'exact' });
    const without = await sampleAnatomy(plain, cond, seed, { sampler: 'exact' });
    let moved = 0;
    for (let i = 0; i < withField.labelIndex.length; i++)
      if (withField.labelIndex[i] !== without.labelIndex[i]) moved++;
    expect(moved).toBeGreaterThan(0);
    const latents = drawLatents(seed, model.manifest.shapeModel.components);
    const explicit = await sampleAnatomy(model, cond, seed, { sampler: 'exact', latents });
    const explicitPlain = await sampleAnatomy(plain, cond, seed, { sampler: 'exact', latents });
    expect(explicit.labelIndex).toEqual(explicitPlain.labelIndex);
  });

  it("with projection 'divergence-free', is the divergence-free part of the same field", () => {
    const { model } = withLocalField(2);
    const raw = localField(model, 31)!;
    const projected = withLocalField(2).model;
    projected.manifest.shapeModel.localField!.projection = 'divergence-free';
    const p = localField(projected, 31)!;
    expect(p).toEqual(divergenceFree(raw, model.velocityGrid.shape));
    expect(p).not.toEqual(raw);
  });
});

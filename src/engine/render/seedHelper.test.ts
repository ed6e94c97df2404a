/**
 * The seed helper worker (render/seedHelper.ts) and the per-seed caches of the fast path:
 * with a helper (here an in-process fake worker running the real job code), without one, with a
 * broken one, a kept subject reusing what is cached — the same labels and the same image bits.
 * Plus the folding cache (cached vs uncached distances, invalidation) and upsample2.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../model/loadModel';
import { clearLabelCache, sample, sampleAnatomy } from '../sample';
import {
  applyFolding,
  cachedFoldingSeeds,
  clearFoldingCache,
  FOLDING_CACHE_SEEDS,
} from '../sampler/folding';
import { setWarpSplit } from '../sampler/anatomy';
import { useCpuBackend } from '../testing/setupCpu';
import type { Conditions } from '../types';
import { cachedSeeds, clearSeedFields, coarseShape, upsample2 } from './seedCache';
import {
  runHelperRequest,
  seedJobsInFlight,
  setSeedHelper,
  setSeedJobSharing,
  type HelperRequest,
  type SeedJobResponse,
  type SeedWorkerLike,
} from './seedHelper';

const root = resolve(__dirname, '../../..');
const realDir = join(root, 'public/models/brainsynth-shape-v1');
const hasReal = existsSync(join(realDir, 'manifest.json'));

/** A Worker stand-in that runs the helper's job code asynchronously in this thread. */
class FakeWorker implements SeedWorkerLike {
  onmessage: ((e: MessageEvent<SeedJobResponse>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  jobs: HelperRequest[] = [];
  constructor(private readonly broken = false) {}
  postMessage(req: HelperRequest): void {
    this.jobs.push(req);
    setTimeout(() => {
      if (this.broken) {
        this.onerror?.({ message: 'boom' } as ErrorEvent);
        return;
      }
      runHelperRequest(req, (msg) =>
        this.onmessage?.({ data: msg } as MessageEvent<SeedJobResponse>),
      );
    }, 5);
  }
  seedJobs(): [number, boolean][] {
    return this.jobs.flatMap((j) =>
      j.type === 'warp' || j.type === 'warpModel' ? [] : [[j.seed, j.folding !== undefined]],
    );
  }
  kinds(): string[] {
    return this.jobs.map((j) => j.type ?? 'seed');
  }
  terminate(): void {}
}

const C: Conditions = { age: 70, sex: 'female', pathology: 'none', contrast: 'T1w' };

function reset(model: Model): void {
  setWarpSplit(false);
  setSeedHelper(null);
  clearSeedFields(model);
  clearFoldingCache(model);
  clearLabelCache(model); // every sample below does the whole work
}

describe.skipIf(!hasReal)('seed helper worker and per-seed caches (real model)', () => {
  let model: Model;
  beforeAll(async () => {
    await useCpuBackend();
    model = await loadModel(realDir, async (url) => new Response(readFileSync(url)));
  });
  afterEach(() => reset(model));

  it('with the helper (seed work, then a warp split for the kept subject): the same bits', async () => {
    reset(model);
    const plain = await sample(model, C, 31);
    const plainKept = await sample(model, { ...C, age: 40 }, 31);
    reset(model);
    const fake = new FakeWorker();
    setSeedHelper(() => fake);
    setWarpSplit(true);
    const helped = await sample(model, C, 31);
    expect(fake.seedJobs()).toEqual([[31, true]]);
    expect(fake.kinds()).toEqual(['seed']); // the helper was busy: no warp split
    expect(seedJobsInFlight()).toBe(0);
    expect(cachedSeeds(model)).toEqual([31]);
    expect(cachedFoldingSeeds(model)).toEqual([31]);
    expect(helped.labels).toEqual(plain.labels);
    expect(helped.image).toEqual(plain.image);
    const kept = await sample(model, { ...C, age: 40 }, 31);
    // everything seed-only came from the caches; the idle helper took half of the warp
    expect(fake.kinds()).toEqual(['seed', 'warpModel', 'warp']);
    setWarpSplit(false);
    expect(kept.labels).toEqual(plainKept.labels);
    expect(kept.image).toEqual(plainKept.image);
  }, 120_000);

  it('a shared job (the sample draws part of the Rician noise) and an unshared one: the same bits', async () => {
    reset(model);
    const plain = await sample(model, C, 35);
    for (const [share, part] of [
      [true, 0.25],
      [true, 0],
      [true, 1],
      [false, 0.25],
    ] as [boolean, number][]) {
      reset(model);
      setSeedJobSharing(share, part);
      const fake = new FakeWorker();
      setSeedHelper(() => fake);
      try {
        const v = await sample(model, C, 35);
        const req = fake.jobs[0] as { realFrom?: number };
        expect(req.realFrom !== undefined).toBe(share);
        expect(seedJobsInFlight()).toBe(0);
        expect(cachedSeeds(model)).toEqual([35]);
        expect(new Uint32Array(v.image.buffer)).toEqual(new Uint32Array(plain.image.buffer));
        expect(v.labels).toEqual(plain.labels);
      } finally {
        setSeedJobSharing(true);
      }
    }
  }, 120_000);

  it('a broken helper falls back to computing in place (same volume)', async () => {
    reset(model);
    const plain = await sample(model, C, 32);
    reset(model);
    setSeedHelper(() => new FakeWorker(true));
    const v = await sample(model, C, 32);
    expect(seedJobsInFlight()).toBe(0);
    expect(v.labels).toEqual(plain.labels);
    expect(v.image).toEqual(plain.image);
  }, 120_000);

  it('folding: cached sheet distances give the labels and fractions of uncached ones', async () => {
    reset(model);
    const a = await sampleAnatomy(model, C, 33);
    const b = await sampleAnatomy(model, { ...C, age: 35, sex: 'male' }, 33);
    const ref = a.labelIndex.slice();
    const refFrac = applyFolding(model, ref, a.templateIndex, 33, { cache: false });
    const refB = b.labelIndex.slice();
    const refFracB = applyFolding(model, refB, b.templateIndex, 33, { cache: false });
    expect(cachedFoldingSeeds(model)).toEqual([]);
    for (let round = 0; round < 2; round++) {
      // round 0 fills the distances, round 1 reads them; b (another age/sex) reuses a's
      const la = a.labelIndex.slice();
      expect(applyFolding(model, la, a.templateIndex, 33)).toEqual(refFrac);
      expect(la).toEqual(ref);
      const lb = b.labelIndex.slice();
      expect(applyFolding(model, lb, b.templateIndex, 33)).toEqual(refFracB);
      expect(lb).toEqual(refB);
    }
    expect(cachedFoldingSeeds(model)).toEqual([33]);
  }, 120_000);

  it('folding cache: per seed, most recent first, at most FOLDING_CACHE_SEEDS, per model', async () => {
    reset(model);
    const a = await sampleAnatomy(model, C, 34);
    for (const s of [1, 2, 3, 2]) applyFolding(model, a.labelIndex.slice(), a.templateIndex, s);
    expect(cachedFoldingSeeds(model)).toEqual([2, 3].slice(0, FOLDING_CACHE_SEEDS));
    const other = await loadModel(realDir, async (url) => new Response(readFileSync(url)));
    expect(cachedFoldingSeeds(other)).toEqual([]);
    // another seed's distances are not reused: seed 5 after seed 2 gives seed 5's labels
    const l5 = a.labelIndex.slice();
    const f5 = applyFolding(model, l5, a.templateIndex, 5);
    const r5 = a.labelIndex.slice();
    expect(applyFolding(other, r5, a.templateIndex, 5, { cache: false })).toEqual(f5);
    expect(l5).toEqual(r5);
  }, 120_000);
});

describe('upsample2', () => {
  it('equals the axis-by-axis linear interpolation it stands for', () => {
    const shape = [9, 6, 5];
    const cs = coarseShape(shape);
    const c = Float32Array.from({ length: cs[0] * cs[1] * cs[2] }, (_, i) => Math.sin(i * 0.7) * 3);
    const f = Math.fround;
    // reference: one axis at a time, x then y then z, float32 (the pre-optimisation code)
    let src = c;
    const dims = [...cs];
    for (let axis = 0; axis < 3; axis++) {
      const out = [...dims];
      out[axis] = shape[axis];
      const dst = new Float32Array(out[0] * out[1] * out[2]);
      const sIn = [1, dims[0], dims[0] * dims[1]];
      for (let z = 0; z < out[2]; z++)
        for (let y = 0; y < out[1]; y++)
          for (let x = 0; x < out[0]; x++) {
            const q = [x, y, z];
            const i = q[axis];
            q[axis] = i >> 1;
            const at = q[0] * sIn[0] + q[1] * sIn[1] + q[2] * sIn[2];
            dst[x + y * out[0] + z * out[0] * out[1]] =
              i & 1 ? f(f(src[at] * 0.5) + f(src[at + sIn[axis]] * 0.5)) : src[at];
          }
      src = dst;
      dims[axis] = shape[axis];
    }
    expect(upsample2(c, cs, shape)).toEqual(src);
  });
});

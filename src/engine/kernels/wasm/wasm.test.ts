/**
 * The WebAssembly kernels give the TypedArray kernels' bits: blur, lattice warp (whole, slabs,
 * power-of-two and other spacings, points outside the grid), contrast (with and without the
 * sulcal fraction, with and without a blur), label values, and whole sample() calls (new and
 * kept subject, every pathology) on the synthetic model and on the committed real model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../backends';
import { gridFromSpec, type Grid } from '../../model/grid';
import { loadModel, type Model } from '../../model/loadModel';
import { mulberry32 } from '../../rng';
import { renderContrastArray } from '../../render/contrast';
import { clearSeedFields } from '../../render/seedCache';
import { sample } from '../../sample';
import { syntheticModel } from '../../testing/syntheticModel';
import type { Conditions } from '../../types';
import { blur3dArray } from '../blur';
import { warpLattice } from '../warp';
import { resetWasmMemory, setWasmKernels, wasmKernels } from './runtime';
import { PATHOLOGY_CASES } from '../../testing/pathologyCases';

const root = resolve(__dirname, '../../../..');
const realDir = join(root, 'public/models/brainsynth-shape-v1');

/** Index of the first element whose bits differ, or -1. */
function firstDiff(a: ArrayBufferView, b: ArrayBufferView): number {
  if (a.byteLength !== b.byteLength) return -2;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

function expectSameBits(a: ArrayBufferView, b: ArrayBufferView, what = ''): void {
  expect(firstDiff(a, b), `${what}: first differing byte`).toBe(-1);
}

/** Run `fn` with the wasm kernels off, then on. */
function jsThenWasm<T>(fn: () => T): [T, T] {
  setWasmKernels(false);
  const js = fn();
  setWasmKernels(true);
  return [js, fn()];
}

async function jsThenWasmAsync<T>(fn: () => Promise<T>): Promise<[T, T]> {
  setWasmKernels(false);
  const js = await fn();
  setWasmKernels(true);
  return [js, await fn()];
}

function randomVolume(n: number, seed: number, scale = 1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

afterEach(() => setWasmKernels(true));

describe('the kernels module', () => {
  it('compiles and instantiates here (Node has WebAssembly SIMD)', () => {
    expect(wasmKernels()).not.toBeNull();
  });
});

describe('wasm kernels = TypedArray kernels, bit for bit', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('blur: shapes with odd sizes, 3- to 25-tap kernels', () => {
    const shapes: [number, number, number][] = [
      [13, 11, 9],
      [7, 5, 3],
      [96, 12, 10],
      [2, 3, 17],
      [33, 1, 5],
    ];
    for (const shape of shapes) {
      const n = shape[0] * shape[1] * shape[2];
      const src = randomVolume(n, n, 100);
      for (const sigma of [0.3, 0.45, 0.6, 1, 2, 4]) {
        const [js, wasm] = jsThenWasm(() => blur3dArray(src, shape, sigma));
        expectSameBits(js, wasm, `blur ${shape} σ ${sigma}`);
      }
    }
  });

  function grid(shape: [number, number, number], spacing: number, origin: number): Grid {
    return gridFromSpec({
      shape,
      spacing: [spacing, spacing, spacing],
      origin: [origin, origin + 1, origin - 2],
      affine: [],
    } as never);
  }

  it('lattice warp: whole volume, slabs, into `out`, power-of-two and other spacings', () => {
    for (const [g, vg, scale] of [
      [grid([22, 18, 13], 2, -21), grid([9, 8, 6], 6, -21), 1.07],
      [grid([17, 15, 11], 1.5, -12), grid([7, 6, 5], 4.5, -12), 0.93],
    ] as [Grid, Grid, number][]) {
      const r = mulberry32(5);
      // displacements up to ±15 mm: many points land outside the grid
      const u = Float32Array.from({ length: 3 * vg.count }, () => (r() * 2 - 1) * 15);
      const template = Int32Array.from({ length: g.count + 1 }, (_, i) =>
        i === g.count ? 0 : 1 + (i % 7),
      );
      const axes = [0, 1, 2].map((a) =>
        Float32Array.from(
          { length: g.shape[a] },
          (_, i) => Math.fround((g.origin[a] + g.spacing[a] * i) / scale) + 0.25,
        ),
      ) as [Float32Array, Float32Array, Float32Array];
      const nz = g.shape[2];
      for (const slab of [
        undefined,
        { k0: 0, k1: nz >> 1 },
        { k0: nz >> 1, k1: nz },
        { k0: 3, k1: 4 },
      ]) {
        const [js, wasm] = jsThenWasm(() => warpLattice(u, vg, g, axes, template, slab));
        expectSameBits(js.labelIndex, wasm.labelIndex, `labels ${JSON.stringify(slab)}`);
        expectSameBits(js.templateIndex, wasm.templateIndex, `template ${JSON.stringify(slab)}`);
        expect(new Set(wasm.templateIndex).has(g.count)).toBe(true); // some outside
        const [jo, wo] = jsThenWasm(() => {
          const out = {
            labelIndex: new Int32Array(g.count).fill(-7),
            templateIndex: new Int32Array(g.count).fill(-7),
          };
          return warpLattice(u, vg, g, axes, template, slab, out);
        });
        expectSameBits(jo.labelIndex, wo.labelIndex, 'out labels');
        expectSameBits(jo.templateIndex, wo.templateIndex, 'out template');
      }
      // a non-finite displacement takes the TypedArray path (same result by construction)
      const bad = u.slice();
      bad[3] = Infinity;
      const [jb, wb] = jsThenWasm(() => warpLattice(bad, vg, g, axes, template));
      expectSameBits(jb.templateIndex, wb.templateIndex, 'non-finite');
    }
  });

  it('contrast: with and without the sulcal fraction and the PV blur', () => {
    const model = syntheticModel();
    const n = model.grid.count;
    const r = mulberry32(9);
    const nl = model.labels.infos.length;
    const labels = Int32Array.from({ length: n }, () => Math.floor(r() * nl));
    const csf = Float32Array.from({ length: n }, () => (r() < 0.2 ? r() : 0));
    for (const frac of [undefined, csf]) {
      for (const contrast of ['T1w', 'FLAIR'] as const) {
        clearSeedFields(model);
        const [js, wasm] = jsThenWasm(() =>
          renderContrastArray(model, labels, contrast, 64, 3, frac),
        );
        expectSameBits(js, wasm, `${contrast} ${frac ? 'with' : 'without'} fraction`);
      }
    }
    const app = model.manifest.appearance;
    const sigma = app.partialVolumeSigmaVoxels;
    try {
      app.partialVolumeSigmaVoxels = 0;
      const [js, wasm] = jsThenWasm(() => renderContrastArray(model, labels, 'T2w', 30, 4, csf));
      expectSameBits(js, wasm, 'no PV blur');
    } finally {
      app.partialVolumeSigmaVoxels = sigma;
    }
  });

  const CASES = PATHOLOGY_CASES;

  it('sample(): every pathology, new and kept subject (synthetic model)', async () => {
    const model = syntheticModel();
    for (const c of CASES) {
      const [js, wasm] = await jsThenWasmAsync(async () => {
        clearSeedFields(model);
        resetWasmMemory();
        const fresh = await sample(model, c, 31);
        const kept = await sample(model, { ...c, age: c.age - 7 }, 31);
        return { fresh, kept };
      });
      for (const k of ['fresh', 'kept'] as const) {
        expectSameBits(js[k].labels, wasm[k].labels, `${c.pathology} ${k} labels`);
        expectSameBits(js[k].image, wasm[k].image, `${c.pathology} ${k} image`);
        expect(wasm[k].metadata.regionalVolumesMl).toEqual(js[k].metadata.regionalVolumesMl);
      }
    }
  });
});

describe.skipIf(!existsSync(join(realDir, 'manifest.json')))(
  'wasm kernels = TypedArray kernels on the committed real model',
  () => {
    let model: Model;
    beforeAll(async () => {
      await initBackend('wasm');
      model = await loadModel(realDir, async (url) => new Response(readFileSync(url)));
    });
    afterAll(async () => {
      await initBackend('cpu');
    });

    it('new and kept subject, three pathologies', async () => {
      const cases: [Conditions, number][] = [
        [{ age: 70, sex: 'female', pathology: 'none', contrast: 'T1w' }, 1],
        [
          { age: 72, sex: 'female', pathology: 'alzheimers', adSeverity: 0.6, contrast: 'FLAIR' },
          123,
        ],
        [{ age: 45, sex: 'male', pathology: 'ms', msLesionLoadMl: 6, contrast: 'T2w' }, 77],
      ];
      for (const [c, seed] of cases) {
        const [js, wasm] = await jsThenWasmAsync(async () => {
          clearSeedFields(model);
          const fresh = await sample(model, c, seed);
          const kept = await sample(model, { ...c, age: c.age - 20 }, seed);
          return { fresh, kept };
        });
        for (const k of ['fresh', 'kept'] as const) {
          expectSameBits(js[k].labels, wasm[k].labels, `${c.pathology} ${k} labels`);
          expectSameBits(js[k].image, wasm[k].image, `${c.pathology} ${k} image`);
        }
      }
    }, 180_000);
  },
);

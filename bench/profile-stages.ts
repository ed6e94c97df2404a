/**
 * Where a sample's time goes, in Node on the CPU-side fast path (wasm by default): times the
 * seed-only fields (normals, texture blur, bias), the PV blur, and whole sample() for a new and a
 * kept subject, medians over --runs. `node --import tsx bench/profile-stages.ts [--backend cpu]`
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv;
const arg = (n: string, d: string) => {
  const i = argv.indexOf(`--${n}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : d;
};
const root = resolve(fileURLToPath(import.meta.url), '../..');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const { initBackend } = await import('../src/engine/backends');
const { loadModel } = await import('../src/engine/model/loadModel');
const { sample } = await import('../src/engine/sample');
const { normalsF32, streamSeed } = await import('../src/engine/rng');
const { blur3dArray } = await import('../src/engine/kernels/blur');
const { seedFields, clearSeedFields } = await import('../src/engine/render/seedCache');
await initBackend(arg('backend', 'wasm') as 'wasm');
const dir = join(root, 'public/models', arg('model', 'brainsynth-shape-v1'));
const model = await loadModel(dir, async (url) => new Response(readFileSync(url)));
const runs = Number(arg('runs', '7'));
const n = model.grid.count;
const base = { age: 70, sex: 'female', pathology: 'none', contrast: 'T1w' } as const;
const time = (fn: () => unknown) => {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
};
const atime = async (fn: () => Promise<unknown>) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};
const app = model.manifest.appearance as {
  texture?: { sigmaVoxels: number };
  textureSigmaVoxels: number;
};
const texSigma = app.texture?.sigmaVoxels ?? app.textureSigmaVoxels;
const rows: Record<string, number[]> = {};
const add = (k: string, v: number) => (rows[k] ??= []).push(v);
await sample(model, base, 1);
for (let r = 0; r < runs; r++) {
  const seed = 500 + r;
  add(
    'normalsF32 (1 stream)',
    time(() => normalsF32(streamSeed(seed, 1), n)),
  );
  const noise = normalsF32(streamSeed(seed, 1), n);
  add(
    'texture blur',
    time(() => blur3dArray(noise, model.grid.shape, model.manifest.appearance.textureSigmaVoxels)),
  );
  add(
    'PV blur',
    time(() =>
      blur3dArray(noise, model.grid.shape, model.manifest.appearance.partialVolumeSigmaVoxels),
    ),
  );
  clearSeedFields(model);
  add(
    'seedFields (all)',
    time(() => seedFields(model, seed + 1000)),
  );
  add('sample new', await atime(() => sample(model, base, seed + 2000)));
  add('sample kept', await atime(() => sample(model, { ...base, age: 40 + r }, seed + 2000)));
  add(
    'sample kept, fields prefetched (new seed)',
    await (async () => {
      seedFields(model, seed + 3000);
      return atime(() => sample(model, base, seed + 3000));
    })(),
  );
}
console.log(
  `grid ${model.grid.shape.join('×')} (${n} voxels), sigma tex ${texSigma} pv ${model.manifest.appearance.partialVolumeSigmaVoxels}, ${runs} runs`,
);
for (const [k, v] of Object.entries(rows))
  console.log(`${k.padEnd(44)} ${median(v).toFixed(1)} ms`);

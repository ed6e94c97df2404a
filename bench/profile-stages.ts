/**
 * Where a sample's time goes, in Node on the CPU-side fast path (wasm by default): times the
 * seed-only work (normals, texture field, bias, folding table), the label-dependent stages (warp
 * whole and one half slab, folding with a new seed and with the seed's cached distances, the
 * contrast with cached fields, PV blur) and whole sample() for a new and a kept subject, medians
 * over --runs. Node has no seed helper worker, so sample() here is single-threaded: in the
 * browser the seed-only work of a new subject and half of a kept subject's warp run in the helper
 * (docs/ARCHITECTURE.md, "The fast path"). `node --import tsx bench/profile-stages.ts [--backend cpu]`
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
const { seedFields, clearSeedFields, textureField } =
  await import('../src/engine/render/seedCache');
const { sampleAnatomy } = await import('../src/engine/sample');
const { applyFolding, cubeTable, clearFoldingCache } =
  await import('../src/engine/sampler/folding');
const { renderContrastArray } = await import('../src/engine/render/contrast');
const { warpLattice } = await import('../src/engine/kernels/warp');
const { scaledAxes } = await import('../src/engine/sampler/anatomy');
const { getModelArrays } = await import('../src/engine/sampler/modelTensors');
const { icvScale, drawLatents, sizeLatentCount } = await import('../src/engine/sampler/latents');
const { applySizing } = await import('../src/engine/sampler/sizing');
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
const anatomy = await sampleAnatomy(model, base, 1);
const folding = model.manifest.folding;
// a displacement field of the right size for the warp timings (values do not change the work)
const uField = new Float32Array(3 * model.velocityGrid.count).map((_, i) => Math.sin(i) * 2);
const nz = model.grid.shape[2];
{
  // warm-up: both warp variants optimised before they are timed
  const axes = scaledAxes(model.grid, model.manifest.calibration.gridCentreMm, 1);
  const tpl = getModelArrays(model).templatePadded;
  for (let i = 0; i < 3; i++) {
    warpLattice(uField, model.velocityGrid, model.grid, axes, tpl);
    warpLattice(uField, model.velocityGrid, model.grid, axes, tpl, { k0: nz >> 1, k1: nz });
  }
}
for (let r = 0; r < runs; r++) {
  const seed = 500 + r;
  const axes = scaledAxes(
    model.grid,
    model.manifest.calibration.gridCentreMm,
    icvScale(model.manifest, base, drawLatents(seed, model.manifest.shapeModel.components).zIcv),
  );
  const tpl = getModelArrays(model).templatePadded;
  add(
    'warp (lattice, whole volume)',
    time(() => warpLattice(uField, model.velocityGrid, model.grid, axes, tpl)),
  );
  add(
    "warp (upper half slab: the helper's share)",
    time(() =>
      warpLattice(uField, model.velocityGrid, model.grid, axes, tpl, { k0: nz >> 1, k1: nz }),
    ),
  );
  if (folding) {
    add(
      'folding table (cubeTable, seed-only)',
      time(() => cubeTable(seed, folding)),
    );
    clearFoldingCache(model);
    add(
      'folding (new seed)',
      time(() => applyFolding(model, anatomy.labelIndex.slice(), anatomy.templateIndex, seed)),
    );
    add(
      'folding (kept seed: cached distances)',
      time(() => applyFolding(model, anatomy.labelIndex.slice(), anatomy.templateIndex, seed)),
    );
  }
  if (model.manifest.sizing) {
    const folded = anatomy.labelIndex.slice();
    if (folding) applyFolding(model, folded, anatomy.templateIndex, seed);
    const lat = drawLatents(
      seed,
      model.manifest.shapeModel.components,
      sizeLatentCount(model.manifest),
    );
    add(
      'step 7c sizing (every structure)',
      time(() => applySizing(model, folded.slice(), base, lat.sizeLatents ?? 0)),
    );
  }
  add(
    'texture field (seed-only)',
    time(() => textureField(model, seed)),
  );
  seedFields(model, seed);
  add(
    'contrast (fields cached: combine, PV blur, bias, noise)',
    time(() => renderContrastArray(model, anatomy.labelIndex, 'T1w', 70, seed)),
  );
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

/**
 * Sampling benchmark (DESIGN.md §6): time to sample one 2 mm volume (anatomy + pathology +
 * contrast, i.e. `sample()`), per tfjs backend, in Node.
 *
 *   npm run bench                       # cpu, wasm, webgpu (Dawn + SwiftShader)
 *   npm run bench -- --runs 3 --backends cpu,wasm --model public/models/<id>
 *   npm run bench -- --browser [--backends auto,wasm,cpu,webgl,webgpu]   # headless Chromium
 *
 * Model: --model, else the first public/models/<id>/manifest.json, else the synthetic test
 * model scaled up to the real grid (96×120×104). Each backend runs in its own child process
 * (clean tensor accounting; WebGPU needs LD_LIBRARY_PATH for Chromium's libvulkan, which must be
 * set before the process starts). Budget: 0.5 s on a laptop-class GPU; software WebGPU
 * (SwiftShader) and CPU backends are reported, not judged.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

type BackendName = 'cpu' | 'wasm' | 'webgpu';

interface Result {
  backend: BackendName;
  adapter: string;
  model: string;
  grid: string;
  coldMs: number;
  runsMs: number[];
  medianMs: number;
  peakMB: number | null;
  pathologyMs: Record<string, number>;
  /** Exact sampler (scaling and squaring) vs distilled student, when the model has one. */
  samplers?: Record<string, SamplerTiming>;
  /** Bytes to download: the model's files and the student's. */
  downloadBytes?: { model: number; student: number };
  error?: string;
}

interface SamplerTiming {
  /** sample(): anatomy + pathology + contrast. */
  sampleMs: number;
  /** sampleAnatomy(): steps 1–7 only. */
  anatomyMs: number;
  /** Step 4 alone: exp(v) by scaling and squaring, or the student's forward pass. */
  step4Ms: number;
  /** Peak tensor memory of one sample() (tf.profile; not measured on WebGPU). */
  peakMB: number | null;
}

const BUDGET_MS = 500;
const here = fileURLToPath(import.meta.url);
const root = resolve(here, '../..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function findModelDir(): string | null {
  const explicit = arg('model', '');
  if (explicit) return resolve(explicit);
  const dir = join(root, 'public/models');
  if (!existsSync(dir)) return null;
  for (const id of readdirSync(dir).sort()) {
    if (existsSync(join(dir, id, 'manifest.json'))) return join(dir, id);
  }
  return null;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Child: benchmark one backend and print one JSON line. */
async function child(backend: BackendName, runs: number): Promise<void> {
  if (backend === 'webgpu') {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    Object.defineProperty(globalThis, 'navigator', {
      value: { gpu: create([]) },
      configurable: true,
    });
  }
  const tf = await import('@tensorflow/tfjs-core');
  const { initBackend } = await import('../src/engine/backends');
  const { loadModel } = await import('../src/engine/model/loadModel');
  const { sample } = await import('../src/engine/sample');
  const { syntheticModel } = await import('../src/engine/testing/syntheticModel');
  const choice = await initBackend(backend);
  if (choice.backend !== backend) throw new Error(choice.reason);
  let adapter: string = backend;
  if (backend === 'webgpu') {
    const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
    const info = (await gpu.requestAdapter())?.info;
    adapter = info ? `${info.vendor} ${info.architecture} ${info.description}`.trim() : 'unknown';
  }
  const dir = findModelDir();
  const model = dir
    ? await loadModel(dir, async (url) => new Response(readFileSync(url)))
    : syntheticModel({ shape: [96, 120, 104], id: 'synthetic (no real model found)' });
  const base = { age: 70, sex: 'female', pathology: 'none', contrast: 'T1w' } as const;
  let t0 = performance.now();
  await sample(model, base, 1);
  const coldMs = performance.now() - t0;
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    await sample(model, base, 100 + i);
    runsMs.push(performance.now() - t0);
  }
  let peakMB: number | null = null;
  if (backend !== 'webgpu') {
    // tf.profile tracks tensor bytes through the engine; on WebGPU it would also time every
    // kernel on the (slow) software adapter, so it is skipped there.
    const info = await tf.profile(async () => {
      await sample(model, base, 7);
    });
    peakMB = info.peakBytes / 2 ** 20;
  }
  const pathologyMs: Record<string, number> = {};
  if (backend !== 'webgpu') {
    for (const pathology of ['ms', 'glioma', 'stroke'] as const) {
      t0 = performance.now();
      await sample(model, { ...base, pathology }, 5);
      pathologyMs[pathology] = performance.now() - t0;
    }
  }
  const samplers = model.student
    ? await compareSamplers(model, base, runs, backend !== 'webgpu')
    : undefined;
  const g = model.grid.shape;
  const result: Result = {
    backend,
    adapter,
    model: model.manifest.id,
    grid: `${g[0]}×${g[1]}×${g[2]} @ ${model.grid.spacing[0]} mm`,
    coldMs,
    runsMs,
    medianMs: median(runsMs),
    peakMB,
    pathologyMs,
    samplers,
    downloadBytes: dir ? downloadBytes(dir) : undefined,
  };
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
}

/** Median timings of the exact sampler and the student (same seeds, same conditions). */
async function compareSamplers(
  model: import('../src/engine/model/loadModel').Model,
  base: { age: number; sex: 'female'; pathology: 'none'; contrast: 'T1w' },
  runs: number,
  profile: boolean,
): Promise<Record<string, SamplerTiming>> {
  const tf = await import('@tensorflow/tfjs-core');
  const { sample, sampleAnatomy } = await import('../src/engine/sample');
  const { expVelocity, velocityField } = await import('../src/engine/sampler/anatomy');
  const { getModelTensors } = await import('../src/engine/sampler/modelTensors');
  const { drawLatents, gainsFor, velocityCoefficients } =
    await import('../src/engine/sampler/latents');
  const { studentDisplacement, studentFeatures } = await import('../src/engine/student/forward');
  const student = model.student!;
  const norm = model.manifest.student?.architecture?.featureNormalisation;
  const out: Record<string, SamplerTiming> = {};
  const timeIt = async (fn: () => Promise<unknown>) => {
    await fn(); // warm-up (kernels, caches)
    const ms: number[] = [];
    for (let i = 0; i < Math.max(runs, 3); i++) {
      const t0 = performance.now();
      await fn();
      ms.push(performance.now() - t0);
    }
    return median(ms);
  };
  const c = { ...base, adSeverity: undefined };
  const latents = drawLatents(3, model.manifest.shapeModel.components);
  const gains = gainsFor(model.manifest, c);
  const coef = velocityCoefficients(model.manifest, latents, gains);
  const t = getModelTensors(model);
  for (const sampler of ['exact', 'student'] as const) {
    const step4 = async () => {
      const u = tf.tidy(() => {
        const v = velocityField(t.basis, coef, model.velocityGrid.count);
        return sampler === 'exact'
          ? expVelocity(v, model.velocityGrid, t.velocityCoords)
          : studentDisplacement(student, studentFeatures(student, latents, c, gains, norm), v);
      });
      await u.data();
      u.dispose();
    };
    const peak = profile
      ? (
          await tf.profile(async () => {
            await sample(model, base, 12, { sampler });
          })
        ).peakBytes /
        2 ** 20
      : null;
    out[sampler] = {
      sampleMs: await timeIt(() => sample(model, base, 11, { sampler })),
      anatomyMs: await timeIt(() => sampleAnatomy(model, base, 11, { sampler })),
      step4Ms: await timeIt(step4),
      peakMB: peak,
    };
  }
  return out;
}

/** Sizes of the files the browser downloads (manifest + arrays; student model.json + shards). */
function downloadBytes(dir: string): { model: number; student: number } {
  const man = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    arrays: Record<string, { file: string }>;
    student?: { file: string };
  };
  const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
  let model = size(join(dir, 'manifest.json'));
  for (const a of Object.values(man.arrays)) model += size(join(dir, a.file));
  let student = 0;
  if (man.student) {
    const mj = join(dir, man.student.file);
    student += size(mj);
    const json = JSON.parse(readFileSync(mj, 'utf8')) as { weightsManifest: { paths: string[] }[] };
    const sub = mj.slice(0, mj.lastIndexOf('/') + 1);
    for (const g of json.weightsManifest) for (const p of g.paths) student += size(join(sub, p));
  }
  return { model, student };
}

function runChild(backend: BackendName, runs: number): Result {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (backend === 'webgpu') {
    // Dawn needs a Vulkan loader + ICD: Chromium ships both (SwiftShader). DESIGN.md §7.
    env.LD_LIBRARY_PATH = ['/usr/lib/chromium', env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
    env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'bench-xdg-'));
  }
  const timeoutMs = Number(arg('timeout', '900')) * 1000;
  const out = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      here,
      '--child',
      backend,
      '--runs',
      String(runs),
      ...(arg('model', '') ? ['--model', arg('model', '')] : []),
    ],
    {
      env,
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 16 * 2 ** 20,
    },
  );
  const line = out.stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
  if (line) return JSON.parse(line.slice('BENCH_RESULT '.length)) as Result;
  const why = out.error
    ? String(out.error.message)
    : (out.stderr || out.stdout).trim().split('\n').slice(-3).join(' | ');
  return {
    backend,
    adapter: '',
    model: '',
    grid: '',
    coldMs: NaN,
    runsMs: [],
    medianMs: NaN,
    peakMB: null,
    pathologyMs: {},
    error: why || `exit ${out.status}`,
  };
}

function fmt(ms: number): string {
  return Number.isFinite(ms)
    ? ms >= 1000
      ? `${(ms / 1000).toFixed(2)} s`
      : `${ms.toFixed(0)} ms`
    : '—';
}

async function browserMain(): Promise<void> {
  const { runBrowserBench } = await import('./browser');
  const dir = findModelDir();
  let modelUrl: string;
  const fsAllow: string[] = [];
  if (dir && dir.startsWith(join(root, 'public'))) {
    modelUrl = dir.slice(join(root, 'public').length) + '/';
  } else {
    // No served model: write the synthetic stand-in to a temp folder Vite may serve via /@fs.
    const { buildSyntheticModel } = await import('../src/engine/testing/syntheticModel');
    const { writeFileSync } = await import('node:fs');
    const out = dir ?? mkdtempSync(join(tmpdir(), 'bench-model-'));
    if (!dir) {
      const { manifest, files } = buildSyntheticModel({
        shape: [96, 120, 104],
        id: 'synthetic (no real model found)',
      });
      writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest));
      for (const [name, bytes] of Object.entries(files)) writeFileSync(join(out, name), bytes);
    }
    fsAllow.push(out);
    modelUrl = `/@fs${out}/`;
  }
  const backends = arg('backends', 'auto,wasm,cpu,webgl,webgpu').split(',');
  // The synthetic stand-in has no student; a real model is timed with both samplers.
  const samplers = arg('samplers', dir ? 'student,exact' : 'exact').split(',');
  process.stderr.write(`headless Chromium: ${backends.join(', ')} (model ${modelUrl})…\n`);
  const results = await runBrowserBench({
    root,
    modelUrl,
    backends,
    samplers,
    runs: Number(arg('runs', '3')),
    timeoutMs: Number(arg('timeout', '600')) * 1000,
    fsAllow,
  });
  console.log(
    `\nheadless Chromium (SwiftShader, --disable-gpu) — EngineClient + worker, model ${modelUrl}`,
  );
  console.log(
    'budget: 0.5 s per volume on a laptop-class GPU (DESIGN.md §6); software adapters: report only\n',
  );
  const rows = [
    ['requested', 'chosen', 'sampler', 'init', 'cold', 'median', 'runs', 'reason / error'],
  ];
  for (const r of results) {
    const runs = Object.values(r.samplers ?? {});
    if (runs.length === 0) {
      rows.push([
        r.requested,
        r.backend ?? '—',
        '—',
        '',
        '',
        '',
        '0',
        (r.error ?? '').slice(0, 160),
      ]);
    }
    for (const s of runs) {
      rows.push([
        r.requested,
        r.backend ?? '—',
        s.sampler,
        fmt(r.initMs ?? NaN),
        fmt(s.coldMs),
        fmt(s.runsMs.length ? median(s.runsMs) : NaN),
        String(s.runsMs.length),
        (r.error ?? r.reason ?? '').slice(0, 160),
      ]);
    }
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  '));
}

async function main(): Promise<void> {
  const childIdx = process.argv.indexOf('--child');
  if (childIdx >= 0) {
    await child(process.argv[childIdx + 1] as BackendName, Number(arg('runs', '5')));
    process.exit(0);
  }
  if (process.argv.includes('--browser')) {
    await browserMain();
    return;
  }
  const backends = arg('backends', 'cpu,wasm,webgpu').split(',') as BackendName[];
  const runs = Number(arg('runs', '5'));
  const results: Result[] = [];
  for (const b of backends) {
    const n = b === 'webgpu' ? Number(arg('webgpu-runs', '1')) : runs;
    process.stderr.write(`benchmarking ${b} (${n} timed runs + 1 cold)…\n`);
    results.push(runChild(b, n));
  }
  const first = results.find((r) => !r.error);
  console.log(
    `\nsample() benchmark — model ${first?.model ?? '?'} (${first?.grid ?? '?'}), Node ${process.version}`,
  );
  console.log(
    'budget: 0.5 s per volume on a laptop-class GPU (DESIGN.md §6); CPU/WASM and software WebGPU: report only\n',
  );
  const rows = [
    [
      'backend',
      'adapter',
      'cold',
      'median',
      'runs',
      'peak tensors',
      'ms / glioma / stroke',
      'budget 0.5 s',
    ],
  ];
  for (const r of results) {
    if (r.error) {
      rows.push([r.backend, `failed: ${r.error.slice(0, 80)}`, '', '', '', '', '', '']);
      continue;
    }
    const software = r.backend !== 'webgpu' || /swiftshader|llvmpipe|software/i.test(r.adapter);
    const verdict = software ? 'report only' : r.medianMs <= BUDGET_MS ? 'PASS' : 'OVER';
    const path = ['ms', 'glioma', 'stroke'].map((p) => fmt(r.pathologyMs[p] ?? NaN)).join(' / ');
    rows.push([
      r.backend,
      r.adapter.slice(0, 40),
      fmt(r.coldMs),
      fmt(r.medianMs),
      String(r.runsMs.length),
      r.peakMB === null ? 'n/a' : `${r.peakMB.toFixed(0)} MB`,
      path,
      verdict,
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  '));
  printSamplerTable(results);
}

/** Exact sampler vs distilled student (the rows above use the default: the student). */
function printSamplerTable(results: Result[]): void {
  const withSamplers = results.filter((r) => r.samplers);
  if (withSamplers.length === 0) return;
  const dl = withSamplers[0].downloadBytes;
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MB`;
  console.log('\nexact sampler (scaling and squaring) vs distilled student, medians');
  if (dl) console.log(`download: model ${mb(dl.model)}, student +${mb(dl.student)}\n`);
  const rows = [
    ['backend', 'sampler', 'sample()', 'anatomy only', 'step 4 (u = exp v)', 'peak tensors'],
  ];
  for (const r of withSamplers) {
    for (const [name, s] of Object.entries(r.samplers!)) {
      const peak = s.peakMB === null ? 'n/a' : `${s.peakMB.toFixed(0)} MB`;
      rows.push([r.backend, name, fmt(s.sampleMs), fmt(s.anatomyMs), fmt(s.step4Ms), peak]);
    }
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  '));
}

await main();

/**
 * Sampling benchmark: time to sample one 2 mm volume (anatomy + pathology + contrast, i.e.
 * `sample()`), per tfjs backend, in Node (fresh and kept subject, memory over 100 samples), then
 * the app benchmark of issue 11 (bench/app.ts: production build in headless Chromium, each
 * figure beside its budget and the ratio to the issue's "before" figures). Run it under the lock:
 *
 *   flock /tmp/heavy.lock npm run bench  # Node cpu + wasm, then the app (vite build first)
 *   npm run bench -- --app-only [--no-build] [--app-runs 5] [--memory-samples 100] [--think-ms 1000]
 *   npm run bench -- --no-app --backends cpu,wasm,webgpu   # Node only (webgpu: Dawn + SwiftShader)
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
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
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
  /** Same seed, another age (a kept subject: the per-seed cache is warm). */
  keptMs?: number[];
  peakMB: number | null;
  memory?: NodeMemory;
  pathologyMs: Record<string, number>;
  /** Exact sampler (scaling and squaring) vs distilled student, when the model has one. */
  samplers?: Record<string, SamplerTiming>;
  /** Bytes to download: the model's files and the student's. */
  downloadBytes?: { model: number; student: number };
  error?: string;
}

/** Process memory around samples (Linux /proc; tf.memory()). */
interface NodeMemory {
  /** Peak RSS above the level before one sample (VmHWM reset via clear_refs), MB, median. */
  peakSampleMB: number;
  rssBeforeMB: number;
  rssAfterMB: number;
  samples: number;
  tensorsBefore: number;
  tensorsAfter: number;
  /** WASM heap size (MB) before/after, on the wasm backend. */
  wasmHeapBeforeMB?: number;
  wasmHeapAfterMB?: number;
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
  const keptMs: number[] = [];
  await sample(model, { ...base, age: 40 }, 100); // seed 100's fields are cached from here
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    await sample(model, { ...base, age: 45 + 5 * i }, 100);
    keptMs.push(performance.now() - t0);
  }
  const memory =
    backend !== 'webgpu'
      ? await measureMemory(
          tf,
          () => sample(model, base, 1000),
          Number(arg('memory-samples', '100')),
          (k) => sample(model, { ...base, age: 30 + (k % 50) }, 2000 + Math.floor(k / 2)),
        )
      : undefined;
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
    keptMs,
    peakMB,
    memory,
    pathologyMs,
    samplers,
    downloadBytes: dir ? downloadBytes(dir) : undefined,
  };
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
}

function procMB(key: 'VmRSS' | 'VmHWM'): number {
  const m = readFileSync('/proc/self/status', 'utf8').match(new RegExp(`${key}:\\s+(\\d+) kB`));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Peak RSS of one sample, then RSS / tensors / WASM heap before and after `n` more. */
async function measureMemory(
  tf: typeof import('@tensorflow/tfjs-core'),
  one: () => Promise<unknown>,
  n: number,
  each: (k: number) => Promise<unknown>,
): Promise<NodeMemory> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const wasmHeap = () => {
    const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
    return b.wasm?.HEAPU8 ? b.wasm.HEAPU8.byteLength / 2 ** 20 : undefined;
  };
  const peaks: number[] = [];
  for (let i = 0; i < 3; i++) {
    gc?.();
    const before = procMB('VmRSS');
    writeFileSync('/proc/self/clear_refs', '5'); // VmHWM := current RSS
    await one();
    peaks.push(procMB('VmHWM') - before);
  }
  gc?.();
  const rssBeforeMB = procMB('VmRSS');
  const tensorsBefore = tf.memory().numTensors;
  const wasmHeapBeforeMB = wasmHeap();
  for (let k = 0; k < n; k++) await each(k);
  gc?.();
  return {
    peakSampleMB: median(peaks),
    rssBeforeMB,
    rssAfterMB: procMB('VmRSS'),
    samples: n,
    tensorsBefore,
    tensorsAfter: tf.memory().numTensors,
    wasmHeapBeforeMB,
    wasmHeapAfterMB: wasmHeap(),
  };
}

/** Median timings of the exact sampler and the student (same seeds, same conditions). */
async function compareSamplers(
  model: import('../src/engine/model/loadModel').Model,
  base: { age: number; sex: 'female'; pathology: 'none'; contrast: 'T1w' },
  runs: number,
  profile: boolean,
): Promise<Record<string, SamplerTiming>> {
  const tf = await import('@tensorflow/tfjs-core');
  const { sample, sampleAnatomy, clearLabelCache } = await import('../src/engine/sample');
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
      // the whole sample each time: the same conditions again would reuse the label map
      sampleMs: await timeIt(() => {
        clearLabelCache(model);
        return sample(model, base, 11, { sampler });
      }),
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
    // Dawn needs a Vulkan loader + ICD: Chromium ships both (SwiftShader). docs/ENVIRONMENT.md "Node".
    env.LD_LIBRARY_PATH = ['/usr/lib/chromium', env.LD_LIBRARY_PATH].filter(Boolean).join(':');
    env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
    env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'bench-xdg-'));
  }
  const timeoutMs = Number(arg('timeout', '900')) * 1000;
  const out = spawnSync(
    process.execPath,
    [
      '--expose-gc',
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
    'budget: 0.1 s per volume on a real GPU (docs/BUDGETS.md); software adapters: report only\n',
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
  if (process.argv.includes('--app-only')) {
    await appMain([]);
    return;
  }
  const backends = arg('backends', 'cpu,wasm').split(',') as BackendName[];
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
    'budget: 0.1 s per volume on a real GPU (docs/BUDGETS.md); CPU/WASM and software WebGPU: report only\n',
  );
  const rows = [
    [
      'backend',
      'adapter',
      'cold',
      'median',
      'kept subject',
      'runs',
      'peak tensors',
      'ms / glioma / stroke',
      'budget 0.5 s',
    ],
  ];
  for (const r of results) {
    if (r.error) {
      rows.push([r.backend, `failed: ${r.error.slice(0, 80)}`, '', '', '', '', '', '', '']);
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
      fmt(r.keptMs?.length ? median(r.keptMs) : NaN),
      String(r.runsMs.length),
      r.peakMB === null ? 'n/a' : `${r.peakMB.toFixed(0)} MB`,
      path,
      verdict,
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  '));
  printSamplerTable(results);
  printMemoryTable(results);
  if (!process.argv.includes('--no-app')) await appMain(results);
}

function printMemoryTable(results: Result[]): void {
  const rows = [
    ['backend', 'peak / sample (RSS)', 'samples', 'RSS before → after', 'tensors', 'WASM heap'],
  ];
  for (const r of results) {
    const m = r.memory;
    if (!m) continue;
    rows.push([
      r.backend,
      `${m.peakSampleMB.toFixed(0)} MB`,
      String(m.samples),
      `${m.rssBeforeMB.toFixed(0)} → ${m.rssAfterMB.toFixed(0)} MB`,
      `${m.tensorsBefore} → ${m.tensorsAfter}`,
      m.wasmHeapBeforeMB === undefined
        ? '—'
        : `${m.wasmHeapBeforeMB.toFixed(0)} → ${(m.wasmHeapAfterMB ?? NaN).toFixed(0)} MB`,
    ]);
  }
  if (rows.length === 1) return;
  console.log('\nNode memory (process RSS from /proc; --memory-samples consecutive samples)');
  printRows(rows);
}

function printRows(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  for (const row of rows)
    console.log(row.map((cell, c) => (cell ?? '').padEnd(widths[c])).join('  '));
}

/**
 * The "now" column of issue 11 (measured before the fast path, same machine and method), used
 * only for the ratio column; budgets are the issue's.
 */
const ISSUE_11_BEFORE_MS = {
  sampleFresh: 1360,
  sampleKept: 1360, // no per-seed cache existed: a kept subject cost a full sample
  drawn: 2600,
  loadWarm: 7400,
  loadCold: 9000,
  nodeWasm: 1150,
};
const ISSUE_11_BEFORE_PEAK_MB = 302; // peak tensor memory per sample (the WASM heap grew to 372 MB)

async function appMain(nodeResults: Result[]): Promise<void> {
  const { runAppBench } = await import('./app');
  process.stderr.write('app bench: production build in headless Chromium (auto backend)…\n');
  let r: import('./app').AppBenchResult;
  try {
    r = await runAppBench({
      root,
      runs: Number(arg('app-runs', '5')),
      memorySamples: Number(arg('memory-samples', '100')),
      build: !process.argv.includes('--no-build'),
      thinkMs: Number(arg('think-ms', '0')),
    });
  } catch (e) {
    console.log(`\napp bench failed: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  console.log(
    `\nIssue 11 table — headless Chromium, production build, auto → ${r.backend} (${r.backendReason})`,
  );
  const think = Number(arg('think-ms', '0'));
  console.log(
    `medians of ${r.freshSampleMs.length} runs; inputs ${think > 0 ? `${think} ms apart (--think-ms)` : 'back to back'}; machine load: ${loadavg()}\n`,
  );
  const rows = [['figure', 'before (issue 11)', 'now', 'budget', 'before / now', 'verdict']];
  const row = (name: string, before: number, xs: number[], budget: number) => {
    const now = median(xs);
    rows.push([
      name,
      fmt(before),
      fmt(now),
      `≤ ${fmt(budget)}`,
      Number.isFinite(now) ? `${(before / now).toFixed(1)}×` : '—',
      !Number.isFinite(now) ? '—' : now <= budget ? 'PASS' : 'OVER',
    ]);
  };
  row('sample(), new subject', ISSUE_11_BEFORE_MS.sampleFresh, r.freshSampleMs, 300);
  row('sample(), kept subject', ISSUE_11_BEFORE_MS.sampleKept, r.keptSampleMs, 150);
  row('input → drawn, new subject', ISSUE_11_BEFORE_MS.drawn, r.freshDrawnMs, 500);
  row('input → drawn, kept subject', ISSUE_11_BEFORE_MS.drawn, r.keptDrawnMs, 500);
  row('load → first brain, warm', ISSUE_11_BEFORE_MS.loadWarm, r.warmLoadMs, 3000);
  row('load → first brain, cold', ISSUE_11_BEFORE_MS.loadCold, r.coldLoadMs, 4000);
  const wasm = nodeResults.find((x) => x.backend === 'wasm' && !x.error);
  if (wasm) row('Node sample(), wasm', ISSUE_11_BEFORE_MS.nodeWasm, wasm.runsMs, 300);
  printRows(rows);
  const split = r.split;
  if (split.viewerMs.length > 0) {
    const ms = (xs: number[]) => fmt(median(xs.filter(Number.isFinite)));
    console.log(
      `\ninput → drawn, where it goes (medians, new and kept together): worker sample() ${ms(split.sampleMs)}` +
        ` · delivery to the main thread ${ms(split.deliveryMs)} · main thread before the viewer ${ms(split.mainMs)}` +
        ` · viewer (swap, GL upload, 2D draw to readPixels) ${ms(split.viewerMs)}`,
    );
  }
  const peak = median(r.peakSampleMB);
  const growth = r.rssAfterMB - r.rssBeforeMB;
  console.log(
    `\nrenderer process memory: peak ${peak.toFixed(0)} MB above the pre-sample RSS per sample ` +
      `(budget ≤ 100 MB; before: ${ISSUE_11_BEFORE_PEAK_MB} MB peak tensors) → ${peak <= 100 ? 'PASS' : 'OVER'}`,
  );
  const cps = r.memoryCheckpoints;
  if (cps.length >= 2) {
    const slope = leastSquaresSlope(
      cps.map((c) => c.samples),
      cps.map((c) => c.rssMB),
    );
    // "No growth": under 0.1 MB per sample, i.e. < 10 MB over 100 samples after a forced GC.
    const verdict = slope < 0.1 ? 'PASS (no growth)' : 'OVER (grows)';
    console.log(
      `growth over ${r.memorySamples} samples, each reading after a forced GC (page + workers): ` +
        `RSS ${r.rssBeforeMB.toFixed(0)} → ${r.rssAfterMB.toFixed(0)} MB ` +
        `(${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB); slope ${slope >= 0 ? '+' : ''}${slope.toFixed(3)} MB/sample ` +
        `(budget: no growth, < 0.1 MB/sample) → ${verdict}`,
    );
    console.log(
      `  checkpoints (samples: RSS / page JS heap): ` +
        cps
          .map((c) => `${c.samples}: ${c.rssMB.toFixed(0)} / ${c.jsHeapMB.toFixed(1)} MB`)
          .join(' · '),
    );
  }
  const tl = r.timelapse;
  if (tl) {
    console.log(
      `\ntime-lapse of one subject ageing (${tl.frames} frames, 20 → 90 y): played at ` +
        `${tl.fps.toFixed(1)} frames/s (asked ${tl.askedFps}; counted in the page over ` +
        `${tl.fpsWindowMs / 1000} s; budget ≥ 10) → ${tl.fps >= 10 ? 'PASS' : 'OVER'}; ` +
        `frames computed ahead in ${tl.computeS.toFixed(1)} s (${tl.frameMs.toFixed(0)} ms a frame), ` +
        `pictures prepared on the first Play in ${tl.prepareS.toFixed(1)} s`,
    );
  } else console.log('\ntime-lapse: not measured (see the error above)');
  const all = (name: string, xs: number[]) => `${name}: ${xs.map((x) => x.toFixed(0)).join(', ')}`;
  console.log(
    [
      all('runs fresh sample ms', r.freshSampleMs),
      all('kept', r.keptSampleMs),
      all('drawn fresh', r.freshDrawnMs),
      all('drawn kept', r.keptDrawnMs),
      all('load warm', r.warmLoadMs),
      all('load cold', r.coldLoadMs),
      all('peak MB', r.peakSampleMB),
    ].join('\n'),
  );
}

/** Least-squares slope of y over x. */
function leastSquaresSlope(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (x[i] - mx) * (y[i] - my);
    den += (x[i] - mx) ** 2;
  }
  return den > 0 ? num / den : NaN;
}

function loadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
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

/**
 * Browser half of the sampling benchmark (bench/browser.ts drives it with headless Chromium).
 * Runs the real path: EngineClient → module worker → backend choice → sample(); the result is
 * left on `window.__bench` for the driver. Query: ?model=<url>&backend=<auto|webgpu|…>&runs=N
 * &samplers=student,exact (each timed in turn: a cold sample, then N runs; the sampler that ran
 * is read back from the volume's metadata).
 */
import { EngineClient } from '../../src/engine';
import type { BackendPreference, SamplerName } from '../../src/engine';

export interface SamplerRun {
  /** What the volume's metadata says ran. */
  sampler: string;
  coldMs: number;
  runsMs: number[];
}

export interface BrowserBenchResult {
  backend?: string;
  reason?: string;
  initMs?: number;
  /** Per requested sampler. */
  samplers?: Record<string, SamplerRun>;
  regionalVolumesMl?: Record<string, number>;
  error?: string;
}

declare global {
  interface Window {
    __bench?: BrowserBenchResult;
  }
}

const params = new URLSearchParams(location.search);
const out = document.getElementById('out');

async function run(): Promise<BrowserBenchResult> {
  const t0 = performance.now();
  const client = await EngineClient.create({
    modelUrl: params.get('model') ?? '/models/brainsynth-shape-v1/',
    backend: (params.get('backend') ?? 'auto') as BackendPreference,
  });
  const initMs = performance.now() - t0;
  const base = { age: 70, sex: 'female', pathology: 'none', contrast: 'T1w' } as const;
  const samplers: Record<string, SamplerRun> = {};
  let regionalVolumesMl: Record<string, number> | undefined;
  for (const name of (params.get('samplers') ?? 'student,exact').split(',')) {
    const sampler = name as SamplerName;
    let t = performance.now();
    const first = await client.sample(base, 1, sampler);
    const coldMs = performance.now() - t;
    regionalVolumesMl ??= first.metadata.regionalVolumesMl;
    const runsMs: number[] = [];
    for (let i = 0; i < Number(params.get('runs') ?? '3'); i++) {
      t = performance.now();
      await client.sample(base, 100 + i, sampler);
      runsMs.push(performance.now() - t);
    }
    samplers[name] = { sampler: first.metadata.sampler ?? 'exact', coldMs, runsMs };
  }
  client.dispose();
  return {
    backend: client.backend,
    reason: client.backendReason,
    initMs,
    samplers,
    regionalVolumesMl,
  };
}

run()
  .then((r) => (window.__bench = r))
  .catch((e: unknown) => (window.__bench = { error: e instanceof Error ? e.message : String(e) }))
  .finally(() => {
    if (out) out.textContent = JSON.stringify(window.__bench, null, 1);
  });

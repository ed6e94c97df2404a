/**
 * Browser half of the sampling benchmark (bench/browser.ts drives it with headless Chromium).
 * Runs the real path: EngineClient → module worker → backend choice → sample(); the result is
 * left on `window.__bench` for the driver. Query: ?model=<url>&backend=<auto|webgpu|…>&runs=N
 */
import { EngineClient } from '../../src/engine';
import type { BackendPreference } from '../../src/engine';

export interface BrowserBenchResult {
  backend?: string;
  reason?: string;
  initMs?: number;
  coldMs?: number;
  runsMs?: number[];
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
  let t = performance.now();
  const first = await client.sample(base, 1);
  const coldMs = performance.now() - t;
  const runsMs: number[] = [];
  for (let i = 0; i < Number(params.get('runs') ?? '3'); i++) {
    t = performance.now();
    await client.sample(base, 100 + i);
    runsMs.push(performance.now() - t);
  }
  client.dispose();
  return {
    backend: client.backend,
    reason: client.backendReason,
    initMs,
    coldMs,
    runsMs,
    regionalVolumesMl: first.metadata.regionalVolumesMl,
  };
}

run()
  .then((r) => (window.__bench = r))
  .catch((e: unknown) => (window.__bench = { error: e instanceof Error ? e.message : String(e) }))
  .finally(() => {
    if (out) out.textContent = JSON.stringify(window.__bench, null, 1);
  });

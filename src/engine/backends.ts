/**
 * tfjs backend choice.
 *
 * Order for 'auto': webgpu → webgl → wasm → cpu. Backends are imported dynamically so that Node
 * (tests, bench) never loads WebGL code and the browser bundle only fetches what it tries.
 *
 * A GPU backend is not always a win: headless Chromium on a machine without a GPU exposes
 * WebGPU and WebGL through SwiftShader (software), far slower than the CPU-side path (WASM +
 * the TypedArray kernels of kernels/). So when the adapter/renderer is software
 * (isFallbackAdapter, or "swiftshader"/"llvmpipe"/"software" in the adapter info / WebGL
 * renderer string), 'auto' skips it — decided from the adapter info alone, before tfjs
 * initialises it, with no start-up benchmark — and the decision is cached per browser + adapter.
 * The returned `reason` says what happened, for the UI and the logs. `?backend=` still forces any.
 *
 * WASM: the .wasm binaries must be served; in the browser we point tfjs at them with
 * `new URL(…, import.meta.url)` (Vite copies them as assets); in Node tfjs finds them itself.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName } from './types';
import { trilinear, type Points } from './sampler/interpolate';
import { blur3d } from './render/contrast';
import { installFastCpuGather } from './sampler/fastCpuGather';
import { gridFromSpec } from './model/grid';

export type BackendPreference = BackendName | 'auto';

export interface BackendChoice {
  backend: BackendName;
  reason: string;
  /** Benchmark timings (ms) when one ran. */
  benchmarkMs?: Partial<Record<BackendName, number>>;
}

const ORDER: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];
const SOFTWARE_RE = /swiftshader|llvmpipe|lavapipe|software|basic render/i;

const isBrowserLike = (): boolean =>
  typeof (globalThis as { document?: unknown }).document !== 'undefined' ||
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';

interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: {
    vendor?: string;
    architecture?: string;
    device?: string;
    description?: string;
    isFallbackAdapter?: boolean;
  };
}

/** Register the backend's factory (dynamic import) — does not initialise it. */
async function importBackend(name: BackendName): Promise<void> {
  switch (name) {
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      return;
    case 'webgl':
      await import('@tensorflow/tfjs-backend-webgl');
      return;
    case 'webgpu':
      await import('@tensorflow/tfjs-backend-webgpu');
      return;
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (isBrowserLike()) {
        // Static literals so Vite can rewrite them into served asset URLs (dev and build).
        wasm.setWasmPaths({
          'tfjs-backend-wasm.wasm': new URL(
            '../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
            import.meta.url,
          ).href,
          'tfjs-backend-wasm-simd.wasm': new URL(
            '../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
            import.meta.url,
          ).href,
          'tfjs-backend-wasm-threaded-simd.wasm': new URL(
            '../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm',
            import.meta.url,
          ).href,
        });
      }
      return;
    }
  }
}

/** Import + initialise one backend and make it current. Returns an error message on failure. */
async function activate(name: BackendName): Promise<string | null> {
  // In Node, tfjs-backend-cpu prints a banner recommending tfjs-node (which cannot be installed
  // here: it downloads libtensorflow). PROD silences tfjs warnings; only set it under Node.
  if (tf.env().getBool('IS_NODE')) tf.env().set('PROD', true);
  try {
    if (name === 'webgpu') {
      const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } })
        .navigator?.gpu;
      if (!gpu) return 'navigator.gpu is not available';
      // tfjs-backend-webgpu dereferences the adapter without a null check; ask first.
      if (!(await gpu.requestAdapter()))
        return 'no WebGPU adapter (navigator.gpu.requestAdapter() returned null)';
    }
    if (name === 'webgl' && !isBrowserLike()) return 'WebGL needs a browser';
    await importBackend(name);
    const ok = await tf.setBackend(name);
    if (!ok) return `tf.setBackend('${name}') failed`;
    await tf.ready();
    if (name === 'cpu') installFastCpuGather();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Whether the active GPU backend runs on a software rasteriser, with a description. */
async function softwareGpu(name: BackendName): Promise<{ software: boolean; description: string }> {
  if (name === 'webgpu') {
    const gpu = (
      globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } } }
    ).navigator?.gpu;
    const adapter = gpu ? await gpu.requestAdapter() : null;
    const info = adapter?.info ?? {};
    const description =
      [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') ||
      'unknown adapter';
    const fallback = Boolean(adapter?.isFallbackAdapter || info.isFallbackAdapter);
    return {
      software: fallback || SOFTWARE_RE.test(description),
      description: fallback ? `${description} (fallback adapter)` : description,
    };
  }
  if (name === 'webgl') {
    try {
      const backend = tf.backend() as unknown as { gpgpu?: { gl?: WebGL2RenderingContext } };
      const gl = backend.gpgpu?.gl;
      if (!gl) return { software: false, description: 'unknown renderer' };
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      const renderer = String(
        ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER),
      );
      return { software: SOFTWARE_RE.test(renderer), description: renderer };
    } catch {
      return { software: false, description: 'unknown renderer' };
    }
  }
  return { software: false, description: name };
}

/**
 * Time the sampler's hot ops on the current backend (ms, median of 3 after a warm-up that also
 * compiles shaders): trilinear lookup of 32³ points in a 16³ field, plus a 24³ separable blur.
 */
export async function benchmarkCurrentBackend(): Promise<number> {
  const grid = gridFromSpec({
    shape: [16, 16, 16],
    spacing: [6, 6, 6],
    origin: [0, 0, 0],
    affine: [],
  });
  const m = 32 ** 3;
  const fieldData = new Float32Array(3 * grid.count).map((_, i) => Math.sin(i * 0.37));
  const ptsData = new Float32Array(3 * m).map((_, i) => ((i * 7919) % 9000) / 100);
  const field = tf.tensor2d(fieldData, [3, grid.count]);
  const pts = [0, 1, 2].map((a) => tf.tensor1d(ptsData.subarray(a * m, (a + 1) * m))) as Points;
  const vol = tf.tensor5d(
    new Float32Array(24 ** 3).map((_, i) => Math.cos(i)),
    [1, 24, 24, 24, 1],
  );
  const once = async () => {
    const t0 = performance.now();
    const out = tf.tidy(() => tf.add(tf.sum(trilinear(field, grid, pts)), tf.sum(blur3d(vol, 1))));
    await out.data();
    out.dispose();
    return performance.now() - t0;
  };
  try {
    await once();
    const times = [await once(), await once(), await once()].sort((a, b) => a - b);
    return times[1];
  } finally {
    tf.dispose([field, ...pts, vol]);
  }
}

/** Where 'auto' keeps its decision per browser + adapter (localStorage is not in a worker). */
export interface BackendDecisionCache {
  get(key: string): Promise<BackendName | null>;
  set(key: string, backend: BackendName): Promise<void>;
}

export interface InitOptions {
  /** Decision cache for 'auto'; default: IndexedDB where it exists (browser, worker), else none. */
  cache?: BackendDecisionCache | null;
}

/**
 * Whether a GPU backend would run on a software adapter, found WITHOUT initialising tfjs on it:
 * WebGPU from the adapter (isFallbackAdapter, vendor/architecture/description strings), WebGL
 * from the renderer string of a throwaway 1×1 OffscreenCanvas context. null: cannot tell here.
 */
async function probeGpu(
  name: 'webgpu' | 'webgl',
): Promise<{ available: boolean; software: boolean; description: string } | null> {
  if (name === 'webgpu') {
    const gpu = (
      globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } } }
    ).navigator?.gpu;
    if (!gpu)
      return { available: false, software: false, description: 'navigator.gpu is not available' };
    const adapter = await gpu.requestAdapter().catch(() => null);
    if (!adapter) return { available: false, software: false, description: 'no WebGPU adapter' };
    const info = adapter.info ?? {};
    const description =
      [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') ||
      'unknown adapter';
    const fallback = Boolean(adapter.isFallbackAdapter || info.isFallbackAdapter);
    return {
      available: true,
      software: fallback || SOFTWARE_RE.test(description),
      description: fallback ? `${description} (fallback adapter)` : description,
    };
  }
  const Offscreen = (
    globalThis as { OffscreenCanvas?: new (w: number, h: number) => OffscreenCanvas }
  ).OffscreenCanvas;
  if (!Offscreen) return null;
  try {
    const gl = new Offscreen(1, 1).getContext('webgl2');
    if (!gl) return { available: false, software: false, description: 'no WebGL2 context' };
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(
      ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER),
    );
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return { available: true, software: SOFTWARE_RE.test(renderer), description: renderer };
  } catch {
    return null;
  }
}

function browserKey(gpuDescription: string): string {
  const ua = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? 'node';
  return `${ua}|${gpuDescription}`;
}

/**
 * Pick and initialise a backend. `pref` forces one (the UI's ?backend=cpu); if it fails we fall
 * back along the usual order and say so in `reason`.
 *
 * 'auto' never benchmarks: a software adapter (SwiftShader & co., where a benchmark cost 2.3 s at
 * start-up and the CPU-side path with the TypedArray kernels wins anyway) is recognised from its
 * adapter info and skipped before tfjs initialises it; a hardware GPU is used. The decision is
 * cached per browser + WebGPU adapter (`options.cache`).
 */
export async function initBackend(
  pref: BackendPreference = 'auto',
  options: InitOptions = {},
): Promise<BackendChoice> {
  const failures: string[] = [];
  if (pref !== 'auto') {
    const err = await activate(pref);
    if (!err) return { backend: pref, reason: `forced: ${pref}` };
    failures.push(`${pref} (requested): ${err}`);
  }
  const cache = options.cache === undefined ? defaultDecisionCache() : options.cache;
  let key: string | null = null;
  let webgpuProbe: Awaited<ReturnType<typeof probeGpu>> | undefined;
  if (pref === 'auto') {
    const gpu = (webgpuProbe = await probeGpu('webgpu'));
    key = browserKey(gpu?.description ?? 'none');
    const cached = cache ? await cache.get(key).catch(() => null) : null;
    if (cached && !(await activate(cached))) {
      return {
        backend: cached,
        reason: `using ${cached} (decision cached for this browser and adapter)`,
      };
    }
  }
  for (const name of ORDER) {
    if (name === pref) continue;
    if (name === 'webgpu' || name === 'webgl') {
      const probe =
        name === 'webgpu' && webgpuProbe !== undefined ? webgpuProbe : await probeGpu(name);
      if (probe && !probe.available) {
        failures.push(`${name}: ${probe.description}`);
        continue;
      }
      if (probe?.software) {
        failures.push(`${name}: software adapter (${probe.description}), not used`);
        continue;
      }
    }
    const err = await activate(name);
    if (err) {
      failures.push(`${name}: ${err}`);
      continue;
    }
    if (name === 'webgpu' || name === 'webgl') {
      // No probe was possible before (no OffscreenCanvas): check the initialised backend.
      const sw = await softwareGpu(name);
      if (sw.software) {
        failures.push(`${name}: software adapter (${sw.description}), not used`);
        continue;
      }
    }
    const prefix = failures.length ? `unavailable: ${failures.join('; ')}. ` : '';
    if (key && cache) await cache.set(key, name).catch(() => undefined);
    if (name !== 'webgpu' && name !== 'webgl')
      return { backend: name, reason: `${prefix}using ${name}` };
    const sw = await softwareGpu(name);
    return { backend: name, reason: `${prefix}${name} on ${sw.description}` };
  }
  throw new Error(`No tfjs backend could be initialised: ${failures.join('; ')}`);
}

/** IndexedDB-backed decision cache (browser main thread or worker); null where there is none. */
function defaultDecisionCache(): BackendDecisionCache | null {
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!idb || !isBrowserLike()) return null;
  const STORE = 'decisions';
  const open = () =>
    new Promise<IDBDatabase>((resolve, reject) => {
      const req = idb.open('brainsynth-backend', 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('indexedDB.open failed'));
    });
  const withTimeout = <T>(p: Promise<T>, fallback: T) =>
    Promise.race([p, new Promise<T>((r) => setTimeout(() => r(fallback), 300))]).catch(
      () => fallback,
    );
  return {
    get: (key) =>
      withTimeout(
        open().then(
          (db) =>
            new Promise<BackendName | null>((resolve) => {
              const req = db.transaction(STORE).objectStore(STORE).get(key);
              req.onsuccess = () => {
                const v = req.result as unknown;
                resolve(
                  typeof v === 'string' && ORDER.includes(v as BackendName)
                    ? (v as BackendName)
                    : null,
                );
                db.close();
              };
              req.onerror = () => {
                resolve(null);
                db.close();
              };
            }),
        ),
        null,
      ),
    set: (key, backend) =>
      withTimeout(
        open().then(
          (db) =>
            new Promise<void>((resolve) => {
              const tx = db.transaction(STORE, 'readwrite');
              tx.objectStore(STORE).put(backend, key);
              tx.oncomplete = tx.onerror = () => {
                resolve();
                db.close();
              };
            }),
        ),
        undefined,
      ),
  };
}

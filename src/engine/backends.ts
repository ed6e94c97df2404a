/**
 * tfjs backend choice.
 *
 * Order for 'auto': webgpu → webgl → wasm → cpu. Backends are imported dynamically so that Node
 * (tests, bench) never loads WebGL code and the browser bundle only fetches what it tries.
 *
 * A GPU backend is not always a win: headless Chromium on a machine without a GPU exposes
 * WebGPU and WebGL through SwiftShader (software), which DESIGN.md §7 measured ~8× slower than
 * the CPU backend for conv3d. So when the adapter/renderer is software (isFallbackAdapter,
 * or "swiftshader"/"llvmpipe"/"software" in the adapter info / WebGL renderer string), 'auto'
 * runs a short benchmark of the sampler's own hot ops (8-gather trilinear lookup + separable
 * conv3d blur) on that backend and on the best CPU-side backend (wasm, else cpu) and keeps
 * the faster one. The returned `reason` says what happened, for the UI and the logs.
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

/**
 * Pick and initialise a backend. `pref` forces one (the UI's ?backend=cpu); if it fails we fall
 * back along the usual order and say so in `reason`.
 */
export async function initBackend(pref: BackendPreference = 'auto'): Promise<BackendChoice> {
  const failures: string[] = [];
  if (pref !== 'auto') {
    const err = await activate(pref);
    if (!err) return { backend: pref, reason: `forced: ${pref}` };
    failures.push(`${pref} (requested): ${err}`);
  }
  for (const name of ORDER) {
    if (name === pref) continue;
    const err = await activate(name);
    if (err) {
      failures.push(`${name}: ${err}`);
      continue;
    }
    const prefix = failures.length ? `unavailable: ${failures.join('; ')}. ` : '';
    if (name !== 'webgpu' && name !== 'webgl')
      return { backend: name, reason: `${prefix}using ${name}` };
    const sw = await softwareGpu(name);
    if (!sw.software) return { backend: name, reason: `${prefix}${name} on ${sw.description}` };
    return chooseBetweenSoftwareGpuAndCpu(name, sw.description, prefix);
  }
  throw new Error(`No tfjs backend could be initialised: ${failures.join('; ')}`);
}

async function chooseBetweenSoftwareGpuAndCpu(
  gpu: BackendName,
  description: string,
  prefix: string,
): Promise<BackendChoice> {
  const timings: Partial<Record<BackendName, number>> = {};
  timings[gpu] = await benchmarkCurrentBackend();
  let cpuSide: BackendName = 'wasm';
  if (await activate('wasm')) {
    cpuSide = 'cpu';
    const err = await activate('cpu');
    if (err) {
      await activate(gpu);
      return {
        backend: gpu,
        reason: `${prefix}${gpu} is software (${description}); no CPU backend to compare`,
        benchmarkMs: timings,
      };
    }
  }
  timings[cpuSide] = await benchmarkCurrentBackend();
  const gpuMs = timings[gpu] ?? Infinity;
  const cpuMs = timings[cpuSide] ?? Infinity;
  const winner = gpuMs <= cpuMs ? gpu : cpuSide;
  if (winner === gpu) await activate(gpu);
  return {
    backend: winner,
    reason:
      `${prefix}${gpu} runs on a software adapter (${description}); benchmark ${gpu} ${gpuMs.toFixed(1)} ms vs ` +
      `${cpuSide} ${cpuMs.toFixed(1)} ms → ${winner}`,
    benchmarkMs: timings,
  };
}

/**
 * The WebAssembly kernels (kernels.wat, assembled by wabt into generated/kernels.wasm.ts) behind
 * plain typed-array functions: one module instance per thread (the engine worker, the seed helper worker, Node), made on first use with a
 * synchronous compile (workers and Node allow it). Where WebAssembly or its SIMD instructions are
 * missing, or `setWasmKernels(false)`, `wasmKernels()` is null and the callers run their
 * TypedArray code instead: the same bits either way (wasm.test.ts).
 *
 * Memory: one growing linear memory. Data that stays the same across samples is kept resident
 * (the template labels of the warp, a seed's four contrast fields), keyed by the identity of the
 * array or object it was copied from, so a kept subject does not copy them again; everything
 * else is per-call scratch placed after the resident regions.
 */
import { KERNELS_WASM_BASE64 } from '../../generated/kernels.wasm';

export interface KernelExports {
  mem: WebAssembly.Memory;
  warpX(
    u: number,
    i0: number,
    w: number,
    ax: number,
    rows: number,
    vx: number,
    mx: number,
    vy: number,
    vz: number,
    lo: number,
    hi: number,
  ): void;
  warpY(
    ax: number,
    i0: number,
    w: number,
    ay: number,
    vz: number,
    vy: number,
    my: number,
    mx: number,
    lo: number,
    hi: number,
  ): void;
  warpDz(ay: number, dz1: number, vz: number, plane: number, lo: number, hi: number): void;
  warpZ(...args: number[]): void;
  blurX(src: number, dst: number, w: number, k: number, len: number, lines: number): void;
  blurYZ(
    src: number,
    dst: number,
    w: number,
    k: number,
    len: number,
    stride: number,
    width: number,
    blocks: number,
    blockStride: number,
  ): void;
  combine(
    labels: number,
    tex: number,
    csf: number,
    means: number,
    sds: number,
    csfMean: number,
    out: number,
    n: number,
  ): void;
  biasWm(
    img: number,
    bias: number,
    labels: number,
    mask: number,
    n: number,
    countAt: number,
  ): number;
  rician(img: number, n1: number, n2: number, out: number, sigma: number, n: number): void;
  labelValues(labels: number, values: number, out: number, counts: number, n: number): void;
}

let enabled = true;
/** undefined: not tried yet; null: not available here. */
let instance: KernelExports | null | undefined;

/** Turn the WebAssembly kernels off (tests, A/B benchmarks) or back on (the default). */
export function setWasmKernels(on: boolean): void {
  enabled = on;
}

/** The kernels, or null when they are off or cannot run here. */
export function wasmKernels(): KernelExports | null {
  if (!enabled) return null;
  if (instance === undefined) {
    try {
      const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0));
      const module = new WebAssembly.Module(bytes);
      instance = new WebAssembly.Instance(module).exports as unknown as KernelExports;
    } catch {
      instance = null; // no WebAssembly SIMD (or no sync compile on this thread)
    }
  }
  return instance;
}

/** Bytes after every region: SIMD loops may read or write up to 12 bytes past a volume. */
const PAD = 64;
/** [0, 64): small outputs (biasWm's count). */
const FIRST = 64;

function align(bytes: number): number {
  return (bytes + PAD + 15) & ~15;
}

interface Resident {
  key: object;
  at: number;
  bytes: number;
}

const resident = new Map<string, Resident>();
/** End of the resident regions: scratch starts here. */
let top = FIRST;

function ensure(mem: WebAssembly.Memory, end: number): void {
  const have = mem.buffer.byteLength;
  if (end > have) mem.grow(Math.ceil((end - have) / 65536));
}

/**
 * A resident region `name` holding `bytes` copied by `write(at)` from `key`; copied again only
 * when `key` is not the object it was last copied from. A size change drops every resident
 * region (they are placed again as they are next asked for).
 */
export function residentRegion(
  ex: KernelExports,
  name: string,
  key: object,
  bytes: number,
  write: (at: number) => void,
): number {
  let r = resident.get(name);
  if (r && r.bytes !== bytes) {
    resident.clear();
    top = FIRST;
    r = undefined;
  }
  if (!r) {
    r = { key: {}, at: top, bytes };
    top += align(bytes);
    resident.set(name, r);
    ensure(ex.mem, top);
  }
  if (r.key !== key) {
    write(r.at);
    r.key = key;
  }
  return r.at;
}

/** Per-call scratch regions of these byte sizes, after the resident ones; their offsets. */
export function scratchRegions(ex: KernelExports, sizes: number[]): number[] {
  let at = top;
  const out = sizes.map((b) => {
    const here = at;
    at += align(b);
    return here;
  });
  ensure(ex.mem, at);
  return out;
}

/** Forget what is resident (tests). */
export function resetWasmMemory(): void {
  resident.clear();
  top = FIRST;
}

export function f32View(ex: KernelExports): Float32Array {
  return new Float32Array(ex.mem.buffer);
}

export function i32View(ex: KernelExports): Int32Array {
  return new Int32Array(ex.mem.buffer);
}

/**
 * The fast path's kernels on the WebAssembly module (runtime.ts): the lattice warp, the
 * separable blur, the contrast's label-dependent steps and the label values. Each takes the same
 * inputs as its TypedArray twin (kernels/warp.ts, kernels/blur.ts, render/contrast.ts, sample.ts)
 * and returns the same bits; the callers pick one with `wasmKernels()`.
 */
import { f32View, i32View, residentRegion, scratchRegions, type KernelExports } from './runtime';

export interface LatticeWarpArgs {
  u: Float32Array;
  vshape: readonly number[];
  shape: readonly number[];
  axes: [Float32Array, Float32Array, Float32Array];
  templatePadded: Int32Array;
  wx: { i0: Int32Array; w: Float32Array };
  wy: { i0: Int32Array; w: Float32Array };
  wz: { i0: Int32Array; w: Float32Array };
  k0: number;
  k1: number;
  cellLo: number;
  cellHi: number;
  /** float32 origin and spacing of the output grid (nearest-voxel rounding) */
  origin: [number, number, number];
  spacing: [number, number, number];
  /** where slice k0 goes: labelIndex/templateIndex from element `at` */
  labelIndex: Int32Array;
  templateIndex: Int32Array;
  at: number;
}

/**
 * Whether the wasm warp gives the TypedArray warp's bits for this displacement: its nearest-voxel
 * step saturates where JS's `| 0` wraps, which differs only for |t| ≥ 2³¹ voxels (a displacement
 * no model makes); such input, or a non-finite one, takes the TypedArray path.
 */
export function warpInputOk(u: Float32Array): boolean {
  for (let i = 0; i < u.length; i++) {
    const v = u[i];
    if (!(v > -1e6 && v < 1e6)) return false;
  }
  return true;
}

/** `warpLattice` (kernels/warp.ts) on the wasm kernels: writes slices [k0, k1) into the outputs. */
export function warpLatticeWasm(ex: KernelExports, a: LatticeWarpArgs): void {
  const [vx, vy, vz] = a.vshape;
  const [nx, ny, nz] = a.shape;
  const mx = a.axes[0].length;
  const my = a.axes[1].length;
  const mz = a.axes[2].length;
  const plane = mx * my;
  const count = (a.k1 - a.k0) * plane;
  const rowsX = 3 * vz * vy;
  const tpl = a.templatePadded;
  const tplAt = residentRegion(ex, 'template', tpl, tpl.byteLength, (at) =>
    new Int32Array(ex.mem.buffer, at, tpl.length).set(tpl),
  );
  const [
    uAt,
    i0xAt,
    wxAt,
    i0yAt,
    wyAt,
    wzwAt,
    wziAt,
    x0At,
    x1At,
    x2At,
    axAt,
    ayAt,
    dzAt,
    lAt,
    tAt,
  ] = scratchRegions(ex, [
    a.u.byteLength,
    mx * 4,
    mx * 4,
    my * 4,
    my * 4,
    mz * 4,
    mz * 4,
    mx * 4,
    my * 4,
    mz * 4,
    rowsX * mx * 4,
    3 * vz * plane * 4,
    3 * vz * plane * 4,
    count * 4,
    count * 4,
  ]);
  const F = f32View(ex);
  const I = i32View(ex);
  F.set(a.u, uAt >> 2);
  I.set(a.wx.i0, i0xAt >> 2);
  F.set(a.wx.w, wxAt >> 2);
  I.set(a.wy.i0, i0yAt >> 2);
  F.set(a.wy.w, wyAt >> 2);
  F.set(a.wz.w, wzwAt >> 2);
  I.set(a.wz.i0, wziAt >> 2);
  F.set(a.axes[0], x0At >> 2);
  F.set(a.axes[1], x1At >> 2);
  F.set(a.axes[2], x2At >> 2);
  ex.warpX(uAt, i0xAt, wxAt, axAt, rowsX, vx, mx, vy, vz, a.cellLo, a.cellHi);
  ex.warpY(axAt, i0yAt, wyAt, ayAt, vz, vy, my, mx, a.cellLo, a.cellHi);
  ex.warpDz(ayAt, dzAt, vz, plane, a.cellLo, a.cellHi);
  ex.warpZ(
    ayAt,
    dzAt,
    x0At,
    x1At,
    x2At,
    wzwAt,
    wziAt,
    tplAt,
    lAt,
    tAt,
    mx,
    my,
    a.k0,
    a.k1,
    vz,
    nx * ny * nz,
    nx,
    ny,
    nz,
    a.origin[0],
    a.origin[1],
    a.origin[2],
    a.spacing[0],
    a.spacing[1],
    a.spacing[2],
  );
  a.labelIndex.set(I.subarray(lAt >> 2, (lAt >> 2) + count), a.at);
  a.templateIndex.set(I.subarray(tAt >> 2, (tAt >> 2) + count), a.at);
}

/**
 * The three 1-D passes of `blur3dInto` (x, then y, then z; kernel `w`) from the volume at `src`
 * into `dst`, with `tmp` between (offsets in the wasm memory, each a padded volume).
 */
function blurPasses(
  ex: KernelExports,
  src: number,
  dst: number,
  tmp: number,
  wAt: number,
  k: number,
  shape: readonly number[],
): void {
  const [nx, ny, nz] = shape;
  ex.blurX(src, dst, wAt, k, nx, ny * nz);
  ex.blurYZ(dst, tmp, wAt, k, ny, nx, nx, nz, nx * ny);
  ex.blurYZ(tmp, dst, wAt, k, nz, nx * ny, nx * ny, 1, 0);
}

/** `blur3dInto` (kernels/blur.ts) with kernel `w` (σ > 0) on the wasm kernels. */
export function blur3dWasm(
  ex: KernelExports,
  src: Float32Array,
  shape: readonly number[],
  w: Float32Array,
  dst: Float32Array,
): Float32Array {
  const n = src.length;
  const [srcAt, dstAt, tmpAt, wAt] = scratchRegions(ex, [n * 4, n * 4, n * 4, w.byteLength]);
  const F = f32View(ex);
  F.set(src, srcAt >> 2);
  F.set(w, wAt >> 2);
  blurPasses(ex, srcAt, dstAt, tmpAt, wAt, w.length, shape);
  dst.set(F.subarray(dstAt >> 2, (dstAt >> 2) + n));
  return dst;
}

export interface ContrastFields {
  texture: Float32Array;
  bias: Float32Array;
  noiseReal: Float32Array;
  noiseImag: Float32Array;
}

export interface ContrastArgs {
  labels: Int32Array;
  shape: readonly number[];
  means: Float32Array;
  sds: Float32Array;
  csfMean: number;
  csfFraction?: Float32Array;
  /** the partial-volume kernel (gaussianKernel), or null for σ ≤ 0 (no blur) */
  pvKernel: Float32Array | null;
  /** one byte per label index: 1 for the `wm` group */
  wmMask: Uint8Array;
  /** the seed's fields (kept resident while the same object comes back: a kept subject) */
  fields: ContrastFields;
  /** σ_n from the white-matter sum and count (renderContrastArray's float32 steps) */
  sigmaN: (wmSum: number, wmCount: number) => number;
  /** step 1's last part, in place on the textured image (the depth rows' voxel mix), if any */
  afterTexture?: (textured: Float32Array) => void;
}

/** `renderContrastArray`'s steps 1–4 on the wasm kernels; the image as a new array. */
export function renderContrastWasm(ex: KernelExports, a: ContrastArgs): Float32Array {
  const n = a.labels.length;
  const vol = n * 4;
  const fl = a.fields;
  const fieldsAt = residentRegion(ex, 'fields', fl, 4 * align16(vol), (at) => {
    const F = f32View(ex);
    const step = align16(vol) >> 2;
    F.set(fl.texture, at >> 2);
    F.set(fl.bias, (at >> 2) + step);
    F.set(fl.noiseReal, (at >> 2) + 2 * step);
    F.set(fl.noiseImag, (at >> 2) + 3 * step);
  });
  const step = align16(vol);
  const [texAt, biasAt, n1At, n2At] = [0, 1, 2, 3].map((i) => fieldsAt + i * step);
  const nl = a.means.length;
  const k = a.pvKernel?.length ?? 0;
  const [labelsAt, csfAt, tAt, bAt, cAt, meansAt, sdsAt, maskAt, wAt] = scratchRegions(ex, [
    vol,
    a.csfFraction ? vol : 0,
    vol,
    vol,
    vol,
    nl * 4,
    nl * 4,
    nl,
    k * 4,
  ]);
  const F = f32View(ex);
  new Int32Array(ex.mem.buffer).set(a.labels, labelsAt >> 2);
  if (a.csfFraction) F.set(a.csfFraction, csfAt >> 2);
  F.set(a.means, meansAt >> 2);
  F.set(a.sds, sdsAt >> 2);
  new Uint8Array(ex.mem.buffer).set(a.wmMask, maskAt);
  // 1. texture (+ sulcal CSF)
  ex.combine(labelsAt, texAt, a.csfFraction ? csfAt : 0, meansAt, sdsAt, a.csfMean, tAt, n);
  a.afterTexture?.(new Float32Array(ex.mem.buffer, tAt, n));
  // 2. partial volume
  let img = tAt;
  if (a.pvKernel) {
    F.set(a.pvKernel, wAt >> 2);
    blurPasses(ex, tAt, bAt, cAt, wAt, k, a.shape);
    img = bAt;
  }
  // 3. bias field and the wm sums; 4. Rician noise into `out` (the texture volume's region is
  // free once the blur has read it; without a blur img is it, and rician reads before it writes)
  const wmSum = ex.biasWm(img, biasAt, labelsAt, maskAt, n, 0);
  const wmCount = new Int32Array(ex.mem.buffer, 0, 1)[0];
  const sigmaN = a.sigmaN(wmSum, wmCount);
  ex.rician(img, n1At, n2At, tAt, sigmaN, n);
  return new Float32Array(ex.mem.buffer, tAt, n).slice();
}

function align16(bytes: number): number {
  return (bytes + 64 + 15) & ~15;
}

/**
 * Label values (int16) by label index and the regional-volume counts per index, as sample.ts's
 * loop makes them.
 */
export function labelValuesWasm(
  ex: KernelExports,
  labels: Int32Array,
  values: Int16Array,
): { labelValues: Int16Array; counts: Float64Array } {
  const n = labels.length;
  const nl = values.length;
  const [lAt, vAt, oAt, cAt] = scratchRegions(ex, [n * 4, nl * 2, n * 2, nl * 4]);
  new Int32Array(ex.mem.buffer).set(labels, lAt >> 2);
  new Int16Array(ex.mem.buffer).set(values, vAt >> 1);
  new Int32Array(ex.mem.buffer, cAt, nl).fill(0);
  ex.labelValues(lAt, vAt, oAt, cAt, n);
  const counts = new Float64Array(nl);
  const c = new Int32Array(ex.mem.buffer, cAt, nl);
  for (let i = 0; i < nl; i++) counts[i] = c[i];
  return { labelValues: new Int16Array(ex.mem.buffer, oAt, n).slice(), counts };
}

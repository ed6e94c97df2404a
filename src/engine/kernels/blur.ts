/**
 * Separable Gaussian blur of a float32 volume [nz, ny, nx] (x fastest) with zero padding: the
 * kernel of render/contrast.ts `gaussianKernel`, along x, then y, then z — what `blur3d` does with
 * three conv3d calls. Each output accumulates its taps in order −r…r into a float32 value, as the
 * tfjs CPU conv3d does, so the two agree bit for bit there (and within float32 rounding on other
 * backends). Whole rows are accumulated at a time (y and z passes), which keeps memory access
 * sequential. Where the WebAssembly kernels run (kernels/wasm), the same passes run there, with
 * the same bits.
 */
import { wasmKernels } from './wasm/runtime';
import { blur3dWasm } from './wasm/ops';

/** Taps i ∈ [−r, r], r = max(1, ceil(3σ)), w_i ∝ exp(−i²/2σ²), Σw = 1 (float32). */
export function gaussianKernel(sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const w = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    w[i + r] = v;
    sum += v;
  }
  for (let i = 0; i < w.length; i++) w[i] /= sum;
  return w;
}

/** Std of unit white noise after the separable filter of `sigma`: (Σw²)^(3/2). */
export function smoothedNoiseStd(sigma: number): number {
  if (!(sigma > 0)) return 1;
  const w = gaussianKernel(sigma);
  const s2 = w.reduce((s, v) => s + v * v, 0);
  return Math.pow(s2, 1.5);
}

/** Blur `src` in place of a new array; sigma ≤ 0 returns a copy. */
export function blur3dArray(
  src: Float32Array,
  shape: [number, number, number],
  sigma: number,
): Float32Array {
  if (!(sigma > 0)) return src.slice();
  return blur3dInto(src, shape, sigma, new Float32Array(src.length), new Float32Array(src.length));
}

/**
 * `blur3dArray` into `dst`, with `tmp` as the intermediate volume (both src.length, neither
 * `src`; every voxel of both is written, so reused buffers need no clearing). Returns `dst`.
 */
export function blur3dInto(
  src: Float32Array,
  shape: [number, number, number],
  sigma: number,
  dst: Float32Array,
  tmp: Float32Array,
): Float32Array {
  if (dst.length !== src.length || tmp.length !== src.length || dst === src || tmp === src)
    throw new Error('blur3dInto: dst and tmp must be distinct volumes of src.length');
  if (!(sigma > 0)) {
    dst.set(src);
    return dst;
  }
  const w = gaussianKernel(sigma);
  const ex = wasmKernels();
  if (ex) return blur3dWasm(ex, src, shape, w, dst);
  const [nx, ny, nz] = shape;
  blurLines(src, dst, w, nx, 1, 1, ny * nz, nx); // x: lines of nx, unit stride
  blurLines(dst, tmp, w, ny, nx, nx, nz, nx * ny); // y: lines of ny, stride nx, nx lines at a time
  blurLines(tmp, dst, w, nz, nx * ny, nx * ny, 1, 0); // z: lines of nz, stride nx·ny
  return dst;
}

/**
 * One 1-D pass over `blocks` blocks (`blockStride` apart) of `width` parallel lines of `len`
 * voxels, `stride` apart along the line; line i of a block starts at voxel i. Every output is
 * the float32 sum of its in-range taps in order −r…r (each add rounded to float32, the first
 * from 0): the per-tap accumulation into a zero-filled float32 array, bit for bit. Interior
 * outputs of the 5- and 7-tap kernels (σ ≤ 1) take an unrolled loop that keeps the sum in a
 * register; other kernels accumulate tap by tap into the output line.
 */
function blurLines(
  src: Float32Array,
  dst: Float32Array,
  w: Float32Array,
  len: number,
  stride: number,
  width: number,
  blocks: number,
  blockStride: number,
): void {
  const f = Math.fround;
  const k = w.length;
  const r = (k - 1) / 2;
  if (width === 1) {
    // unit stride along x: one output at a time; the interior of a 5- or 7-tap kernel unrolled
    const [w0, w1, w2, w3, w4, w5, w6] = [w[0], w[1], w[2], w[3], w[4], w[5], w[6]];
    const unrolled = k === 5 || k === 7;
    for (let blk = 0; blk < blocks; blk++) {
      const o = blk * blockStride;
      for (let j = 0; j < len; j++) {
        const lo = Math.max(0, r - j);
        const hi = Math.min(k, len + r - j);
        if (unrolled && hi - lo === k) {
          if (k === 7) {
            const end = o + len - r; // interior outputs: j + r < len
            for (let q = o + j; q < end; q++) {
              const s0 = q - r;
              let acc = f(0 + src[s0] * w0);
              acc = f(acc + src[s0 + 1] * w1);
              acc = f(acc + src[s0 + 2] * w2);
              acc = f(acc + src[s0 + 3] * w3);
              acc = f(acc + src[s0 + 4] * w4);
              acc = f(acc + src[s0 + 5] * w5);
              dst[q] = acc + src[s0 + 6] * w6;
            }
          } else {
            const end = o + len - r;
            for (let q = o + j; q < end; q++) {
              const s0 = q - r;
              let acc = f(0 + src[s0] * w0);
              acc = f(acc + src[s0 + 1] * w1);
              acc = f(acc + src[s0 + 2] * w2);
              acc = f(acc + src[s0 + 3] * w3);
              dst[q] = acc + src[s0 + 4] * w4;
            }
          }
          j = len - r - 1; // continue with the last r outputs (the loop's j++)
          continue;
        }
        let acc = 0;
        for (let t = lo; t < hi; t++) acc = f(acc + src[o + j + t - r] * w[t]);
        dst[o + j] = acc;
      }
    }
    return;
  }
  for (let blk = 0; blk < blocks; blk++) {
    const base = blk * blockStride;
    for (let j = 0; j < len; j++) {
      const lo = Math.max(0, r - j);
      const hi = Math.min(k, len + r - j);
      const out = base + j * stride;
      // first tap's line start
      const s0 = base + (j + lo - r) * stride;
      if (hi - lo === 7) {
        const [w0, w1, w2, w3, w4, w5, w6] = [
          w[lo],
          w[lo + 1],
          w[lo + 2],
          w[lo + 3],
          w[lo + 4],
          w[lo + 5],
          w[lo + 6],
        ];
        const s1 = s0 + stride;
        const s2 = s1 + stride;
        const s3 = s2 + stride;
        const s4 = s3 + stride;
        const s5 = s4 + stride;
        const s6 = s5 + stride;
        for (let i = 0; i < width; i++) {
          let acc = f(0 + src[s0 + i] * w0);
          acc = f(acc + src[s1 + i] * w1);
          acc = f(acc + src[s2 + i] * w2);
          acc = f(acc + src[s3 + i] * w3);
          acc = f(acc + src[s4 + i] * w4);
          acc = f(acc + src[s5 + i] * w5);
          dst[out + i] = acc + src[s6 + i] * w6;
        }
      } else if (hi - lo === 5) {
        const [w0, w1, w2, w3, w4] = [w[lo], w[lo + 1], w[lo + 2], w[lo + 3], w[lo + 4]];
        const s1 = s0 + stride;
        const s2 = s1 + stride;
        const s3 = s2 + stride;
        const s4 = s3 + stride;
        for (let i = 0; i < width; i++) {
          let acc = f(0 + src[s0 + i] * w0);
          acc = f(acc + src[s1 + i] * w1);
          acc = f(acc + src[s2 + i] * w2);
          acc = f(acc + src[s3 + i] * w3);
          dst[out + i] = acc + src[s4 + i] * w4;
        }
      } else {
        // longer kernels (or clipped ones): tap by tap over the whole line, accumulating in
        // the float32 output (sequential access; faster than per-output sums for many taps)
        dst.fill(0, out, out + width);
        for (let t = lo; t < hi; t++) {
          const row = base + (j + t - r) * stride;
          const wt = w[t];
          for (let i = 0; i < width; i++) dst[out + i] += src[row + i] * wt;
        }
      }
    }
  }
}

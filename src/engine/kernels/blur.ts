/**
 * Separable Gaussian blur of a float32 volume [nz, ny, nx] (x fastest) with zero padding: the
 * kernel of render/contrast.ts `gaussianKernel`, along x, then y, then z — what `blur3d` does with
 * three conv3d calls. Each output accumulates its taps in order −r…r into a float32 value, as the
 * tfjs CPU conv3d does, so the two agree bit for bit there (and within float32 rounding on other
 * backends). Whole rows are accumulated at a time (y and z passes), which keeps memory access
 * sequential.
 */
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
  const w = gaussianKernel(sigma);
  const a = new Float32Array(src.length);
  blurAxis(src, a, shape, w, 1);
  const b = new Float32Array(src.length);
  blurAxis(a, b, shape, w, 2);
  a.fill(0);
  blurAxis(b, a, shape, w, 3);
  return a;
}

/** One 1-D pass along axis 1 (x), 2 (y) or 3 (z); `dst` must be zero-filled. */
function blurAxis(
  src: Float32Array,
  dst: Float32Array,
  shape: [number, number, number],
  w: Float32Array,
  axis: 1 | 2 | 3,
): void {
  const [nx, ny, nz] = shape;
  const r = (w.length - 1) / 2;
  if (axis === 1) {
    const rows = ny * nz;
    for (let row = 0; row < rows; row++) {
      const o = row * nx;
      for (let i = 0; i < nx; i++) {
        let acc = 0;
        const lo = Math.max(0, r - i);
        const hi = Math.min(w.length, nx + r - i);
        for (let t = lo; t < hi; t++) acc = Math.fround(acc + src[o + i + t - r] * w[t]);
        dst[o + i] = acc;
      }
    }
    return;
  }
  // y: lines of length ny with stride nx inside each z-plane; z: lines of nz with stride nx·ny.
  const len = axis === 2 ? ny : nz;
  const stride = axis === 2 ? nx : nx * ny;
  const outer = axis === 2 ? nz : 1;
  const outerStride = nx * ny;
  const rowLen = axis === 2 ? nx : nx * ny;
  for (let o = 0; o < outer; o++) {
    const base = o * outerStride;
    for (let j = 0; j < len; j++) {
      const dstRow = base + j * stride;
      for (let t = 0; t < w.length; t++) {
        const jj = j + t - r;
        if (jj < 0 || jj >= len) continue;
        const srcRow = base + jj * stride;
        const wt = w[t];
        for (let i = 0; i < rowLen; i++) dst[dstRow + i] += src[srcRow + i] * wt;
      }
    }
  }
}

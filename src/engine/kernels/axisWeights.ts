/**
 * Per-axis interpolation weights of the trilinear lookup (no tfjs: the kernels and the seed
 * helper worker use it; sampler/interpolate.ts re-exports it).
 */
/** Per-position lower index i0 and weight w along one axis (same clamping as `trilinear`). */
export function axisWeights(
  coords: Float32Array,
  origin: number,
  spacing: number,
  n: number,
): { i0: Int32Array; w: Float32Array } {
  const m = coords.length;
  const i0 = new Int32Array(m);
  const w = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    // float32 steps, like (p − origin)/spacing in the tensor path and in numpy float32.
    const q = Math.min(Math.max(Math.fround(Math.fround(coords[i] - origin) / spacing), 0), n - 1);
    i0[i] = Math.min(Math.floor(q), n - 2);
    w[i] = Math.fround(q - i0[i]);
  }
  return { i0, w };
}

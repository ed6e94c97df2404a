/**
 * Step 4b's projection (MODEL_FORMAT.md §3): a displacement field on the velocity grid made
 * divergence-free, L − ∇φ with div ∇φ = div L, so that it moves and bends the structures without
 * changing their volumes. div and ∇ are central differences with zeros outside the grid; their
 * composition is diagonal in the type-I discrete sine transform (φ = 0 outside the grid), with
 * eigenvalue −Σ_axes sin²(π(k + 1)/(n + 1)) (never 0). Same numbers as
 * `brainsynth.anatomy.divergence_free` (scipy's FFT-based DST there; float64 in both, so they
 * agree to ~1e-15 before the final float32 rounding).
 *
 * Written here rather than taken from a library: the grid is small (≈ 33 × 41 × 36), so the
 * transform is a dense sine matrix per axis (≈ 11 M multiply-adds in all, milliseconds), and no
 * maintained JavaScript package offers a 3D DST-I.
 */

/** The type-I sine matrix of size n: S[k·n + j] = sin(π (j + 1)(k + 1) / (n + 1)). */
function sineMatrix(n: number): Float64Array {
  const s = new Float64Array(n * n);
  for (let k = 0; k < n; k++)
    for (let j = 0; j < n; j++) s[k * n + j] = Math.sin((Math.PI * (j + 1) * (k + 1)) / (n + 1));
  return s;
}

/**
 * Every line of `a` [nz, ny, nx] (x fastest) along `axis` multiplied by S·scale, into a new
 * array. Each output is Σ_j S[k, j]·a[…, j, …] summed in increasing j, then scaled; the loops
 * run along x innermost wherever the axis is not x, so the memory is read in order.
 */
function transformAxis(
  a: Float64Array,
  shape: [number, number, number],
  axis: 0 | 1 | 2,
  scale: number,
): Float64Array {
  const [nx, ny, nz] = shape;
  const n = shape[axis];
  const s = sineMatrix(n);
  const out = new Float64Array(a.length);
  if (axis === 0) {
    for (let start = 0; start < a.length; start += nx)
      for (let k = 0; k < nx; k++) {
        let acc = 0;
        const row = k * nx;
        for (let j = 0; j < nx; j++) acc += s[row + j] * a[start + j];
        out[start + k] = acc * scale;
      }
    return out;
  }
  // y: lines of length nx within each z slab; z: whole [ny, nx] planes
  const outer = axis === 1 ? nz : 1;
  const inner = axis === 1 ? nx : nx * ny;
  const slab = n * inner;
  for (let o = 0; o < outer; o++) {
    const base = o * slab;
    for (let k = 0; k < n; k++) {
      const dst = base + k * inner;
      for (let j = 0; j < n; j++) {
        const w = s[k * n + j];
        const src = base + j * inner;
        for (let x = 0; x < inner; x++) out[dst + x] += w * a[src + x];
      }
      for (let x = 0; x < inner; x++) out[dst + x] *= scale;
    }
  }
  return out;
}

/** (a[i + 1] − a[i − 1]) / 2 along `axis`, zero outside the grid, added into `out`·sign. */
function addCentralDiff(
  a: Float64Array,
  shape: [number, number, number],
  axis: 0 | 1 | 2,
  out: Float64Array,
  sign: number,
): void {
  const [nx, ny, nz] = shape;
  const n = shape[axis];
  const stride = axis === 0 ? 1 : axis === 1 ? nx : nx * ny;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        const i = x + nx * (y + ny * z);
        const p = axis === 0 ? x : axis === 1 ? y : z;
        const hi = p + 1 < n ? a[i + stride] : 0;
        const lo = p > 0 ? a[i - stride] : 0;
        out[i] += (sign * (hi - lo)) / 2;
      }
}

/**
 * The divergence-free part of `field` ([3, Nv] component planes x, y, z; each plane x fastest on
 * the grid `shape` [nx, ny, nz]), in float64, rounded to float32 at the end.
 */
export function divergenceFree(field: Float32Array, shape: [number, number, number]): Float32Array {
  const nv = shape[0] * shape[1] * shape[2];
  if (field.length !== 3 * nv) throw new Error('divergenceFree: the field must be [3, Nv]');
  const comp = [0, 1, 2].map((c) => Float64Array.from(field.subarray(c * nv, (c + 1) * nv)));
  let phi: Float64Array = new Float64Array(nv);
  for (const c of [0, 1, 2] as const) addCentralDiff(comp[c], shape, c, phi, 1);
  // forward transform (S per axis), divide by the eigenvalue, inverse (2/(n+1)·S per axis)
  for (const ax of [0, 1, 2] as const) phi = transformAxis(phi, shape, ax, 1);
  const sin2 = shape.map((n) =>
    Float64Array.from({ length: n }, (_, k) => Math.sin((Math.PI * (k + 1)) / (n + 1)) ** 2),
  );
  const [nx, ny, nz] = shape;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++)
        phi[x + nx * (y + ny * z)] /= -(sin2[0][x] + sin2[1][y] + sin2[2][z]);
  for (const ax of [0, 1, 2] as const) phi = transformAxis(phi, shape, ax, 2 / (shape[ax] + 1));
  const out = new Float32Array(3 * nv);
  for (const c of [0, 1, 2] as const) {
    const g = new Float64Array(nv);
    addCentralDiff(phi, shape, c, g, 1);
    const src = comp[c];
    const o = c * nv;
    for (let i = 0; i < nv; i++) out[o + i] = src[i] - g[i];
  }
  return out;
}

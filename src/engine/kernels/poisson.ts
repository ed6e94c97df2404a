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

/** In place: every line of `a` [nz, ny, nx] (x fastest) along `axis` multiplied by S·scale. */
function transformAxis(
  a: Float64Array,
  shape: [number, number, number],
  axis: 0 | 1 | 2,
  scale: number,
): void {
  const [nx, ny, nz] = shape;
  const n = shape[axis];
  const stride = axis === 0 ? 1 : axis === 1 ? nx : nx * ny;
  const s = sineMatrix(n);
  const line = new Float64Array(n);
  const lines: number[] = [];
  // the first element of every line along `axis`
  for (let z = 0; z < (axis === 2 ? 1 : nz); z++)
    for (let y = 0; y < (axis === 1 ? 1 : ny); y++)
      for (let x = 0; x < (axis === 0 ? 1 : nx); x++) lines.push(x + nx * (y + ny * z));
  for (const start of lines) {
    for (let j = 0; j < n; j++) line[j] = a[start + j * stride];
    for (let k = 0; k < n; k++) {
      let acc = 0;
      const row = k * n;
      for (let j = 0; j < n; j++) acc += s[row + j] * line[j];
      a[start + k * stride] = acc * scale;
    }
  }
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
  const phi = new Float64Array(nv);
  for (const c of [0, 1, 2] as const) addCentralDiff(comp[c], shape, c, phi, 1);
  // forward transform (S per axis), divide by the eigenvalue, inverse (2/(n+1)·S per axis)
  for (const ax of [0, 1, 2] as const) transformAxis(phi, shape, ax, 1);
  const sin2 = shape.map((n) =>
    Float64Array.from({ length: n }, (_, k) => Math.sin((Math.PI * (k + 1)) / (n + 1)) ** 2),
  );
  const [nx, ny, nz] = shape;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++)
        phi[x + nx * (y + ny * z)] /= -(sin2[0][x] + sin2[1][y] + sin2[2][z]);
  for (const ax of [0, 1, 2] as const) transformAxis(phi, shape, ax, 2 / (shape[ax] + 1));
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

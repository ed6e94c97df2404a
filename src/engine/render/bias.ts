/**
 * The bias field's polynomial (docs/MODEL_FORMAT.md, contrast): its random coefficients and the
 * [ny, nx] planes A (terms without z) and B (the z-coefficient), on coordinates normalised to
 * [−1, 1], so P = A + z·B + c6·z². One definition for the tfjs path (contrast.ts
 * `biasPolynomial`) and the TypedArray path (seedCache.ts).
 */
import type { Model } from '../model/loadModel';
import { normals, streamSeed } from '../rng';

export function biasPlanes(model: Pick<Model, 'grid'>, seed: number) {
  return biasPlanesOf(model.grid.shape, seed);
}

/** `biasPlanes` for a grid shape [nx, ny, nz] (the seed helper worker has no Model). */
export function biasPlanesOf(shape: readonly number[], seed: number) {
  const [nx, ny, nz] = shape;
  const c = Array.from(normals(streamSeed(seed, 2), 10), (v) => v / 3);
  const norm = (n: number) =>
    Float32Array.from({ length: n }, (_, i) => (2 * i) / Math.max(n - 1, 1) - 1);
  const xs = norm(nx);
  const ys = norm(ny);
  const zs = norm(nz);
  const A = new Float32Array(ny * nx);
  const B = new Float32Array(ny * nx);
  for (let j = 0; j < ny; j++) {
    const y = ys[j];
    for (let i = 0; i < nx; i++) {
      const x = xs[i];
      // monomials [1, x, y, z, x², y², z², xy, xz, yz]
      A[j * nx + i] = c[0] + c[1] * x + c[2] * y + c[4] * x * x + c[5] * y * y + c[7] * x * y;
      B[j * nx + i] = c[3] + c[8] * x + c[9] * y;
    }
  }
  return { c, zs, A, B };
}

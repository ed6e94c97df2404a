/**
 * The bias field's polynomial (docs/MODEL_FORMAT.md, contrast): its coefficients (the seed's
 * random normals / 3 plus the model's systematic part `appearance.biasMean.coefficients`, if
 * any) and the [ny, nx] planes A (terms without z) and B (the z-coefficient), on coordinates
 * normalised to [−1, 1], so P = A + z·B + c6·z². One definition for the tfjs path (contrast.ts
 * `biasPolynomial`) and the TypedArray path (seedCache.ts).
 */
import type { Model } from '../model/loadModel';
import { normals, streamSeed } from '../rng';

export function biasPlanes(model: Pick<Model, 'grid' | 'manifest'>, seed: number) {
  return biasPlanesOf(model.grid.shape, seed, biasMeanOf(model.manifest.appearance));
}

/**
 * The systematic part of P's coefficients: `biasMean.coefficients` (log-field units) over
 * `biasFieldStrength`, so exp(strength · P) = exp(strength · P_seed + D); undefined without a
 * `biasMean` or at strength 0 (brainsynth/teacher/render.py `bias_mean`).
 */
export function biasMeanOf(app: {
  biasFieldStrength: number;
  biasMean?: { coefficients: number[] };
}): number[] | undefined {
  const d = app.biasMean?.coefficients;
  if (!d || !(app.biasFieldStrength > 0)) return undefined;
  return d.map((v) => v / app.biasFieldStrength);
}

/**
 * `biasPlanes` for a grid shape [nx, ny, nz] and the systematic coefficients `mean` (the seed
 * helper worker has no Model). float64 sums, as brainsynth/teacher/render.py `bias_polynomial`.
 */
export function biasPlanesOf(shape: readonly number[], seed: number, mean?: readonly number[]) {
  const [nx, ny, nz] = shape;
  const c = Array.from(normals(streamSeed(seed, 2), 10), (v, k) => v / 3 + (mean ? mean[k] : 0));
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

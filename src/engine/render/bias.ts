/**
 * The bias field's polynomial (docs/MODEL_FORMAT.md, contrast): its coefficients (the seed's
 * random normals / 3 plus the model's systematic part `appearance.biasMean.coefficients`, if
 * any) and the [ny, nx] planes A (terms without z) and B (the z-coefficient), on coordinates
 * normalised to [−1, 1], so P = A + z·B + c6·z². One definition for the tfjs path (contrast.ts
 * `biasPolynomial`) and the TypedArray path (seedCache.ts). The systematic part's radial term
 * (`radialTermOf`, model ≥ 1.12.0: the 3 T central brightening as a function of the
 * brain-normalised radius) is added to P per voxel by both.
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

/** The radial part's spec: `appearance.biasMean` with `radial` (model ≥ 1.12.0). */
type RadialSpec = {
  coefficients?: number[];
  centre?: number[];
  semiAxes?: number[];
  radial?: { step: number; values: number[] };
};

/** The last few radial terms, by content (the seed helper gets a fresh copy of the spec per
 * request, so a cache by object identity would miss every time). */
const radialCache = new Map<string, Float32Array>();
const RADIAL_CACHE_SIZE = 2;

/**
 * R / biasFieldStrength per voxel (float32, x fastest), what the systematic field's radial part
 * adds to P (MODEL_FORMAT.md §5 step 3): r = |(u − centre) / semiAxes| on grid coordinates u
 * normalised to [−1, 1] (float64; squares summed x, y, z), R linear between the knots
 * r = k·step, clamped outside them. Undefined without `biasMean.radial` or at strength 0. The
 * same arithmetic as brainsynth/teacher/render.py `radial_term`; memoised by the spec's content
 * and the shape (it depends on neither the seed nor the contrast).
 */
export function radialTermOf(
  shape: readonly number[],
  app: { biasFieldStrength: number; biasMean?: RadialSpec },
): Float32Array | undefined {
  const spec = app.biasMean;
  const radial = spec?.radial;
  if (!spec || !radial || !(app.biasFieldStrength > 0)) return undefined;
  const { centre, semiAxes } = spec;
  if (!centre || !semiAxes)
    throw new Error('appearance.biasMean.radial needs biasMean.centre and biasMean.semiAxes');
  const values = radial.values;
  if (values.length < 2 || !(radial.step > 0))
    throw new Error('appearance.biasMean.radial needs a positive step and two values');
  const key = JSON.stringify([shape, app.biasFieldStrength, centre, semiAxes, radial]);
  const hit = radialCache.get(key);
  if (hit) return hit;
  const [nx, ny, nz] = shape;
  const sq = (n: number, a: number) =>
    Float64Array.from({ length: n }, (_, i) => {
      const v = ((i * 2) / Math.max(n - 1, 1) - 1 - centre[a]) / semiAxes[a];
      return v * v;
    });
  const [qx, qy, qz] = [sq(nx, 0), sq(ny, 1), sq(nz, 2)];
  const last = values.length - 1;
  const out = new Float32Array(nx * ny * nz);
  let o = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const t = Math.sqrt(qx[i] + qy[j] + qz[k]) / radial.step;
        let r: number;
        if (t >= last) r = values[last];
        else {
          const k0 = Math.floor(t);
          const w = t - k0;
          r = values[k0] * (1 - w) + values[k0 + 1] * w;
        }
        out[o++] = r / app.biasFieldStrength;
      }
  if (radialCache.size >= RADIAL_CACHE_SIZE) radialCache.delete(radialCache.keys().next().value!);
  radialCache.set(key, out);
  return out;
}

/**
 * Conform a volume (a reviewer's real scan or a synthetic brain) to one common grid and
 * intensity range, so that in a blinded session nothing but the picture tells them apart:
 * - geometry: resampled (trilinear, world space) onto the target grid (the model's 2 mm grid,
 *   its dims and affine), the two foreground centroids aligned; outside the source → 0;
 * - intensity: the foreground's robust range (1st–99th percentile of the non-zero voxels)
 *   mapped to [0, 1], values beyond it clipped (display normalisation, not input validation).
 * The result carries only the target's dims + affine + float32 data: the same "header" for
 * every case. Pure numerics (no DOM).
 */

export interface Grid {
  dims: [number, number, number];
  /** voxel → RAS mm, row-major 4×4. */
  affine: number[][];
}

export interface GridVolume extends Grid {
  data: ArrayLike<number>;
}

export interface ConformedVolume extends Grid {
  data: Float32Array;
}

export const ROBUST_LOW = 0.01;
export const ROBUST_HIGH = 0.99;

export function invertAffine(a: number[][]): number[][] {
  const [m00, m01, m02] = a[0];
  const [m10, m11, m12] = a[1];
  const [m20, m21, m22] = a[2];
  const det =
    m00 * (m11 * m22 - m12 * m21) - m01 * (m10 * m22 - m12 * m20) + m02 * (m10 * m21 - m11 * m20);
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12)
    throw new Error('the image has a singular orientation matrix (affine)');
  const inv = [
    [(m11 * m22 - m12 * m21) / det, (m02 * m21 - m01 * m22) / det, (m01 * m12 - m02 * m11) / det],
    [(m12 * m20 - m10 * m22) / det, (m00 * m22 - m02 * m20) / det, (m02 * m10 - m00 * m12) / det],
    [(m10 * m21 - m11 * m20) / det, (m01 * m20 - m00 * m21) / det, (m00 * m11 - m01 * m10) / det],
  ];
  const t = [a[0][3], a[1][3], a[2][3]];
  return [...inv.map((r) => [...r, -(r[0] * t[0] + r[1] * t[1] + r[2] * t[2])]), [0, 0, 0, 1]];
}

function apply(a: number[][], x: number, y: number, z: number): [number, number, number] {
  return [
    a[0][0] * x + a[0][1] * y + a[0][2] * z + a[0][3],
    a[1][0] * x + a[1][1] * y + a[1][2] * z + a[1][3],
    a[2][0] * x + a[2][1] * y + a[2][2] * z + a[2][3],
  ];
}

/** Intensity-weighted centroid (world mm) of the voxels above the volume's mean. */
export function foregroundCentroid(v: GridVolume): [number, number, number] {
  const [nx, ny, nz] = v.dims;
  const n = nx * ny * nz;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v.data[i];
  mean /= n;
  let w = 0;
  let sx = 0;
  let sy = 0;
  let sz = 0;
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++) {
        const d = v.data[i];
        if (d <= mean) continue;
        w += d;
        sx += d * x;
        sy += d * y;
        sz += d * z;
      }
  if (w === 0) throw new Error('the image has no foreground (every voxel is at or below its mean)');
  return apply(v.affine, sx / w, sy / w, sz / w);
}

/** Trilinear resampling of `src` onto `target`, with the source shifted by `shiftMm`. */
export function resample(
  src: GridVolume,
  target: Grid,
  shiftMm: [number, number, number] = [0, 0, 0],
): Float32Array {
  const [tx, ty, tz] = target.dims;
  const [sx, sy, sz] = src.dims;
  // target voxel → world → (minus shift) → source voxel, as one affine
  const toSrc = invertAffine(src.affine);
  const t = target.affine;
  const m = [0, 1, 2].map((r) =>
    [0, 1, 2, 3].map(
      (c) =>
        toSrc[r][0] * t[0][c] +
        toSrc[r][1] * t[1][c] +
        toSrc[r][2] * t[2][c] +
        (c === 3
          ? toSrc[r][3] -
            (toSrc[r][0] * shiftMm[0] + toSrc[r][1] * shiftMm[1] + toSrc[r][2] * shiftMm[2])
          : 0),
    ),
  );
  const out = new Float32Array(tx * ty * tz);
  const d = src.data;
  const sxy = sx * sy;
  for (let z = 0, o = 0; z < tz; z++)
    for (let y = 0; y < ty; y++)
      for (let x = 0; x < tx; x++, o++) {
        const fx = m[0][0] * x + m[0][1] * y + m[0][2] * z + m[0][3];
        const fy = m[1][0] * x + m[1][1] * y + m[1][2] * z + m[1][3];
        const fz = m[2][0] * x + m[2][1] * y + m[2][2] * z + m[2][3];
        if (fx < 0 || fy < 0 || fz < 0 || fx > sx - 1 || fy > sy - 1 || fz > sz - 1) continue;
        const x0 = Math.min(Math.floor(fx), sx - 2 < 0 ? 0 : sx - 2);
        const y0 = Math.min(Math.floor(fy), sy - 2 < 0 ? 0 : sy - 2);
        const z0 = Math.min(Math.floor(fz), sz - 2 < 0 ? 0 : sz - 2);
        const ax = fx - x0;
        const ay = fy - y0;
        const az = fz - z0;
        const x1 = Math.min(x0 + 1, sx - 1);
        const y1 = Math.min(y0 + 1, sy - 1);
        const z1 = Math.min(z0 + 1, sz - 1);
        const at = (i: number, j: number, k: number) => d[k * sxy + j * sx + i];
        const c00 = at(x0, y0, z0) * (1 - ax) + at(x1, y0, z0) * ax;
        const c10 = at(x0, y1, z0) * (1 - ax) + at(x1, y1, z0) * ax;
        const c01 = at(x0, y0, z1) * (1 - ax) + at(x1, y0, z1) * ax;
        const c11 = at(x0, y1, z1) * (1 - ax) + at(x1, y1, z1) * ax;
        out[o] = (c00 * (1 - ay) + c10 * ay) * (1 - az) + (c01 * (1 - ay) + c11 * ay) * az;
      }
  return out;
}

/** The [low, high] quantiles of the non-zero voxels (the foreground's robust range). */
export function robustRange(
  data: Float32Array,
  low = ROBUST_LOW,
  high = ROBUST_HIGH,
): [number, number] {
  const nz = data.filter((v) => v !== 0 && Number.isFinite(v)).sort();
  if (nz.length === 0) throw new Error('the image is empty on the common grid (no overlap)');
  const q = (p: number) =>
    nz[Math.min(nz.length - 1, Math.max(0, Math.round(p * (nz.length - 1))))];
  return [q(low), q(high)];
}

/** Scale in place: [lo, hi] → [0, 1], clipped; returns the same array. */
export function scaleToUnit(data: Float32Array, [lo, hi]: [number, number]): Float32Array {
  const span = hi - lo;
  if (!(span > 0)) throw new Error('the image has no intensity range to scale (flat foreground)');
  for (let i = 0; i < data.length; i++) {
    const v = data[i] === 0 ? 0 : (data[i] - lo) / span;
    data[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return data;
}

/** Resample onto `target` (centroids aligned) and scale to [0, 1]: see the module comment. */
export function conform(
  src: GridVolume,
  target: Grid,
  targetCentroid?: [number, number, number],
): ConformedVolume {
  const cs = foregroundCentroid(src);
  const ct = targetCentroid ?? cs;
  const shift: [number, number, number] = [ct[0] - cs[0], ct[1] - cs[1], ct[2] - cs[2]];
  const data = resample(src, target, shift);
  scaleToUnit(data, robustRange(data));
  return { dims: [...target.dims], affine: target.affine.map((r) => [...r]), data };
}

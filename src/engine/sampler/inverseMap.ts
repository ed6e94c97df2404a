/**
 * Inverse of the output → template mapping of MODEL_FORMAT.md §3 step 6 (without the glioma
 * mass effect), for single points in plain float64 JS: MS lesions are placed in template space
 * (§4) and need their output-space position. Few points (two per lesion), so no tensors.
 *
 * Forward (step 6b–c): x' = C + (x − C)/k, p = x' + T(u, x'). Given a template point t we solve
 * F(x') = x' + T(u, x') − t = 0 by damped Newton with the exact Jacobian of the trilinear
 * interpolant (I + ∇T(u)) — a fixed-point iteration x' ← t − T(u, x') is not enough, because
 * ‖∇u‖ exceeds 1 in places (measured up to ~4 inside white matter), then x = C + k (x' − C).
 * The Python teacher (`brainsynth.teacher.pathology.invert_mapping`) runs the same iteration.
 */
import type { Grid } from '../model/grid';
import type { Vec3 } from '../model/manifest';

type Mat3 = [Vec3, Vec3, Vec3];

export const INVERSE_TOLERANCE_MM = 1e-4;
export const INVERSE_MAX_ITERATIONS = 50;

/** Value [3] and Jacobian [3][3] (row = component, column = world axis) of T(u, p). */
interface Sampled {
  value: Vec3;
  jacobian: Mat3;
}

/**
 * Trilinear value and gradient of the displacement `u` ([3, Nv] component planes, x fastest) at
 * world point p, with the boundary rule of §3 step 4 (q clamped to [0, n−1], i0 = floor(q)
 * clamped to [0, n−2]); the gradient along a clamped axis is 0.
 */
export function sampleWithGradient(u: Float32Array, grid: Grid, p: Vec3): Sampled {
  const i0: number[] = [];
  const w: number[] = [];
  const inside: number[] = [];
  for (let a = 0; a < 3; a++) {
    const q = (p[a] - grid.origin[a]) / grid.spacing[a];
    const qc = Math.min(Math.max(q, 0), grid.shape[a] - 1);
    const lo = Math.min(Math.max(Math.floor(qc), 0), grid.shape[a] - 2);
    i0.push(lo);
    w.push(qc - lo);
    inside.push(q === qc ? 1 / grid.spacing[a] : 0);
  }
  const n = grid.count;
  const [nx, ny] = grid.shape;
  const value: Vec3 = [0, 0, 0];
  const jacobian: Mat3 = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let dz = 0; dz < 2; dz++) {
    const wz = dz ? w[2] : 1 - w[2];
    const gz = dz ? 1 : -1;
    for (let dy = 0; dy < 2; dy++) {
      const wy = dy ? w[1] : 1 - w[1];
      const gy = dy ? 1 : -1;
      for (let dx = 0; dx < 2; dx++) {
        const wx = dx ? w[0] : 1 - w[0];
        const gx = dx ? 1 : -1;
        const v = i0[0] + dx + nx * (i0[1] + dy + ny * (i0[2] + dz));
        const weight = wx * wy * wz;
        const dwx = gx * wy * wz * inside[0];
        const dwy = wx * gy * wz * inside[1];
        const dwz = wx * wy * gz * inside[2];
        for (let c = 0; c < 3; c++) {
          const f = u[c * n + v];
          value[c] += weight * f;
          jacobian[c][0] += dwx * f;
          jacobian[c][1] += dwy * f;
          jacobian[c][2] += dwz * f;
        }
      }
    }
  }
  return { value, jacobian };
}

function residual(u: Float32Array, grid: Grid, x: Vec3, t: Vec3): { r: Vec3; s: Sampled } {
  const s = sampleWithGradient(u, grid, x);
  return { r: [x[0] + s.value[0] - t[0], x[1] + s.value[1] - t[1], x[2] + s.value[2] - t[2]], s };
}

const norm = (v: Vec3): number => Math.hypot(v[0], v[1], v[2]);

const det3 = (m: Mat3): number =>
  m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
  m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
  m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);

/** Solve (I + J) d = −r by Cramer's rule; null when (nearly) singular. */
function newtonStep(jac: Mat3, r: Vec3): Vec3 | null {
  const m = jac.map((row, i) => row.map((x, j) => x + (i === j ? 1 : 0))) as Mat3;
  const det = det3(m);
  if (!(Math.abs(det) > 1e-12)) return null;
  const withColumn = (k: number) =>
    m.map((row, i) => row.map((x, j) => (j === k ? -r[i] : x))) as Mat3;
  return [det3(withColumn(0)) / det, det3(withColumn(1)) / det, det3(withColumn(2)) / det];
}

export interface Inverted {
  /** Output-space world position x (mm). */
  point: Vec3;
  /** |p(x) − t| at the returned point (mm). */
  residualMm: number;
}

/** Output point x whose template position p(x) is `t` (see the module comment). */
export function invertMapping(
  u: Float32Array,
  vgrid: Grid,
  t: Vec3,
  scale: number,
  centre: Vec3,
): Inverted {
  const start = sampleWithGradient(u, vgrid, t).value;
  let x: Vec3 = [t[0] - start[0], t[1] - start[1], t[2] - start[2]];
  let cur = residual(u, vgrid, x, t);
  let err = norm(cur.r);
  for (let it = 0; it < INVERSE_MAX_ITERATIONS && err >= INVERSE_TOLERANCE_MM; it++) {
    const d = newtonStep(cur.s.jacobian, cur.r) ?? [-cur.r[0], -cur.r[1], -cur.r[2]];
    // Backtracking: halve the step until the residual falls (at most 6 times, then take it).
    let lambda = 1;
    let next = cur;
    let nextX = x;
    for (let h = 0; h <= 6; h++) {
      nextX = [x[0] + lambda * d[0], x[1] + lambda * d[1], x[2] + lambda * d[2]];
      next = residual(u, vgrid, nextX, t);
      if (norm(next.r) < err) break;
      lambda /= 2;
    }
    x = nextX;
    cur = next;
    err = norm(cur.r);
  }
  return {
    point: [
      centre[0] + scale * (x[0] - centre[0]),
      centre[1] + scale * (x[1] - centre[1]),
      centre[2] + scale * (x[2] - centre[2]),
    ],
    residualMm: err,
  };
}

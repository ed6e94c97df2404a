/**
 * Trilinear and nearest-neighbour lookups on an axis-aligned grid with tfjs ops
 * (MODEL_FORMAT.md §3 step 4 and 7).
 *
 * tfjs has no 3-D grid_sample / map_coordinates, so trilinear interpolation is spelled out:
 * continuous voxel coordinates → the lower corner's flat index → 8 `tf.gather`s on the field
 * flattened to [C, Nv] (one per cube corner) weighted by products of the fractional parts.
 * Boundary rule exactly as the spec (and scipy's map_coordinates(order=1, mode='nearest') on
 * clamped coordinates, which the Python side uses): q clamped to [0, n−1], i0 = floor(q)
 * clamped to [0, n−2], weight = q − i0.
 *
 * Points are three separate [M] tensors (x, y, z) and every op is tensor⊕scalar or between
 * equal shapes: tfjs-backend-cpu runs broadcasts like [3, M] ⊕ [3, 1] through a per-element
 * index→location path that is ~20× slower than its same-shape/scalar path.
 *
 * Flat indices are computed in float32 and then cast: exact because every index is < 2^24
 * (the 2 mm grid has 1.2 M voxels), and it keeps WebGL (float-emulated int32) happy.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Grid } from '../model/grid';
import { axisWeights } from '../kernels/axisWeights';

/** World points as x, y, z coordinate tensors of equal shape [M]. */
export type Points = [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];

/**
 * Sample `field` ([C, Nv], component planes, x-fastest voxel order) at world points.
 * Returns [C, M]. Intermediates are freed per corner to keep peak memory near 3 × [C, M].
 */
export function trilinear(field: tf.Tensor2D, grid: Grid, pts: Points): tf.Tensor2D {
  return tf.tidy(() => {
    const lower: tf.Tensor1D[] = [];
    const frac: tf.Tensor1D[] = [];
    for (let a = 0; a < 3; a++) {
      const [i0, w] = tf.tidy(() => {
        const q = tf.clipByValue(
          tf.div(tf.sub(pts[a], grid.origin[a]), grid.spacing[a]),
          0,
          grid.shape[a] - 1,
        );
        const lo = tf.clipByValue(tf.floor(q), 0, grid.shape[a] - 2);
        return [lo, tf.sub(q, lo)] as tf.Tensor1D[];
      });
      lower.push(i0);
      frac.push(w);
    }
    const [nx, ny] = grid.shape;
    const base = tf.tidy(() =>
      tf.cast(tf.add(tf.add(lower[0], tf.mul(lower[1], nx)), tf.mul(lower[2], nx * ny)), 'int32'),
    ) as tf.Tensor1D;
    tf.dispose(lower);
    const pair = (w: tf.Tensor1D) => [tf.sub(1, w) as tf.Tensor1D, w];
    const fx = pair(frac[0]);
    const fy = pair(frac[1]);
    const fz = pair(frac[2]);
    let acc: tf.Tensor2D | null = null;
    for (let dz = 0; dz < 2; dz++) {
      for (let dy = 0; dy < 2; dy++) {
        const wzy = tf.mul(fz[dz], fy[dy]);
        for (let dx = 0; dx < 2; dx++) {
          const offset = dx + dy * nx + dz * nx * ny;
          const term = tf.tidy(() => {
            const idx = offset === 0 ? base : tf.add(base, tf.scalar(offset, 'int32'));
            // [C, M] ⊙ [M]: a suffix broadcast, which stays on the fast path.
            return tf.mul(tf.gather(field, idx, 1), tf.mul(wzy, fx[dx])) as tf.Tensor2D;
          });
          if (acc === null) {
            acc = term;
          } else {
            const next: tf.Tensor2D = tf.add(acc, term);
            tf.dispose([acc, term]);
            acc = next;
          }
        }
        wzy.dispose();
      }
    }
    return acc as unknown as tf.Tensor2D;
  });
}

/**
 * Flat index of the nearest voxel (floor(q + 0.5), as the Python reference) of world points;
 * points outside the grid get `grid.count` (a sentinel: index of a padded 0 / "outside").
 */
export function nearestFlatIndex(grid: Grid, pts: Points): tf.Tensor1D {
  return tf.tidy(() => {
    let flat: tf.Tensor = tf.scalar(0);
    let outside: tf.Tensor = tf.scalar(0);
    const stride = grid.strides;
    for (let a = 0; a < 3; a++) {
      const qn = tf.floor(tf.add(tf.div(tf.sub(pts[a], grid.origin[a]), grid.spacing[a]), 0.5));
      const qc = tf.clipByValue(qn, 0, grid.shape[a] - 1);
      outside = tf.add(outside, tf.abs(tf.sub(qn, qc)));
      flat = tf.add(flat, tf.mul(qc, stride[a]));
    }
    const idx = tf.cast(flat, 'int32');
    return tf.where(
      tf.greater(outside, 0),
      tf.fill([pts[0].shape[0]], grid.count, 'int32'),
      idx,
    ) as tf.Tensor1D;
  });
}

/** Split a [3, M] tensor into x, y, z points. */
export function toPoints(t: tf.Tensor2D): Points {
  return tf.unstack(t) as Points;
}

export { axisWeights } from '../kernels/axisWeights';

/**
 * Linear interpolation along axis 1 of t [B, n, S] at m positions → [B, m, S]:
 * g0 + (g1 − g0)·w with g0/g1 two gathers of whole rows. The weights are expanded to [m, S] so
 * that they broadcast as a suffix of [B, m, S] (the fast path of every tfjs backend).
 */
function lerpAxis(t: tf.Tensor3D, weights: { i0: Int32Array; w: Float32Array }): tf.Tensor3D {
  const [, , S] = t.shape;
  const m = weights.i0.length;
  const wFull = new Float32Array(m * S);
  for (let i = 0; i < m; i++) wFull.fill(weights.w[i], i * S, (i + 1) * S);
  return tf.tidy(() => {
    const i0 = tf.tensor1d(weights.i0, 'int32');
    const g0 = tf.gather(t, i0, 1);
    const g1 = tf.gather(t, tf.add(i0, tf.scalar(1, 'int32')), 1);
    return tf.add(g0, tf.mul(tf.sub(g1, g0), tf.tensor2d(wFull, [m, S]))) as tf.Tensor3D;
  });
}

/**
 * Trilinear interpolation of `field` ([C, Nv] planes on `grid`) at every point of a tensor-product
 * lattice of positions (x positions × y positions × z positions, x fastest): [C, mx·my·mz].
 *
 * Trilinear weights factor per axis, so on a lattice the interpolation is three 1-D passes
 * (x, then y, then z), each two row-gathers and a lerp — the same weights as the 8-gather
 * `trilinear`, summed in a different order (differences ~1e-6 mm). This is the fast path of
 * step 6 when no glioma mass effect bends the sample positions: ~10 full-volume ops instead
 * of ~100.
 */
export function trilinearOnLattice(
  field: tf.Tensor2D,
  grid: Grid,
  axes: [Float32Array, Float32Array, Float32Array],
): tf.Tensor2D {
  const C = field.shape[0];
  const [vx, vy, vz] = grid.shape;
  const [mx, my, mz] = [axes[0].length, axes[1].length, axes[2].length];
  const w = [0, 1, 2].map((a) =>
    axisWeights(axes[a], grid.origin[a], grid.spacing[a], grid.shape[a]),
  );
  return tf.tidy(() => {
    const ax = lerpAxis(tf.reshape(field, [C * vz * vy, vx, 1]), w[0]); // [C·vz·vy, mx, 1]
    const ay = lerpAxis(tf.reshape(ax, [C * vz, vy, mx]), w[1]); // [C·vz, my, mx]
    const az = lerpAxis(tf.reshape(ay, [C, vz, my * mx]), w[2]); // [C, mz, my·mx]
    return tf.reshape(az, [C, mz * my * mx]) as tf.Tensor2D;
  });
}

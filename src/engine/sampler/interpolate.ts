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
 * Flat indices are computed in float32 and then cast: exact because every index is < 2^24
 * (the 2 mm grid has 1.2 M voxels), and it keeps WebGL (float-emulated int32) happy.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Grid } from '../model/grid';

/** Per-axis constants of a grid as [3, 1] tensors (broadcast against [3, M] points). */
interface AxisConstants {
  origin: tf.Tensor2D;
  spacing: tf.Tensor2D;
  maxCoord: tf.Tensor2D; // n − 1
  maxLower: tf.Tensor2D; // n − 2
  strides: tf.Tensor2D; // [1, nx, nx·ny]
}

function axisConstants(grid: Grid): AxisConstants {
  const col = (v: number[]) => tf.tensor2d(v, [3, 1]);
  return {
    origin: col(grid.origin),
    spacing: col(grid.spacing),
    maxCoord: col(grid.shape.map((n) => n - 1)),
    maxLower: col(grid.shape.map((n) => n - 2)),
    strides: col(grid.strides),
  };
}

/** (p − origin) / spacing, the continuous voxel coordinates of world points [3, M]. */
function toVoxel(c: AxisConstants, pts: tf.Tensor2D): tf.Tensor2D {
  return tf.div(tf.sub(pts, c.origin), c.spacing);
}

/**
 * Sample `field` ([C, Nv], component planes, x-fastest voxel order) at world points [3, M].
 * Returns [C, M]. Intermediates are freed per corner to keep peak memory near 3 × [C, M].
 */
export function trilinear(field: tf.Tensor2D, grid: Grid, pts: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const c = axisConstants(grid);
    const { base, w } = tf.tidy(() => {
      const q = tf.minimum(tf.maximum(toVoxel(c, pts), 0), c.maxCoord);
      const i0 = tf.minimum(tf.floor(q), c.maxLower);
      return {
        base: tf.cast(tf.sum(tf.mul(i0, c.strides), 0), 'int32') as tf.Tensor1D,
        w: tf.sub(q, i0),
      };
    });
    const [wx, wy, wz] = tf.unstack(w) as tf.Tensor1D[];
    const [nx, ny] = grid.shape;
    const oneMinus = (t: tf.Tensor1D) => tf.sub(1, t) as tf.Tensor1D;
    const fx = [oneMinus(wx), wx];
    const fy = [oneMinus(wy), wy];
    const fz = [oneMinus(wz), wz];
    let acc: tf.Tensor2D | null = null;
    for (let dz = 0; dz < 2; dz++) {
      for (let dy = 0; dy < 2; dy++) {
        const wzy = tf.mul(fz[dz], fy[dy]);
        for (let dx = 0; dx < 2; dx++) {
          const offset = dx + dy * nx + dz * nx * ny;
          const term = tf.tidy(() => {
            const idx = offset === 0 ? base : tf.add(base, tf.scalar(offset, 'int32'));
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
 * Flat index of the nearest voxel (floor(q + 0.5), as the Python reference) of world points
 * [3, M]; points outside the grid get `grid.count` (a sentinel: index of a padded 0 / "outside").
 */
export function nearestFlatIndex(grid: Grid, pts: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const c = axisConstants(grid);
    const qn = tf.floor(tf.add(toVoxel(c, pts), 0.5));
    const qc = tf.minimum(tf.maximum(qn, 0), c.maxCoord);
    const outside = tf.greater(tf.sum(tf.abs(tf.sub(qn, qc)), 0), 0);
    const flat = tf.cast(tf.sum(tf.mul(qc, c.strides), 0), 'int32');
    return tf.where(outside, tf.fill([pts.shape[1]], grid.count, 'int32'), flat) as tf.Tensor1D;
  });
}

/**
 * Axis-aligned voxel grids (MODEL_FORMAT.md §2): world = origin + spacing · voxel.
 * Volumes are stored x-fastest, so the flat index of voxel (i, j, k) is i + nx·(j + ny·k).
 */
import type { GridSpec, Vec3 } from './manifest';

export interface Grid {
  shape: Vec3;
  spacing: Vec3;
  origin: Vec3;
  /** nx·ny·nz */
  count: number;
  /** Flat-index strides of x, y, z: [1, nx, nx·ny]. */
  strides: Vec3;
  /** mL per voxel. */
  voxelMl: number;
}

export function gridFromSpec(spec: GridSpec): Grid {
  const [nx, ny, nz] = spec.shape;
  return {
    shape: [nx, ny, nz],
    spacing: [spec.spacing[0], spec.spacing[1], spec.spacing[2]],
    origin: [spec.origin[0], spec.origin[1], spec.origin[2]],
    count: nx * ny * nz,
    strides: [1, nx, nx * ny],
    voxelMl: (spec.spacing[0] * spec.spacing[1] * spec.spacing[2]) / 1000,
  };
}

/** World coordinates of every voxel centre as three float32 planes [x…, y…, z…] (x fastest). */
export function worldCoordinatePlanes(grid: Grid): Float32Array {
  const [nx, ny, nz] = grid.shape;
  const n = grid.count;
  const out = new Float32Array(3 * n);
  let i = 0;
  for (let k = 0; k < nz; k++) {
    const z = Math.fround(k * grid.spacing[2] + grid.origin[2]);
    for (let j = 0; j < ny; j++) {
      const y = Math.fround(j * grid.spacing[1] + grid.origin[1]);
      for (let ii = 0; ii < nx; ii++, i++) {
        out[i] = ii * grid.spacing[0] + grid.origin[0];
        out[n + i] = y;
        out[2 * n + i] = z;
      }
    }
  }
  return out;
}

/** Row-major 4×4 voxel → world affine of an axis-aligned grid. */
export function affineOf(grid: Grid): number[][] {
  const [sx, sy, sz] = grid.spacing;
  const [ox, oy, oz] = grid.origin;
  return [
    [sx, 0, 0, ox],
    [0, sy, 0, oy],
    [0, 0, sz, oz],
    [0, 0, 0, 1],
  ];
}

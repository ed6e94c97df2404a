import { describe, expect, it } from 'vitest';
import {
  conform,
  foregroundCentroid,
  invertAffine,
  resample,
  robustRange,
  type Grid,
} from './conform';

const grid: Grid = {
  dims: [8, 8, 8],
  affine: [
    [2, 0, 0, -8],
    [0, 2, 0, -8],
    [0, 0, 2, -8],
    [0, 0, 0, 1],
  ],
};

/** A bright cube (value `v`) in a dark field, on a grid. */
function cube(g: Grid, lo: number, hi: number, v: number): Float32Array {
  const [nx, ny, nz] = g.dims;
  const d = new Float32Array(nx * ny * nz);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++)
        if (x >= lo && x < hi && y >= lo && y < hi && z >= lo && z < hi)
          d[(z * ny + y) * nx + x] = v + ((x + y + z) % 3);
  return d;
}

describe('conform', () => {
  it('inverts an affine', () => {
    const inv = invertAffine(grid.affine);
    expect(inv[0]).toEqual([0.5, 0, 0, 4]);
    expect(() =>
      invertAffine([
        [0, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
      ]),
    ).toThrow(/singular/);
  });

  it('is the identity on the same grid (before scaling)', () => {
    const data = cube(grid, 2, 6, 10);
    expect(Array.from(resample({ ...grid, data }, grid))).toEqual(Array.from(data));
  });

  it('puts a 1 mm scan on the 2 mm grid, centred, in [0, 1], with the target header', () => {
    const fine: Grid = {
      dims: [20, 20, 20],
      affine: [
        [1, 0, 0, 30], // far from the target: the centroids are aligned
        [0, 1, 0, 30],
        [0, 0, 1, 30],
        [0, 0, 0, 1],
      ],
    };
    const src = { ...fine, data: cube(fine, 4, 12, 500) };
    const target = foregroundCentroid({ ...grid, data: cube(grid, 2, 6, 1) });
    const out = conform(src, grid, target);
    expect(out.dims).toEqual(grid.dims);
    expect(out.affine).toEqual(grid.affine);
    expect(out.data).toBeInstanceOf(Float32Array);
    expect(Math.min(...out.data)).toBe(0);
    expect(Math.max(...out.data)).toBe(1);
    const c = foregroundCentroid(out);
    c.forEach((v, i) => expect(Math.abs(v - target[i])).toBeLessThan(1.1));
  });

  it('gives a real and a synthetic case the same robust range', () => {
    const a = conform({ ...grid, data: cube(grid, 2, 6, 1000) }, grid);
    const b = conform({ ...grid, data: cube(grid, 1, 7, 0.3) }, grid);
    expect(robustRange(a.data.filter((v) => v > 0))[1]).toBe(1);
    expect(robustRange(b.data.filter((v) => v > 0))[1]).toBe(1);
  });

  it('refuses images with nothing to conform', () => {
    expect(() => conform({ ...grid, data: new Float32Array(512) }, grid)).toThrow(/foreground/);
  });
});

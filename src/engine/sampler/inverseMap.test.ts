import { describe, expect, it } from 'vitest';
import { gridFromSpec } from '../model/grid';
import type { Vec3 } from '../model/manifest';
import { invertMapping, sampleWithGradient } from './inverseMap';

const grid = gridFromSpec({
  shape: [10, 12, 9],
  spacing: [6, 6, 6],
  origin: [-27, -33, -24],
  affine: [],
});
const centre: Vec3 = [0, -5, 0];

/** A smooth displacement with gradients well above 1 (a fixed-point iteration would diverge). */
function strongField(amplitude: number): Float32Array {
  const n = grid.count;
  const u = new Float32Array(3 * n);
  const [nx, ny] = grid.shape;
  for (let v = 0; v < n; v++) {
    const x = grid.origin[0] + grid.spacing[0] * (v % nx);
    const y = grid.origin[1] + grid.spacing[1] * (Math.floor(v / nx) % ny);
    const z = grid.origin[2] + grid.spacing[2] * Math.floor(v / (nx * ny));
    u[v] = amplitude * Math.sin(x / 9) * Math.cos(y / 11);
    u[n + v] = amplitude * Math.cos(z / 8);
    u[2 * n + v] = amplitude * Math.sin((x + y) / 10);
  }
  return u;
}

function forward(u: Float32Array, x: Vec3, scale: number): Vec3 {
  const xp = x.map((xa, a) => centre[a] + (xa - centre[a]) / scale) as Vec3;
  const d = sampleWithGradient(u, grid, xp).value;
  return [xp[0] + d[0], xp[1] + d[1], xp[2] + d[2]];
}

describe('inverse of the output → template mapping', () => {
  it('lands on the template point where ‖∇u‖ > 1', () => {
    const u = strongField(10);
    let maxGrad = 0;
    for (const p of [
      [0, 0, 0],
      [5, -3, 2],
      [-9, 4, 7],
    ] as Vec3[]) {
      const j = sampleWithGradient(u, grid, p).jacobian;
      maxGrad = Math.max(maxGrad, ...j.flat().map(Math.abs));
    }
    expect(maxGrad).toBeGreaterThan(1);
    for (let i = 0; i < 30; i++) {
      const t: Vec3 = [((i * 7) % 30) - 15, ((i * 11) % 26) - 13, ((i * 5) % 20) - 10];
      const inv = invertMapping(u, grid, t, 1.1, centre);
      expect(inv.residualMm).toBeLessThan(1e-4);
      const back = forward(u, inv.point, 1.1);
      for (let a = 0; a < 3; a++) expect(back[a]).toBeCloseTo(t[a], 3);
    }
  });

  it('gives the trilinear gradient (against finite differences)', () => {
    const u = strongField(4);
    const p: Vec3 = [1.3, -7.9, 4.4];
    const s = sampleWithGradient(u, grid, p);
    const h = 1e-4;
    for (let a = 0; a < 3; a++) {
      const q = [...p] as Vec3;
      q[a] += h;
      const v = sampleWithGradient(u, grid, q).value;
      for (let c = 0; c < 3; c++) expect(s.jacobian[c][a]).toBeCloseTo((v[c] - s.value[c]) / h, 3);
    }
  });

  it('with u = 0 undoes only the global scale', () => {
    const inv = invertMapping(new Float32Array(3 * grid.count), grid, [10, 0, -5], 1.2, centre);
    expect(inv.point[0]).toBeCloseTo(12, 10);
    expect(inv.point[1]).toBeCloseTo(1, 10);
    expect(inv.point[2]).toBeCloseTo(-6, 10);
    expect(inv.residualMm).toBe(0);
  });
});

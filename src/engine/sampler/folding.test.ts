import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../rng';
import { cubeTable, foldingStreamSeed, sheetDistance, type FoldingParams } from './folding';

const P: FoldingParams = {
  waves: 32,
  wavelengthMm: 26,
  radiusMm: 70,
  tableSize: 16,
  sulcalHalfWidthMm: 0.9,
  liningMm: 2,
  sulcalDepthMm: 12,
};

/** F(d) straight from the waves (MODEL_FORMAT.md §3 step 7b a), no table. */
function direct(seed: number, d: [number, number, number]): number {
  const rng = mulberry32(foldingStreamSeed(seed));
  const k = (2 * Math.PI * P.radiusMm) / P.wavelengthMm;
  let acc = 0;
  for (let j = 0; j < P.waves; j++) {
    const cz = 2 * rng() - 1;
    const az = 2 * Math.PI * rng();
    const phase = 2 * Math.PI * rng();
    const s = Math.sqrt(Math.max(1 - cz * cz, 0));
    acc += Math.cos(k * (d[0] * s * Math.cos(az) + d[1] * s * Math.sin(az) + d[2] * cz) + phase);
  }
  return acc * Math.sqrt(2 / P.waves);
}

describe('step 7b folding field', () => {
  it('the cube map holds F at its nodes (face +x, node (i, j))', () => {
    const t = cubeTable(42, P);
    const n = P.tableSize;
    const m = n + 1;
    for (const [i, j] of [
      [0, 0],
      [3, 11],
      [16, 8],
    ]) {
      const e: [number, number, number] = [1, -1 + (2 * i) / n, -1 + (2 * j) / n];
      const len = Math.hypot(...e);
      const d: [number, number, number] = [e[0] / len, e[1] / len, e[2] / len];
      expect(t[i * m + j]).toBeCloseTo(direct(42, d), 10);
    }
  });

  it('is seeded: same seed same table, another seed another pattern', () => {
    const a = cubeTable(1, P);
    expect(cubeTable(1, P)).toEqual(a);
    const b = cubeTable(2, P);
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
    expect(diff).toBeGreaterThan(1);
  });

  it('distance is continuous across a cube-face seam and scales with the radius', () => {
    const t = cubeTable(9, P);
    for (const z of [-40, -5, 0, 17, 38]) {
      const a = sheetDistance(t, 50, 50 - 1e-9, z, P);
      const b = sheetDistance(t, 50 - 1e-9, 50, z, P);
      expect(Math.abs(a - b)).toBeLessThan(1e-6);
      // the same direction twice as far out: twice the distance (angular sheets)
      expect(sheetDistance(t, 100, 100 - 2e-9, 2 * z, P)).toBeCloseTo(2 * a, 6);
    }
  });
});

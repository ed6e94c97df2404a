/**
 * The bias polynomial's systematic part (render/bias.ts, manifest `appearance.biasMean`): the
 * log-field coefficients D divided by the strength are added to the seed's random coefficients,
 * so exp(strength · P) = exp(strength · P_seed + D); no mean, or strength 0, leaves the seed's
 * field as it was.
 */
import { describe, expect, it } from 'vitest';
import { normals, streamSeed } from '../rng';
import { biasMeanOf, biasPlanesOf, radialTermOf } from './bias';

const D = [0, 0.1, -0.2, 0.05, -0.5, -0.4, -0.6, 0, 0, 0];

describe('bias field mean', () => {
  it('adds D / strength to the seed coefficients (float64, as brainsynth bias_polynomial)', () => {
    const mean = biasMeanOf({ biasFieldStrength: 0.2, biasMean: { coefficients: D } });
    expect(mean).toEqual(D.map((v) => v / 0.2));
    const plain = biasPlanesOf([5, 4, 3], 42);
    const shifted = biasPlanesOf([5, 4, 3], 42, mean);
    const n = Array.from(normals(streamSeed(42, 2), 10), (v) => v / 3);
    expect(plain.c).toEqual(n);
    expect(shifted.c).toEqual(n.map((v, k) => v + D[k] / 0.2));
  });

  it('the planes carry the mean: at the centre voxel the x², y² terms vanish, at a corner not', () => {
    const mean = biasMeanOf({ biasFieldStrength: 0.5, biasMean: { coefficients: D } });
    const plain = biasPlanesOf([5, 5, 5], 7);
    const shifted = biasPlanesOf([5, 5, 5], 7, mean);
    const centre = 2 * 5 + 2; // x = y = 0
    expect(shifted.A[centre] - plain.A[centre]).toBeCloseTo(0, 6);
    // corner x = y = -1: D/strength's 1·c0 − c1 − c2 + c4 + c5 + c7 (c0 = c7 = 0)
    const want = (-0.1 + 0.2 - 0.5 - 0.4) / 0.5;
    expect(shifted.A[0] - plain.A[0]).toBeCloseTo(want, 5);
    expect(shifted.B[0] - plain.B[0]).toBeCloseTo(0.05 / 0.5, 5); // z coefficient c3 + c8x + c9y
  });

  it('is off without a mean or at strength 0', () => {
    expect(biasMeanOf({ biasFieldStrength: 0.2 })).toBeUndefined();
    expect(biasMeanOf({ biasFieldStrength: 0, biasMean: { coefficients: D } })).toBeUndefined();
  });

  it('adds the radial part R(r) / strength per voxel: linear between knots, flat beyond', () => {
    const shape = [9, 7, 5];
    const centre = [0.1, -0.1, 0];
    const semiAxes = [0.7, 0.8, 0.6];
    const step = 0.05;
    const values = Array.from({ length: 80 }, (_, k) => -0.4 * (k * step) ** 2);
    const app = {
      biasFieldStrength: 0.3,
      biasMean: { coefficients: D, centre, semiAxes, radial: { step, values } },
    };
    const r = radialTermOf(shape, app);
    expect(r).toBeDefined();
    // voxel (i, j, k), x fastest: the bowl -0.4 |v|^2 / strength, up to the knots' interpolation
    const u = (i: number, n: number) => (2 * i) / (n - 1) - 1;
    for (const [i, j, k] of [
      [0, 0, 0],
      [4, 3, 2],
      [8, 6, 4],
      [2, 5, 1],
    ]) {
      const v2 = [u(i, 9), u(j, 7), u(k, 5)].reduce(
        (acc, x, a) => acc + ((x - centre[a]) / semiAxes[a]) ** 2,
        0,
      );
      expect(r![i + 9 * (j + 7 * k)]).toBeCloseTo((-0.4 * v2) / 0.3, 2);
    }
    // memoised by content and shape: the same array, also for a copy of the spec (the seed
    // helper receives one per request)
    expect(radialTermOf(shape, app)).toBe(r);
    expect(radialTermOf(shape, structuredClone(app))).toBe(r);
    expect(radialTermOf([9, 7, 6], app)).not.toBe(r);
    // two knots 0.5 apart: flat at the last value beyond r = 0.5
    const flat = radialTermOf(shape, {
      ...app,
      biasMean: { ...app.biasMean, radial: { step: 0.5, values: [0, -0.2] } },
    })!;
    expect(Math.min(...flat)).toBeCloseTo(-0.2 / 0.3, 6);
    expect(Math.max(...flat)).toBeLessThanOrEqual(0);
    // absent, or strength 0: no term; a radial part without its geometry: a clear error
    expect(
      radialTermOf(shape, { biasFieldStrength: 0.3, biasMean: { coefficients: D } }),
    ).toBeUndefined();
    expect(radialTermOf(shape, { ...app, biasFieldStrength: 0 })).toBeUndefined();
    expect(() =>
      radialTermOf(shape, { biasFieldStrength: 0.3, biasMean: { radial: { step, values } } }),
    ).toThrow(/centre/);
  });
});

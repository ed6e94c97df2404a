/**
 * The bias polynomial's systematic part (render/bias.ts, manifest `appearance.biasMean`): the
 * log-field coefficients D divided by the strength are added to the seed's random coefficients,
 * so exp(strength · P) = exp(strength · P_seed + D); no mean, or strength 0, leaves the seed's
 * field as it was.
 */
import { describe, expect, it } from 'vitest';
import { normals, streamSeed } from '../rng';
import { biasMeanOf, biasPlanesOf } from './bias';

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
});

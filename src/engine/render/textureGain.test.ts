/**
 * The subject's texture gain (render/textureGain.ts, manifest `appearance.textureGain`): every
 * label's SD times exp(perDecade·(age − 45)/10 + logSd·e + offset), e from seed stream s + 7; the same
 * numbers as the teacher's `texture_gain` (brainsynth/teacher/render.py).
 */
import { describe, expect, it } from 'vitest';
import { normals, streamSeed } from '../rng';
import { scaledSds, textureGainOf } from './textureGain';

const spec = { textureGain: { perDecade: 0.04, logSd: 0.09, offset: 0 } };

describe('texture gain', () => {
  it('is exp(perDecade·(age − 45)/10 + logSd·e), e the first normal of stream s + 7', () => {
    const e = normals(streamSeed(42, 7), 2)[0];
    expect(textureGainOf(spec, 70, 42)).toBeCloseTo(Math.exp(0.04 * 2.5 + 0.09 * e), 12);
    // the teacher's value for the same inputs (python: texture_gain(app, 70.0, 42))
    expect(textureGainOf(spec, 70, 42)).toBeCloseTo(1.0317660208653237, 12);
    // the stream wraps at 2^32 like the teacher's stream_seed
    expect(textureGainOf(spec, 70, 4294967295)).toBeCloseTo(1.2335815719554208, 12);
  });

  it('grows with age for a fixed subject and differs between subjects of one age', () => {
    expect(textureGainOf(spec, 75, 9) / textureGainOf(spec, 45, 9)).toBeCloseTo(Math.exp(0.12), 12);
    const gains = Array.from({ length: 200 }, (_, s) => Math.log(textureGainOf(spec, 45, s)));
    const mean = gains.reduce((a, b) => a + b, 0) / gains.length;
    const sd = Math.sqrt(gains.reduce((a, b) => a + (b - mean) ** 2, 0) / (gains.length - 1));
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(sd).toBeGreaterThan(0.07);
    expect(sd).toBeLessThan(0.11);
  });

  it('is 1 without a textureGain and at age 45 with no spread; the offset adds to its log', () => {
    expect(textureGainOf({}, 80, 3)).toBe(1);
    expect(textureGainOf({ textureGain: { perDecade: 0.04, logSd: 0, offset: 0 } }, 45, 3)).toBe(1);
    const shifted = { textureGain: { ...spec.textureGain, offset: -0.05 } };
    expect(textureGainOf(shifted, 70, 42)).toBeCloseTo(
      Math.exp(-0.05) * textureGainOf(spec, 70, 42),
      12,
    );
  });

  it('scales the SD table in float32 (sd · float32(g))', () => {
    const sd = [0.01, 0.05, 0.1];
    const out = scaledSds(sd, 1.1);
    const g = Math.fround(1.1);
    expect(Array.from(out)).toEqual(sd.map((v) => Math.fround(Math.fround(v) * g)));
    expect(Array.from(scaledSds(sd, 1))).toEqual(sd.map((v) => Math.fround(v)));
  });
});

import { describe, expect, it } from 'vitest';
import {
  clearPrefetchedNormals,
  mulberry32,
  msStreamSeed,
  normals,
  normalsF32,
  normalsF32Range,
  normalF32At,
  prefetchNormalsF32,
  prefetchedNormals,
  RandomStream,
  streamSeed,
} from './rng';

describe('mulberry32 + Box–Muller (MODEL_FORMAT §3 step 1)', () => {
  it('matches independently computed mulberry32 values for seed 42', () => {
    // Computed with brainsynth.common.rng.Mulberry32 (Python, arbitrary-precision ints).
    const r = mulberry32(42);
    const expected = [
      0.6011037519201636, 0.44829055899754167, 0.8524657934904099, 0.6697340414393693,
      0.17481389874592423,
    ];
    for (const e of expected) expect(r()).toBe(e);
  });

  it('matches the Python normals for seed 42 (u1 = 1 − rng(), u2 = rng(); cos then sin)', () => {
    const expected = [
      -1.2848381576290195, 0.43278026787558976, -0.9453528099747296, -1.7128042818055647,
      -0.6112802846514629, -0.10309750342981491,
    ];
    const z = normals(42, 6);
    expected.forEach((e, i) => expect(z[i]).toBeCloseTo(e, 12));
  });

  it('handles seeds 0 and 2^32 − 1 like Python', () => {
    expect(Array.from(normals(0, 3))).toEqual(
      [0.7871846599200555, 0.0016309335012816644, 0.43143961704601397].map((v) =>
        expect.closeTo(v, 12),
      ),
    );
    expect(Array.from(normals(0xffffffff, 3))).toEqual(
      [0.7904166437532407, 1.9774008296468601, 1.4889551557314555].map((v) =>
        expect.closeTo(v, 12),
      ),
    );
  });

  it('odd counts are prefixes of even counts; float32 variant agrees', () => {
    const a = normals(7, 5);
    const b = normals(7, 6);
    expect(Array.from(a)).toEqual(Array.from(b.subarray(0, 5)));
    const f = normalsF32(7, 6);
    b.forEach((v, i) => expect(f[i]).toBeCloseTo(v, 5));
  });

  it('RandomStream.normal() yields the normals in order', () => {
    const s = new RandomStream(99);
    const z = normals(99, 5);
    for (let i = 0; i < 5; i++) expect(s.normal()).toBe(z[i]);
  });

  it('derived stream seeds wrap as uint32', () => {
    expect(streamSeed(0xffffffff, 1)).toBe(0);
    expect(msStreamSeed(0)).toBe(0x9e3779b9);
    expect(msStreamSeed(0x9e3779b9)).toBe(0);
  });
});

describe('normals computed ahead of time (prefetchNormalsF32)', () => {
  it('hands over exactly the numbers normalsF32 computes, whole or stopped half way', async () => {
    const n = 1001; // odd: the last pair's sine is dropped
    const direct = [normalsF32(5, n), normalsF32(6, n)];
    await prefetchNormalsF32([5, 6], n, () => false, 64);
    expect(prefetchedNormals()).toEqual([
      { seed: 5, done: 1002, n },
      { seed: 6, done: 1002, n },
    ]);
    expect(normalsF32(5, n)).toEqual(direct[0]);
    expect(prefetchedNormals().map((p) => p.seed)).toEqual([6]); // taken once
    // stopped after two slices: the sample finishes the rest
    clearPrefetchedNormals();
    let slices = 0;
    await prefetchNormalsF32([6], n, () => ++slices > 2, 64);
    const part = prefetchedNormals()[0];
    expect(part.done).toBeLessThan(n);
    expect(normalsF32(6, n)).toEqual(direct[1]);
    // another length is not taken (and a new prefetch drops the old seeds)
    await prefetchNormalsF32([7], 10, () => false);
    expect(normalsF32(7, 12)).toEqual(normalsF32(7, 12));
    expect(prefetchedNormals().map((p) => p.seed)).toEqual([7]);
    clearPrefetchedNormals();
    expect(prefetchedNormals()).toEqual([]);
  });
});

describe('normalsF32Range (a stream drawn in pieces)', () => {
  it('pieces give the bits of the whole stream, even and odd lengths', () => {
    for (const n of [10, 11, 1001]) {
      const whole = normalsF32(0xdeadbeef, n);
      const pieces = new Float32Array(n);
      const cut = [0, 2, 6, n - (n % 2 ? 1 : 2), n].filter((v, i, a) => i === 0 || v > a[i - 1]);
      for (let i = 1; i < cut.length; i++) normalsF32Range(0xdeadbeef, pieces, cut[i - 1], cut[i]);
      expect(new Uint32Array(pieces.buffer)).toEqual(new Uint32Array(whole.buffer));
    }
    expect(() => normalsF32Range(1, new Float32Array(8), 1, 4)).toThrow(/bad range/);
  });

  it('normalF32At(seed, i) is value i of the stream, drawn alone (even and odd i)', () => {
    for (const seed of [0, 7, 0xdeadbeef, 0xffffffff]) {
      const whole = normalsF32(seed, 1001);
      for (const i of [0, 1, 2, 3, 500, 999, 1000]) expect(normalF32At(seed, i)).toBe(whole[i]);
    }
  });
});

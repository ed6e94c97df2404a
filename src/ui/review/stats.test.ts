import { describe, expect, it } from 'vitest';
import { wilson } from './stats';

describe('wilson', () => {
  it('matches the textbook interval (8 of 10: 0.490–0.943)', () => {
    const r = wilson(8, 10);
    expect(r.p).toBe(0.8);
    expect(r.ci[0]).toBeCloseTo(0.4902, 3);
    expect(r.ci[1]).toBeCloseTo(0.9433, 3);
  });
  it('stays inside [0, 1] with a non-zero width at 0 and n', () => {
    const none = wilson(0, 5);
    expect(none.ci[0]).toBe(0);
    expect(none.ci[1]).toBeGreaterThan(0.4);
    const all = wilson(5, 5);
    expect(all.ci[1]).toBe(1);
    expect(all.ci[0]).toBeLessThan(0.6);
  });
  it('is the whole range with no trials and refuses impossible counts', () => {
    expect(wilson(0, 0).ci).toEqual([0, 1]);
    expect(() => wilson(3, 2)).toThrow(/0 ≤ k ≤ n/);
    expect(() => wilson(1.5, 2)).toThrow();
  });
});

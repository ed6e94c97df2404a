import { describe, expect, it } from 'vitest';
import type { Conditions } from '../generated/conditions';
import type { Model } from '../model/loadModel';
import { applyHorns, hornFactor, type HornParams } from './horns';

const VALUES = [0, 2, 5, 41, 44];
const index = (v: number) => VALUES.indexOf(v);

/** A 12×10×10 grid: left WM block (x < 6) and right WM block (x ≥ 6), a small horn in each. */
function toy(params: HornParams): { model: Model; labels: Int32Array } {
  const shape: [number, number, number] = [12, 10, 10];
  const labels = new Int32Array(12 * 10 * 10);
  for (let z = 0; z < 10; z++) {
    for (let y = 0; y < 10; y++) {
      for (let x = 0; x < 12; x++) {
        const i = x + 12 * (y + 10 * z);
        const inside = y > 0 && y < 9 && z > 0 && z < 9 && x > 0 && x < 11;
        labels[i] = inside ? index(x < 6 ? 2 : 41) : 0;
      }
    }
  }
  // left horn: a 2-voxel slit; right horn: 8 voxels
  for (const [x, y, z] of [
    [3, 5, 5],
    [3, 5, 6],
  ])
    labels[x + 12 * (y + 10 * z)] = index(5);
  for (let z = 1; z < 9; z++) labels[8 + 12 * (2 + 10 * z)] = index(44); // a column at x 8, y 2
  const model = {
    manifest: { horns: params },
    grid: { shape },
    labels: { indexOfValue: new Map(VALUES.map((v, i) => [v, i])) },
  } as unknown as Model;
  return { model, labels };
}

const params = (f: number, ad = 2): HornParams => ({
  ages: [20, 90],
  factor: { female: [f, f], male: [f, f] },
  adFactor: ad,
});
const cond = (extra: Partial<Conditions> = {}) =>
  ({ age: 60, sex: 'female', pathology: 'none', contrast: 'T1w', ...extra }) as Conditions;
const count = (labels: Int32Array, v: number) => labels.filter((l) => l === index(v)).length;

describe('step 7c: temporal horns', () => {
  it('grows each side into its own white matter to round(n·f)', () => {
    const { model, labels } = toy(params(3));
    const report = applyHorns(model, labels, cond());
    expect(count(labels, 5)).toBe(6);
    expect(count(labels, 44)).toBe(24);
    expect(report['5']).toEqual({ before: 2, target: 6, after: 6 });
    // the left horn never takes right WM, and every new horn voxel was WM of its side
    expect(count(labels, 2) + count(labels, 5)).toBe((5 * 8 * 8 * 2) / 2 + 0 * 0 + 320 - 320);
  });

  it('shrinks back to white matter and leaves a model without horns alone', () => {
    const { model, labels } = toy(params(0.5));
    applyHorns(model, labels, cond());
    expect(count(labels, 5)).toBe(1);
    expect(count(labels, 44)).toBe(4);
    const none = toy(params(3));
    (none.model.manifest as { horns?: HornParams }).horns = undefined;
    const before = none.labels.slice();
    applyHorns(none.model, none.labels, cond());
    expect(none.labels).toEqual(before);
  });

  it("multiplies by adFactor^severity under Alzheimer's disease only", () => {
    expect(hornFactor(params(1.5, 2), cond())).toBeCloseTo(1.5);
    expect(
      hornFactor(params(1.5, 2), cond({ pathology: 'alzheimers', adSeverity: 1 })),
    ).toBeCloseTo(3);
    expect(
      hornFactor(params(1.5, 4), cond({ pathology: 'alzheimers', adSeverity: 0.5 })),
    ).toBeCloseTo(3);
    const a = toy(params(2));
    const b = toy(params(2));
    applyHorns(a.model, a.labels, cond());
    applyHorns(b.model, b.labels, cond());
    expect(a.labels).toEqual(b.labels); // deterministic
  });
});

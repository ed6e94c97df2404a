/** Plan → draw for the built-in pathologies: explicit placement through SampleOptions.pathologyPlan. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../model/loadModel';
import { PATHOLOGY_LABELS } from '../model/labelTable';
import { planPathology, sample, sampleAnatomy } from '../sample';
import { useCpuBackend } from '../testing/setupCpu';
import { syntheticModel } from '../testing/syntheticModel';
import type { Conditions } from '../types';
import type { GliomaPlan } from './glioma';
import type { MsPlan } from './ms';

let model: Model;
beforeAll(async () => {
  await useCpuBackend();
  model = syntheticModel();
});

const ms: Conditions = {
  age: 50,
  sex: 'female',
  pathology: 'ms',
  msLesionLoadMl: 1,
  contrast: 'FLAIR',
};
const glioma: Conditions = {
  age: 50,
  sex: 'male',
  pathology: 'glioma',
  gliomaRadiusMm: 6,
  gliomaCenterXMm: 8,
  gliomaCenterYMm: 0,
  gliomaCenterZMm: 4,
  contrast: 'T1w',
};

/** Mean world position of the voxels carrying `value`, and their number. */
function centroid(v: { labels: Int16Array; dims: number[]; affine: number[][] }, value: number) {
  const [nx, ny] = v.dims;
  const sum = [0, 0, 0];
  let n = 0;
  v.labels.forEach((l, i) => {
    if (l !== value) return;
    const ijk = [i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))];
    ijk.forEach((x, a) => (sum[a] += v.affine[a][3] + v.affine[a][a] * x));
    n++;
  });
  return { n, at: sum.map((s) => s / n) };
}

describe('pathology plans', () => {
  it.each([
    ['ms', ms],
    ['glioma', glioma],
    ['stroke', { ...ms, pathology: 'stroke', strokeSize: 0.3 } as Conditions],
  ])('%s: the drawn plan reproduces sample(), also after a JSON round trip', async (_, c) => {
    const plan = planPathology(model, c, 17);
    expect(plan.pathology).toBe(c.pathology);
    const a = await sample(model, c, 17);
    const b = await sample(model, c, 17, { pathologyPlan: JSON.parse(JSON.stringify(plan)) });
    expect(b.labels).toEqual(a.labels);
    expect(b.image).toEqual(a.image);
  });

  it('MS: all randomness is in the plan (sites in template space), a hand-made site is drawn there', async () => {
    const plan = planPathology(model, ms, 3) as MsPlan;
    expect(plan.sites.length).toBe(model.manifest.pathology.ms!.maxLesions);
    // Same seed → same sites, whatever the age (sites live in template space).
    const older = planPathology(model, { ...ms, age: 80 }, 3) as MsPlan;
    expect(older.sites).toEqual(plan.sites);
    // One lesion of 0.2 mL at a chosen white-matter point (age 50, no mass effect: the mapping
    // moves it by at most a few mm).
    const one: MsPlan = {
      pathology: 'ms',
      targetLoadMl: 0.2,
      sites: [{ templateMm: [-6, -4, -10], volumeMm3: 200 }],
    };
    const v = await sample(model, ms, 3, { pathologyPlan: one });
    const info = v.metadata.pathology as { lesionCount: number; lesionsDrawn: number };
    expect(info.lesionsDrawn).toBe(1);
    expect(info.lesionCount).toBe(1);
    const { n, at } = centroid(v, PATHOLOGY_LABELS.msLesion);
    expect(n).toBeGreaterThan(3);
    expect(Math.hypot(at[0] + 6, at[1] + 4, at[2] + 10)).toBeLessThan(6);
    // Placed by hand on the output volume (click-to-place): drawn exactly there.
    const clicked: MsPlan = {
      pathology: 'ms',
      targetLoadMl: 0.2,
      sites: [{ outputMm: [6, 4, -8], volumeMm3: 200 }],
    };
    const w = await sample(model, ms, 3, { pathologyPlan: clicked });
    const placed = centroid(w, PATHOLOGY_LABELS.msLesion);
    expect(placed.n).toBeGreaterThan(3);
    expect(Math.hypot(placed.at[0] - 6, placed.at[1] - 4, placed.at[2] + 8)).toBeLessThan(2.5);
    const bad = { ...clicked, sites: [{ volumeMm3: 200 }] } as unknown as MsPlan;
    await expect(sample(model, ms, 3, { pathologyPlan: bad })).rejects.toThrow(
      'MS plan site 0 needs templateMm or outputMm',
    );
    // Too few sites for the load: the result says so.
    const short = await sample(model, ms, 3, {
      pathologyPlan: { ...one, targetLoadMl: 5 } as MsPlan,
    });
    expect(short.metadata.pathology).toMatchObject({ note: expect.stringMatching(/ran out/) });
    const empty = await sample(model, ms, 3, { pathologyPlan: { ...one, sites: [] } as MsPlan });
    expect(empty.metadata.pathology).toMatchObject({ lesionCount: 0, realisedLoadMl: 0 });
  });

  it('glioma: a moved centre moves the tumour and its mass effect (sampleAnatomy too)', async () => {
    const plan = planPathology(model, glioma, 1) as GliomaPlan;
    expect(plan).toMatchObject({ pathology: 'glioma', centreMm: [8, 0, 4], radiusMm: 6 });
    const moved: GliomaPlan = { ...plan, centreMm: [-8, 0, 4] };
    const v = await sample(model, glioma, 1, { pathologyPlan: moved });
    const core = centroid(v, PATHOLOGY_LABELS.necroticCore);
    expect(core.n).toBeGreaterThan(0);
    // the core sits around its own (seeded) offset centre
    const o = plan.coreOffsetMm;
    expect(
      Math.hypot(core.at[0] + 8 - o[0], core.at[1] - o[1], core.at[2] - 4 - o[2]),
    ).toBeLessThan(2);
    const a = await sampleAnatomy(model, glioma, 1);
    const b = await sampleAnatomy(model, glioma, 1, { pathologyPlan: moved });
    const differ = a.labelIndex.reduce((d, l, i) => d + (l !== b.labelIndex[i] ? 1 : 0), 0);
    expect(differ).toBeGreaterThan(20);
  });

  it('refuses a plan for another pathology', async () => {
    const plan = planPathology(model, glioma, 1);
    await expect(sample(model, ms, 1, { pathologyPlan: plan })).rejects.toThrow(
      "pathologyPlan is for 'glioma' but the conditions ask for 'ms'",
    );
  });
});

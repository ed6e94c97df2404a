/**
 * The glioma of MODEL_FORMAT §4 on the committed model: an irregular margin of the asked volume,
 * oedema only in white matter and connected to the tumour, the same tumour for the same seed,
 * bad plans rejected, and the T1c rim brighter than white matter as calibrated.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../model/loadModel';
import { PATHOLOGY_LABELS } from '../model/labelTable';
import { planPathology, sample, sampleAnatomy } from '../sample';
import { useCpuBackend } from '../testing/setupCpu';
import type { Conditions } from '../types';
import { drawGliomaArray, volumeNorm, waveField, type GliomaPlan } from './glioma';

const root = resolve(__dirname, '../../..');
const dir = join(root, 'public/models/brainsynth-shape-v1');
let model: Model;

beforeAll(async () => {
  await useCpuBackend();
  const fetchFs = async (url: string): Promise<Response> => {
    const path = url.startsWith('file://') ? new URL(url).pathname : url;
    if (!existsSync(path)) return new Response('missing', { status: 404 });
    return new Response(readFileSync(path), { status: 200 });
  };
  model = await loadModel(dir, fetchFs);
}, 60_000);

const cond = (R: number, x = 30): Conditions => ({
  age: 60,
  sex: 'male',
  pathology: 'glioma',
  gliomaRadiusMm: R,
  gliomaCenterXMm: x,
  gliomaCenterYMm: -10,
  gliomaCenterZMm: 20,
  contrast: 'T1c',
});

describe('glioma shape', () => {
  it('the margin is irregular: its radius varies by direction', () => {
    const plan = planPathology(model, cond(20), 11) as GliomaPlan;
    const norm = volumeNorm(plan.marginWaves, 2.5, 0.25);
    const radii: number[] = [];
    for (let i = 0; i < 200; i++) {
      const z = 1 - (2 * i + 1) / 200;
      const s = Math.sqrt(1 - z * z);
      const d = [s * Math.cos(i * 2.4), s * Math.sin(i * 2.4), z];
      radii.push(
        (20 * Math.max(1 + 0.25 * waveField(d[0], d[1], d[2], 1, plan.marginWaves, 2.5), 0.3)) /
          norm,
      );
    }
    const mean = radii.reduce((a, b) => a + b) / radii.length;
    const sd = Math.sqrt(radii.reduce((a, b) => a + (b - mean) ** 2, 0) / radii.length);
    expect(sd / mean).toBeGreaterThan(0.1);
  });

  it('tumour volume is (4/3)πR³ within 10 %, oedema only in WM and connected, same seed same tumour', async () => {
    const R = 20;
    const v = await sample(model, cond(R), 11, { sampler: 'exact' });
    const tumour = v.labels.filter(
      (l) => l === PATHOLOGY_LABELS.necroticCore || l === PATHOLOGY_LABELS.enhancingRim,
    ).length;
    const ml = (tumour * 8) / 1000;
    const target = ((4 / 3) * Math.PI * R ** 3) / 1000;
    expect(Math.abs(ml - target) / target).toBeLessThan(0.1);
    expect(v.metadata.pathology.midlineShiftMm).toBeGreaterThan(0);
    // oedema: every oedema voxel was white matter before the draw, and the flood is connected
    const anat = await sampleAnatomy(model, cond(R), 11, { sampler: 'exact' });
    const plan = planPathology(model, cond(R), 11) as GliomaPlan;
    const labels = Int32Array.from(anat.labelIndex);
    drawGliomaArray(model, labels, plan);
    const oed = model.labels.indexOfValue.get(PATHOLOGY_LABELS.oedema)!;
    const core = model.labels.indexOfValue.get(PATHOLOGY_LABELS.necroticCore)!;
    const rim = model.labels.indexOfValue.get(PATHOLOGY_LABELS.enhancingRim)!;
    const groups = model.manifest.labels.map((l) => l.group);
    let oedema = 0;
    for (let i = 0; i < labels.length; i++)
      if (labels[i] === oed) {
        oedema++;
        expect(groups[anat.labelIndex[i]]).toBe('wm');
      }
    expect(oedema).toBeGreaterThan(0);
    const [nx, ny, nz] = model.grid.shape;
    const seen = new Uint8Array(labels.length);
    const queue: number[] = [];
    labels.forEach((l, i) => {
      if (l === core || l === rim) {
        seen[i] = 1;
        queue.push(i);
      }
    });
    let reached = 0;
    while (queue.length) {
      const i = queue.pop()!;
      const x = i % nx;
      const y = Math.floor(i / nx) % ny;
      const z = Math.floor(i / (nx * ny));
      const nb = [
        x > 0 ? i - 1 : -1,
        x < nx - 1 ? i + 1 : -1,
        y > 0 ? i - nx : -1,
        y < ny - 1 ? i + nx : -1,
        z > 0 ? i - nx * ny : -1,
        z < nz - 1 ? i + nx * ny : -1,
      ];
      for (const j of nb)
        if (j >= 0 && !seen[j] && labels[j] === oed) {
          seen[j] = 1;
          reached++;
          queue.push(j);
        }
    }
    expect(reached).toBe(oedema);
    // same seed, same plan and tumour; another seed, another shape
    expect(planPathology(model, cond(R), 11)).toEqual(plan);
    expect(planPathology(model, cond(R), 12)).not.toEqual(plan);
  }, 60_000);

  it('rejects a bad plan', async () => {
    const plan = planPathology(model, cond(10), 1) as GliomaPlan;
    await expect(
      sample(model, cond(10), 1, { pathologyPlan: { ...plan, radiusMm: -1 } as GliomaPlan }),
    ).rejects.toThrow(/Invalid glioma plan: bad radiusMm/);
    await expect(
      sample(model, cond(10), 1, { pathologyPlan: { ...plan, marginWaves: [] } as GliomaPlan }),
    ).rejects.toThrow(/marginWaves/);
  });

  it('T1c: the enhancing rim is brighter than white matter by the calibrated ratio', () => {
    const t1c = model.manifest.appearance.contrasts.T1c!;
    const ratios = (
      model.manifest.pathology.glioma as unknown as {
        appearance: { ratiosToNawm: { T1c: { rim: number } } };
      }
    ).appearance.ratiosToNawm.T1c;
    const rim = model.labels.indexOfValue.get(PATHOLOGY_LABELS.enhancingRim)!;
    const wm = model.labels.indexOfValue.get(2)!;
    expect(t1c.mean[rim] / t1c.mean[wm]).toBeCloseTo(ratios.rim, 3);
    expect(t1c.mean[rim]).toBeGreaterThan(t1c.mean[wm]);
    const t1 = model.manifest.appearance.contrasts.T1w;
    expect(t1c.mean[rim] / t1.mean[rim]).toBeGreaterThan(1.3); // enhancement
  });
});

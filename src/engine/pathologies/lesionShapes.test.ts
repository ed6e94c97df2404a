/**
 * Stroke and MS lesions on the committed model (MODEL_FORMAT.md §4): the stroke is an irregular,
 * cortex-reaching infarct of exactly the asked size with a gliotic rim; MS lesions come at the
 * measured juxtacortical / infratentorial shares, with the measured share of T1 black holes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../model/loadModel';
import { groupMask, PATHOLOGY_LABELS } from '../model/labelTable';
import { msStreamSeed, strokeStreamSeed } from '../rng';
import { sample, sampleAnatomy } from '../sample';
import { useCpuBackend } from '../testing/setupCpu';
import { planMsLesions } from './ms';
import { drawStroke, territoryPerVoxel } from './stroke';

const root = resolve(__dirname, '../../..');
const index = JSON.parse(readFileSync(join(root, 'public/models/index.json'), 'utf8')) as {
  default: string;
};
const modelDir = join(root, 'public/models', index.default);
const haveModel = existsSync(join(modelDir, 'manifest.json'));

function fsFetch() {
  return async (url: string): Promise<Response> => {
    const path = url.startsWith('file://') ? new URL(url).pathname : url;
    if (!existsSync(path)) return new Response('missing', { status: 404, statusText: 'Not Found' });
    return new Response(readFileSync(path), { status: 200 });
  };
}

const base = { age: 65, sex: 'male', contrast: 'T1w' } as const;
const strokeConditions = {
  ...base,
  pathology: 'stroke',
  strokeTerritory: 'MCA',
  strokeSide: 'left',
  strokeSize: 0.4,
} as const;

beforeAll(useCpuBackend);

describe.skipIf(!haveModel)('stroke and MS lesions on the committed model', () => {
  let model: Model;
  let labels: Int32Array;
  let templateIndex: Int32Array;
  beforeAll(async () => {
    model = await loadModel(modelDir, fsFetch());
    const a = await sampleAnatomy(model, strokeConditions, 9, { sampler: 'exact' });
    labels = a.labelIndex;
    templateIndex = a.templateIndex;
  }, 120_000);

  const draw = (fraction: number, seed: number, territory = 'MCA', side = 'left') => {
    const out = Int32Array.from(labels);
    const info = drawStroke(
      model,
      out,
      templateIndex,
      territory,
      side,
      fraction,
      strokeStreamSeed(seed),
    );
    const lesion: number[] = [];
    out.forEach((l, v) => {
      const value = model.labels.values[l];
      if (value === PATHOLOGY_LABELS.infarct || value === PATHOLOGY_LABELS.gliosis) lesion.push(v);
    });
    return { out, info, lesion };
  };

  it('has the asked size: infarct + gliosis = round(f·n) of the territory', () => {
    for (const [f, territory, side] of [
      [0.1, 'MCA', 'left'],
      [0.4, 'MCA', 'left'],
      [0.8, 'MCA', 'left'],
      [0.5, 'PCA', 'right'],
      [0.3, 'ACA', 'left'],
    ] as const) {
      const { info, lesion } = draw(f, 3, territory, side);
      const n = Math.round(info.territoryTissueMl / model.grid.voxelMl);
      expect(lesion.length).toBe(Math.max(1, Math.round(f * n)));
      expect(info.infarctMl / info.territoryTissueMl).toBeCloseTo(f, 2);
      expect(info.cavityMl + info.gliosisMl).toBeCloseTo(info.infarctMl, 6);
    }
  });

  it('same seed, same infarct; another seed, another shape', () => {
    const a = draw(0.3, 5);
    const b = draw(0.3, 5);
    const c = draw(0.3, 6);
    expect(Array.from(a.out)).toEqual(Array.from(b.out));
    const inA = new Set(a.lesion);
    const common = c.lesion.filter((v) => inA.has(v)).length;
    const dice = (2 * common) / (a.lesion.length + c.lesion.length);
    expect(dice).toBeLessThan(0.9);
  });

  it('MCA infarcts reach the cortex and the brain surface, and are not ellipsoids', () => {
    const isCortex = groupMask(model.labels, 'cortex');
    const isCsf = groupMask(model.labels, 'csf');
    const [nx, ny] = model.grid.shape;
    for (const seed of [1, 2, 3]) {
      const { info, lesion } = draw(0.3, seed);
      const cortex = lesion.filter((v) => isCortex[labels[v]]).length;
      expect(cortex / lesion.length).toBeGreaterThan(0.2);
      expect(info.cortexFraction).toBeCloseTo(cortex / lesion.length, 9);
      const surface = lesion.filter((v) =>
        [1, -1, nx, -nx, nx * ny, -nx * ny].some((d) => isCsf[labels[v + d]]),
      ).length;
      expect(surface).toBeGreaterThan(10);
      // Share of the lesion inside the ellipsoid of equal volume with its second moments: ~1 for
      // an ellipsoid (a ball cut by the tissue mask, version 1's shape, gives ~0.85).
      const pts = lesion.map((v) => [v % nx, Math.floor(v / nx) % ny, Math.floor(v / (nx * ny))]);
      const mean = [0, 1, 2].map((a) => pts.reduce((t, p) => t + p[a], 0) / pts.length);
      const cov = [0, 1, 2].map((a) =>
        [0, 1, 2].map(
          (b) => pts.reduce((t, p) => t + (p[a] - mean[a]) * (p[b] - mean[b]), 0) / pts.length,
        ),
      );
      const inv = invert3(cov);
      // volume of {d: dᵀΣ⁻¹d ≤ r²} = (4/3)π r³ sqrt(det Σ) = lesion voxels
      const r2 = Math.cbrt((3 * lesion.length) / (4 * Math.PI * Math.sqrt(inv.det))) ** 2;
      let inside = 0;
      for (const p of pts) {
        const d = [p[0] - mean[0], p[1] - mean[1], p[2] - mean[2]];
        let q = 0;
        for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) q += d[a] * inv.m[a][b] * d[b];
        if (q <= r2) inside++;
      }
      expect(inside / lesion.length).toBeLessThan(0.8);
    }
  });

  it('a gliotic rim (722) separates the CSF-like cavity (721) from surviving brain', () => {
    const survives = groupMask(
      model.labels,
      'cortex',
      'wm',
      'deep-gm',
      'hippocampus',
      'amygdala',
      'cerebellum-gm',
      'cerebellum-wm',
      'brainstem',
    );
    const [nx, ny] = model.grid.shape;
    const { out, info } = draw(0.4, 4);
    expect(info.gliosisMl).toBeGreaterThan(0.1 * info.infarctMl);
    expect(info.cavityMl).toBeGreaterThan(0.3 * info.infarctMl);
    let cavity = 0;
    let gliosis = 0;
    out.forEach((l, v) => {
      const value = model.labels.values[l];
      const nb = [1, -1, nx, -nx, nx * ny, -nx * ny].map((d) => out[v + d]);
      if (value === PATHOLOGY_LABELS.infarct) {
        cavity++;
        for (const w of nb) expect(survives[w]).toBe(0);
      } else if (value === PATHOLOGY_LABELS.gliosis) {
        gliosis++;
        expect(nb.some((w) => survives[w] === 1)).toBe(true);
      }
    });
    expect(cavity).toBeGreaterThan(0);
    expect(gliosis).toBeGreaterThan(0);
  });

  it('stays inside the territory', () => {
    const codes = territoryPerVoxel(model, templateIndex);
    const code = model.manifest.pathology.stroke?.territoryCodes['PCA-right'];
    const { lesion } = draw(0.6, 8, 'PCA', 'right');
    for (const v of lesion) expect(codes[v]).toBe(code);
  });

  it('MS: locations and black holes at the configured shares', () => {
    const spec = model.manifest.pathology.ms;
    expect(spec?.locationShares).toBeDefined();
    const count = { cerebral: 0, juxtacortical: 0, infratentorial: 0 };
    let holes = 0;
    let n = 0;
    for (let seed = 1; seed <= 10; seed++) {
      for (const s of planMsLesions(model, 10, msStreamSeed(seed)).sites) {
        count[s.location ?? 'cerebral']++;
        if (s.blackHole) holes++;
        n++;
      }
    }
    // 2000 draws: binomial SD <= 0.011
    expect(
      Math.abs(count.juxtacortical / n - (spec?.locationShares?.juxtacortical ?? 0)),
    ).toBeLessThan(0.04);
    expect(
      Math.abs(count.infratentorial / n - (spec?.locationShares?.infratentorial ?? 0)),
    ).toBeLessThan(0.03);
    expect(Math.abs(holes / n - (spec?.blackHoleFraction ?? 0))).toBeLessThan(0.04);
  });

  it('MS: the load asked (701 + 702) within 10 %, black holes and infratentorial lesions drawn', async () => {
    const c = { ...base, pathology: 'ms', msLesionLoadMl: 20 } as const;
    const v = await sample(model, c, 5);
    const anatomy = await sampleAnatomy(model, c, 5);
    const infra = groupMask(model.labels, 'brainstem', 'cerebellum-wm');
    let load = 0;
    let holes = 0;
    let infratentorial = 0;
    v.labels.forEach((l, i) => {
      if (l === PATHOLOGY_LABELS.msLesion || l === PATHOLOGY_LABELS.msBlackHole) {
        load++;
        if (l === PATHOLOGY_LABELS.msBlackHole) holes++;
        if (infra[anatomy.labelIndex[i]]) infratentorial++;
      }
    });
    expect(Math.abs(load * model.grid.voxelMl - 20)).toBeLessThan(2);
    expect(holes).toBeGreaterThan(0);
    expect(holes).toBeLessThan(load);
    expect(infratentorial).toBeGreaterThan(0);
    const info = v.metadata.pathology as { byLocation: Record<string, number>; blackHoles: number };
    expect(info.byLocation.infratentorial).toBeGreaterThan(0);
    expect(info.byLocation.juxtacortical).toBeGreaterThan(0);
    expect(info.blackHoles).toBeGreaterThan(0);
  }, 120_000);
});

function invert3(m: number[][]): { m: number[][]; det: number } {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  const inv = [
    [A, -(b * i - c * h), b * f - c * e],
    [B, a * i - c * g, -(a * f - c * d)],
    [C, -(a * h - b * g), a * e - b * d],
  ].map((row) => row.map((x) => x / det));
  return { m: inv, det };
}

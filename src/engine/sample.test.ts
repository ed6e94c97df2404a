import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Model } from './model/loadModel';
import { PATHOLOGY_LABELS } from './model/labelTable';
import { territoryPerVoxel } from './pathologies/stroke';
import { clearLabelCache, labelCacheHits, sample, sampleAnatomy } from './sample';
import { drawLatents, gainsFor, icvScale, velocityCoefficients } from './sampler/latents';
import { sampleAnatomyTensors } from './sampler/anatomy';
import { disposeModelTensors } from './sampler/modelTensors';
import { syntheticModel } from './testing/syntheticModel';
import { useCpuBackend } from './testing/setupCpu';
import type { Conditions } from './types';

const base: Conditions = { age: 60, sex: 'female', pathology: 'none', contrast: 'T1w' };
let model: Model;

beforeAll(async () => {
  await useCpuBackend();
  model = syntheticModel();
});

const count = (labels: Int16Array, value: number) =>
  labels.reduce((n, v) => n + (v === value ? 1 : 0), 0);

/** The model with `delta` added to one region's gain at every age. */
function withGainDelta(m: Model, region: string, delta: number): Model {
  const r = m.manifest.regions.findIndex((x) => x.name === region);
  const bump = (rows: number[][]) =>
    rows.map((row) => row.map((g, i) => (i === r ? g + delta : g)));
  const gains = {
    female: bump(m.manifest.calibration.gains.female),
    male: bump(m.manifest.calibration.gains.male),
  };
  return { ...m, manifest: { ...m.manifest, calibration: { ...m.manifest.calibration, gains } } };
}

describe('sample (anatomy, MODEL_FORMAT §3)', () => {
  it('is deterministic for equal conditions and seed', async () => {
    const a = await sample(model, base, 1234);
    const b = await sample(model, base, 1234);
    expect(b.labels).toEqual(a.labels);
    expect(b.image).toEqual(a.image);
    expect(a.dims).toEqual([24, 28, 24]);
    expect(a.metadata).toMatchObject({
      seed: 1234,
      modelId: 'synthetic-test',
      backend: 'cpu',
      conditions: base,
    });
  });

  it('differs between seeds', async () => {
    const a = await sample(model, base, 1);
    const b = await sample(model, base, 2);
    let diff = 0;
    for (let i = 0; i < a.labels.length; i++) if (a.labels[i] !== b.labels[i]) diff++;
    expect(diff).toBeGreaterThan(50);
  });

  it('raising the ventricle gain enlarges the lateral ventricles', async () => {
    const bigger = withGainDelta(model, 'lateral-ventricles', 2.0);
    const smaller = withGainDelta(model, 'lateral-ventricles', -1.0);
    const a = await sample(model, base, 7);
    const b = await sample(bigger, base, 7);
    const s = await sample(smaller, base, 7);
    disposeModelTensors(bigger);
    disposeModelTensors(smaller);
    const va = a.metadata.regionalVolumesMl['lateral-ventricles'];
    expect(b.metadata.regionalVolumesMl['lateral-ventricles']).toBeGreaterThan(va * 1.2);
    expect(s.metadata.regionalVolumesMl['lateral-ventricles']).toBeLessThan(va * 0.8);
    // and, through the calibrated gains, with age
    const young = await sample(model, { ...base, age: 20 }, 7);
    const old = await sample(model, { ...base, age: 90 }, 7);
    expect(old.metadata.regionalVolumesMl['lateral-ventricles']).toBeGreaterThan(
      young.metadata.regionalVolumesMl['lateral-ventricles'],
    );
  });

  it('reports regional volumes consistent with the label map', async () => {
    const v = await sample(model, base, 3);
    const vox = 0.008;
    expect(v.metadata.regionalVolumesMl['lateral-ventricles']).toBeCloseTo(
      (count(v.labels, 4) + count(v.labels, 43)) * vox,
      6,
    );
    let icv = 0;
    for (const l of v.labels) if (l >= 1 && l <= 499) icv++;
    expect(v.metadata.regionalVolumesMl.icv).toBeCloseTo(icv * vox, 6);
    expect(count(v.labels, 507)).toBeGreaterThan(0); // extra-cerebral, not in ICV
  });

  it('the lattice fast path equals the 8-gather trilinear path', async () => {
    const c = { ...base, age: 75 };
    const latents = drawLatents(11, 3);
    const coeffs = velocityCoefficients(model.manifest, latents, gainsFor(model.manifest, c));
    const k = icvScale(model.manifest, c, latents.zIcv);
    const a = sampleAnatomyTensors(model, coeffs, k);
    const b = sampleAnatomyTensors(model, coeffs, k, undefined, { forceGather: true });
    const [la, lb] = [await a.labelIndex.data(), await b.labelIndex.data()];
    tf.dispose([a.labelIndex, a.templateIndex, b.labelIndex, b.templateIndex]);
    let same = 0;
    for (let i = 0; i < la.length; i++) if (la[i] === lb[i]) same++;
    expect(same / la.length).toBeGreaterThan(0.999);
  });

  it('rejects invalid conditions and seeds with clear messages', async () => {
    await expect(sample(model, { ...base, age: 91 }, 1)).rejects.toThrow(
      'Invalid conditions: age must be <= 90',
    );
    await expect(sample(model, { ...base, contrast: 'PD' }, 1)).rejects.toThrow(
      /contrast must be one of: T1w, T2w, FLAIR/,
    );
    await expect(sample(model, base, -1)).rejects.toThrow(/seed must be an integer/);
    await expect(sample(model, base, 1.5)).rejects.toThrow(/seed must be an integer/);
  });

  it('renders every contrast with a noise floor in the background', async () => {
    for (const contrast of ['T1w', 'T2w', 'FLAIR'] as const) {
      const v = await sample(model, { ...base, contrast }, 5);
      let bg = 0;
      let nbg = 0;
      let wm = 0;
      let nwm = 0;
      v.labels.forEach((l, i) => {
        if (l === 0) {
          bg += v.image[i];
          nbg++;
        } else if (l === 2 || l === 41) {
          wm += v.image[i];
          nwm++;
        }
      });
      expect(v.image.every((x) => Number.isFinite(x) && x >= 0)).toBe(true);
      expect(bg / nbg).toBeLessThan(0.1 * (wm / nwm));
    }
  });
});

describe('pathology (MODEL_FORMAT §4)', () => {
  it('MS: lesions (701) only in former white matter, realised load within 15 % of the request', async () => {
    const target = 1.0;
    const c: Conditions = { ...base, pathology: 'ms', msLesionLoadMl: target };
    const v = await sample(model, c, 21);
    const anatomy = await sampleAnatomy(model, c, 21);
    const wmIdx = new Set([model.labels.indexOfValue.get(2), model.labels.indexOfValue.get(41)]);
    let lesion = 0;
    v.labels.forEach((l, i) => {
      if (l === PATHOLOGY_LABELS.msLesion) {
        lesion++;
        expect(wmIdx.has(anatomy.labelIndex[i])).toBe(true);
      }
    });
    const realised = lesion * 0.008;
    expect(Math.abs(realised - target) / target).toBeLessThan(0.15);
    expect(v.metadata.pathology).toMatchObject({ type: 'ms', targetLoadMl: target });
    expect(v.metadata.pathology.realisedLoadMl).toBeCloseTo(realised, 6);
    expect(v.metadata.pathology.lesionCount).toBeGreaterThan(1);
    expect(v.metadata.regionalVolumesMl['MS-lesion']).toBeCloseTo(realised, 6);
  });

  it('MS: one seed keeps its lesions when the anatomy changes a little (sites in template space)', async () => {
    const c: Conditions = { ...base, pathology: 'ms', msLesionLoadMl: 1.0 };
    const a = await sample(model, c, 33);
    const b = await sample(model, { ...c, age: 61 }, 33);
    const other = await sample(model, c, 34);
    const dice = (x: Int16Array, y: Int16Array) => {
      let both = 0;
      let n = 0;
      for (let i = 0; i < x.length; i++) {
        const p = x[i] === PATHOLOGY_LABELS.msLesion;
        const q = y[i] === PATHOLOGY_LABELS.msLesion;
        n += Number(p) + Number(q);
        if (p && q) both++;
      }
      return (2 * both) / n;
    };
    let changed = 0;
    const anatomyA = await sampleAnatomy(model, c, 33);
    const anatomyB = await sampleAnatomy(model, { ...c, age: 61 }, 33);
    anatomyA.labelIndex.forEach((l, i) => (changed += Number(l !== anatomyB.labelIndex[i])));
    expect(changed).toBeGreaterThan(0); // the anatomy did change
    expect(dice(a.labels, b.labels)).toBeGreaterThan(0.8);
    expect(dice(a.labels, other.labels)).toBeLessThan(0.5); // another seed: other lesions
    expect(a.metadata.pathology.maxInverseResidualMm).toBeLessThan(1e-3);
  });

  it('glioma: tumour centred at the requested position, necrotic core inside, rim and oedema around it', async () => {
    const centre: [number, number, number] = [8, 4, 6];
    const c: Conditions = {
      ...base,
      pathology: 'glioma',
      gliomaRadiusMm: 8,
      gliomaCenterXMm: centre[0],
      gliomaCenterYMm: centre[1],
      gliomaCenterZMm: centre[2],
    };
    const v = await sample(model, c, 5);
    const [nx, ny] = v.dims;
    const sum = [0, 0, 0];
    let n = 0;
    v.labels.forEach((l, i) => {
      if (l !== PATHOLOGY_LABELS.necroticCore && l !== PATHOLOGY_LABELS.enhancingRim) return;
      const p = [i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))].map(
        (q, a) => v.affine[a][3] + v.spacing[a] * q,
      );
      p.forEach((x, a) => (sum[a] += x));
      n++;
    });
    expect(n).toBeGreaterThan(0);
    // the margin is irregular (±25 % of R): its centroid stays within 0.3 R of the centre
    sum.forEach((s, a) => expect(Math.abs(s / n - centre[a])).toBeLessThanOrEqual(0.3 * 8));
    const core = count(v.labels, PATHOLOGY_LABELS.necroticCore);
    expect(core).toBeGreaterThan(0);
    expect(count(v.labels, PATHOLOGY_LABELS.enhancingRim)).toBeGreaterThan(core);
    expect(count(v.labels, PATHOLOGY_LABELS.oedema)).toBeGreaterThan(0);
    // Tumour volume ≈ sphere of radius R (2 mm voxels: generous tolerance)
    const tumourMl = n * 0.008;
    const sphere = ((4 / 3) * Math.PI * 8 ** 3) / 1000;
    expect(Math.abs(tumourMl - sphere) / sphere).toBeLessThan(0.25);
  });

  it('glioma mass effect moves anatomy away from the tumour', async () => {
    const c: Conditions = {
      ...base,
      pathology: 'glioma',
      gliomaRadiusMm: 10,
      gliomaCenterXMm: 10,
      gliomaCenterYMm: 0,
      gliomaCenterZMm: 4,
    };
    const healthy = await sampleAnatomy(model, base, 5);
    const tumour = await sampleAnatomy(model, c, 5);
    let changed = 0;
    for (let i = 0; i < healthy.labelIndex.length; i++)
      if (healthy.labelIndex[i] !== tumour.labelIndex[i]) changed++;
    expect(changed).toBeGreaterThan(20);
  });

  it('stroke: infarct (721 cavity + 722 gliosis) only inside the chosen territory and only in cortex/white matter, of the size asked', async () => {
    const c: Conditions = {
      ...base,
      pathology: 'stroke',
      strokeTerritory: 'MCA',
      strokeSide: 'left',
      strokeSize: 0.5,
    };
    const v = await sample(model, c, 9);
    const anatomy = await sampleAnatomy(model, c, 9);
    const codes = territoryPerVoxel(model, anatomy.templateIndex);
    const mcaLeft = model.manifest.pathology.stroke?.territoryCodes['MCA-left'];
    const allowed = new Set([2, 3, 41, 42]);
    let infarct = 0;
    let cavity = 0;
    v.labels.forEach((l, i) => {
      if (l !== PATHOLOGY_LABELS.infarct && l !== PATHOLOGY_LABELS.gliosis) return;
      infarct++;
      if (l === PATHOLOGY_LABELS.infarct) cavity++;
      expect(codes[i]).toBe(mcaLeft);
      expect(allowed.has(model.labels.values[anatomy.labelIndex[i]])).toBe(true);
    });
    expect(infarct).toBeGreaterThan(10);
    expect(cavity).toBeGreaterThan(0);
    expect(infarct - cavity).toBeGreaterThan(0);
    expect(v.metadata.pathology).toMatchObject({ type: 'stroke', territory: 'MCA-left' });
    const tissue = v.metadata.pathology.territoryTissueMl as number;
    // exactly round(f·n) voxels
    expect(infarct).toBe(Math.round((0.5 * tissue) / model.grid.voxelMl));
  });

  it("Alzheimer's enlarges ventricles with severity", async () => {
    const mild = await sample(model, { ...base, pathology: 'alzheimers', adSeverity: 0 }, 4);
    const severe = await sample(model, { ...base, pathology: 'alzheimers', adSeverity: 1 }, 4);
    expect(severe.metadata.regionalVolumesMl['lateral-ventricles']).toBeGreaterThan(
      mild.metadata.regionalVolumesMl['lateral-ventricles'],
    );
  });
});

describe('a change of contrast alone (the label map reused)', () => {
  it('gives the bits of a fresh sample, every pathology; other changes recompute', async () => {
    const cases: Conditions[] = [
      base,
      { ...base, pathology: 'alzheimers', adSeverity: 0.8 },
      { ...base, pathology: 'ms', msLesionLoadMl: 5 },
      { ...base, pathology: 'glioma', gliomaRadiusMm: 12 },
      { ...base, pathology: 'stroke', strokeSize: 0.4 },
    ];
    const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
    for (const c of cases) {
      clearLabelCache(model);
      await sample(model, c, 21);
      const hits = labelCacheHits();
      const switched = await sample(model, { ...c, contrast: 'FLAIR' }, 21);
      expect(labelCacheHits()).toBe(hits + 1);
      clearLabelCache(model);
      const fresh = await sample(model, { ...c, contrast: 'FLAIR' }, 21);
      expect(labelCacheHits()).toBe(hits + 1);
      expect(bits(switched.image)).toEqual(bits(fresh.image));
      expect(switched.labels).toEqual(fresh.labels);
      expect(switched.metadata.regionalVolumesMl).toEqual(fresh.metadata.regionalVolumesMl);
      expect(switched.metadata.pathology).toEqual(fresh.metadata.pathology);
      // another age or seed is not a contrast change
      await sample(model, { ...c, contrast: 'T2w', age: c.age + 1 }, 21);
      await sample(model, { ...c, contrast: 'T2w', age: c.age + 1 }, 22);
      expect(labelCacheHits()).toBe(hits + 1);
    }
  }, 60_000);
});

describe('memory', () => {
  it('leaves no tensors behind (beyond the per-model constant cache)', async () => {
    await sample(model, base, 1); // builds the model's constant tensors
    const before = tf.memory().numTensors;
    for (const pathology of ['none', 'alzheimers', 'ms', 'glioma', 'stroke'] as const) {
      await sample(model, { ...base, pathology }, 3);
    }
    await sampleAnatomy(model, base, 3);
    await expect(sample(model, { ...base, age: 200 }, 1)).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
    disposeModelTensors(model);
    expect(tf.memory().numTensors).toBe(before - 8);
  });
});

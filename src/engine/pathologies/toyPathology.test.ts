/**
 * Adding a pathology touches only its module, its schema fragment and its tests: the toy
 * module of testing/toyCyst.ts is registered here and sampled end to end, with no engine file
 * knowing about it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '../model/loadModel';
import { planPathology, sample, sampleAnatomy } from '../sample';
import { gainsFor } from '../sampler/latents';
import { disposeModelTensors } from '../sampler/modelTensors';
import { studentFeatures } from '../student/forward';
import type { Student } from '../student/studentModel';
import { useCpuBackend } from '../testing/setupCpu';
import { syntheticModel } from '../testing/syntheticModel';
import {
  TOY_CYST_GAIN_PER_MM,
  TOY_CYST_LABEL,
  toyCyst,
  toyCystModelParts,
} from '../testing/toyCyst';
import type { Conditions } from '../types';
import { pathologyModule, registerPathology, unregisterPathology } from './registry';
import type { ToyCystPlan } from '../testing/toyCyst';

// The toy's conditions are not part of the generated Conditions type (its fragment is merged
// into the synthetic model's schema only), so they are built as plain objects.
const toy = { age: 60, sex: 'female', pathology: 'toy-cyst', toyCystRadiusMm: 6, contrast: 'T2w' };
const asConditions = (c: Record<string, unknown>) => c as unknown as Conditions;
let model: Model;

beforeAll(async () => {
  await useCpuBackend();
  registerPathology(toyCyst);
  model = syntheticModel({ pathologies: [toyCystModelParts] });
});

afterAll(() => {
  unregisterPathology('toy-cyst');
  disposeModelTensors(model);
});

const count = (labels: Int16Array, value: number) =>
  labels.reduce((n, v) => n + (v === value ? 1 : 0), 0);

describe('a pathology added by registering its module (toy cyst)', () => {
  it('is sampled end to end: its label, volumes, metadata', async () => {
    const v = await sample(model, toy, 21);
    const n = count(v.labels, TOY_CYST_LABEL);
    // A 6 mm sphere holds ~113 voxels of 8 µL; only intracranial ones become cyst.
    expect(n).toBeGreaterThan(30);
    expect(n).toBeLessThanOrEqual(Math.ceil(((4 / 3) * Math.PI * 216) / 8) + 20);
    expect(v.metadata.pathology).toMatchObject({ type: 'toy-cyst', cystMl: n * 0.008 });
    // Its label is in the manifest's pathology range, so volumes report it and the ICV keeps it.
    expect(v.metadata.regionalVolumesMl['Toy-cyst']).toBeCloseTo(n * 0.008, 9);
    let icv = 0;
    for (const l of v.labels) if ((l >= 1 && l <= 499) || l === TOY_CYST_LABEL) icv++;
    expect(v.metadata.regionalVolumesMl.icv).toBeCloseTo(icv * 0.008, 6);
    // The schema default fills the toy's own property.
    const { toyCystRadiusMm: _r, ...withoutRadius } = toy;
    const d = await sample(model, withoutRadius, 21);
    expect(d.metadata.conditions).toMatchObject({ toyCystRadiusMm: 4 });
  });

  it('draws its randomness in plan(): same seed same cyst, and an explicit plan moves it', async () => {
    const a = await sample(model, toy, 5);
    const b = await sample(model, toy, 5);
    expect(b.labels).toEqual(a.labels);
    const plan = planPathology(model, toy, 5) as ToyCystPlan;
    expect(plan.centreMm).toEqual((a.metadata.pathology as { centreMm: number[] }).centreMm);
    const placed: ToyCystPlan = { ...plan, centreMm: [-8, 6, 4] };
    const c = await sample(model, toy, 5, { pathologyPlan: placed });
    expect(c.metadata.pathology).toMatchObject({ centreMm: [-8, 6, 4] });
    // The cyst voxels' centroid is at the placed centre (within a voxel).
    const [nx, ny] = [24, 28];
    const sum = [0, 0, 0];
    let n = 0;
    c.labels.forEach((l, v) => {
      if (l !== TOY_CYST_LABEL) return;
      const ijk = [v % nx, Math.floor(v / nx) % ny, Math.floor(v / (nx * ny))];
      ijk.forEach((i, ax) => (sum[ax] += c.affine[ax][3] + 2 * i));
      n++;
    });
    expect(n).toBeGreaterThan(0);
    sum.forEach((s, ax) => expect(Math.abs(s / n - placed.centreMm[ax])).toBeLessThan(2));
  });

  it('adds its gain term and its student feature through the registry', () => {
    const none = gainsFor(model.manifest, asConditions({ ...toy, pathology: 'none' }));
    const cyst = gainsFor(model.manifest, asConditions(toy));
    const r = model.manifest.regions.findIndex((x) => x.name === 'lateral-ventricles');
    expect(cyst[r] - none[r]).toBeCloseTo(TOY_CYST_GAIN_PER_MM * 6, 12);
    cyst.forEach((g, i) => i !== r && expect(g).toBe(none[i]));
    const student = { features: ['male', 'toyCystRadiusMm'] } as Student;
    const latents = { z: new Float64Array(0), zIcv: 0 };
    const f = (c: Record<string, unknown>) =>
      Array.from(studentFeatures(student, latents, asConditions(c), new Float64Array(0)));
    expect(f(toy)).toEqual([0, 6]);
    expect(f({ ...toy, pathology: 'none' })).toEqual([0, 0]);
  });

  it('changes the anatomy only through its gain term; the registry rejects duplicates', async () => {
    const a = await sampleAnatomy(model, toy, 3);
    const b = await sampleAnatomy(model, { ...toy, pathology: 'none' }, 3);
    const vent = new Set([4, 43].map((v) => model.labels.indexOfValue.get(v)));
    const ventricles = (x: Int32Array) => x.reduce((n, i) => n + (vent.has(i) ? 1 : 0), 0);
    // The toy's positive ventricle gain enlarges the ventricles (no deform hook, no mass effect).
    expect(ventricles(a.labelIndex)).toBeGreaterThan(ventricles(b.labelIndex));
    expect(a.gains).not.toEqual(b.gains);
    expect(pathologyModule('toy-cyst')).toBe(toyCyst);
    expect(() => registerPathology(toyCyst)).toThrow(/already registered/);
    expect(() => unregisterPathology('ms')).toThrow(/built in/);
  });
});

describe('a pathology in the schema without a module', () => {
  it('is refused with a clear error', async () => {
    const parts = {
      ...toyCystModelParts,
      id: 'toy-unregistered',
      schemaFragment: { properties: {} },
    };
    const m = syntheticModel({ pathologies: [parts] });
    await expect(
      sample(m, { age: 60, sex: 'male', pathology: 'toy-unregistered', contrast: 'T1w' }, 1),
    ).rejects.toThrow(/No pathology module 'toy-unregistered' is registered/);
    disposeModelTensors(m);
  });

  it('refuses a module whose labels lie outside the manifest pathology range', async () => {
    const parts = { ...toyCystModelParts, id: 'toy-outside', schemaFragment: { properties: {} } };
    const m = syntheticModel({ pathologies: [parts] });
    registerPathology({ ...toyCyst, id: 'toy-outside', labels: [650] });
    try {
      await expect(
        sample(m, { age: 60, sex: 'male', pathology: 'toy-outside', contrast: 'T1w' }, 1),
      ).rejects.toThrow("Pathology 'toy-outside' draws labels 650 outside");
    } finally {
      unregisterPathology('toy-outside');
      disposeModelTensors(m);
    }
  });
});

/**
 * The distilled student in tfjs (CPU backend) against PyTorch: fixtures/student/parity.json is
 * written by `python -m brainsynth.fixtures.student_parity` from the committed weights. Also: tfjs
 * quantisation decoding, the feature vector contract, and sample() choosing the student.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'fflate';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { gridFromSpec } from '../model/grid';
import { loadModel, type Model } from '../model/loadModel';
import type { ModelManifest } from '../model/manifest';
import { sampleAnatomy } from '../sample';
import { drawLatents, gainsFor } from '../sampler/latents';
import { useCpuBackend } from '../testing/setupCpu';
import type { Conditions } from '../types';
import {
  studentCoefficients,
  studentCoefficientsJs,
  studentCorrection,
  studentDisplacement,
  studentFeatures,
} from './forward';
import { decodeWeights, loadStudent, studentFromFiles, type Student } from './studentModel';

interface ParityCase {
  seed: number;
  conditions: Record<string, unknown>;
  features: number[];
  coefficients: number[];
  stride: number;
  correctionSample: number[];
  correctionSum: number;
  correctionMaxAbs: number;
}

const root = resolve(__dirname, '../../..');
const fixture = join(root, 'fixtures/student/parity.json');
const parity = existsSync(fixture)
  ? (JSON.parse(readFileSync(fixture, 'utf8')) as { modelId: string; cases: ParityCase[] })
  : null;
const modelDir = parity ? join(root, 'public/models', parity.modelId) : '';
const manifest: ModelManifest | null =
  parity && existsSync(join(modelDir, 'manifest.json'))
    ? (JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')) as ModelManifest)
    : null;
const haveStudent = manifest?.student?.file !== undefined;

function fsFetch() {
  return async (url: string): Promise<Response> => {
    if (!existsSync(url)) return new Response('missing', { status: 404, statusText: 'Not Found' });
    return new Response(readFileSync(url), { status: 200 });
  };
}

function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    ref = Math.max(ref, Math.abs(want[i]));
  }
  return diff / Math.max(ref, 1e-12);
}

beforeAll(useCpuBackend);

describe('tfjs weights decoding', () => {
  it('decodes float32, uint8 and uint16 quantisation (q · scale + min), little-endian', () => {
    const buf = new Uint8Array(8 + 3 + 4);
    const dv = new DataView(buf.buffer);
    dv.setFloat32(0, 1.5, true);
    dv.setFloat32(4, -2.25, true);
    buf.set([0, 128, 255], 8);
    dv.setUint16(11, 0, true);
    dv.setUint16(13, 65535, true);
    const w = decodeWeights(
      [
        { name: 'a', shape: [2], dtype: 'float32' },
        {
          name: 'b',
          shape: [3],
          dtype: 'float32',
          quantization: { dtype: 'uint8', min: -1, scale: 0.5 },
        },
        {
          name: 'c',
          shape: [2],
          dtype: 'float32',
          quantization: { dtype: 'uint16', min: 2, scale: 1e-3 },
        },
      ],
      buf,
    );
    expect(Array.from(w.get('a')!)).toEqual([1.5, -2.25]);
    expect(Array.from(w.get('b')!)).toEqual([-1, 63, 126.5]);
    expect(w.get('c')![0]).toBeCloseTo(2, 6);
    expect(w.get('c')![1]).toBeCloseTo(2 + 65.535, 3);
  });

  it('rejects a shard whose size does not match the manifest', () => {
    expect(() =>
      decodeWeights([{ name: 'a', shape: [3], dtype: 'float32' }], new Uint8Array(8)),
    ).toThrow(/past the end/);
  });

  it('builds a tiny student from gzip shards and runs it', () => {
    const grid = gridFromSpec({
      shape: [2, 2, 2],
      spacing: [1, 1, 1],
      origin: [0, 0, 0],
      affine: [],
    });
    const f32 = (a: number[]) => new Uint8Array(new Float32Array(a).buffer);
    const shard = new Uint8Array([
      ...f32([1, 0, 0, 1]), // dense0 kernel [2, 2] = identity
      ...f32([0, 0]),
      ...f32([2, -1]), // dense1 kernel [2, 1]
      ...f32([0.5]),
      ...new Uint8Array(24).fill(2), // basis_0: 24 × (2·0.5 + 0) = 1
      ...new Uint8Array(24).fill(0), // mean = min = 0.25
    ]);
    const json = {
      format: 'brainsynth-student/1',
      modelTopology: {
        input: { names: ['age', 'male'], size: 2 },
        layers: [
          { name: 'dense0', units: 2, activation: 'tanh', kernel: 'k0', bias: 'b0' },
          { name: 'dense1', units: 1, activation: 'linear', kernel: 'k1', bias: 'b1' },
        ],
        decoder: { components: 1, basis: ['B0'], mean: 'mean', velocityGridShape: [2, 2, 2] },
      },
      weightsManifest: [
        {
          paths: ['s.bin.gz'],
          weights: [
            { name: 'k0', shape: [2, 2], dtype: 'float32' },
            { name: 'b0', shape: [2], dtype: 'float32' },
            { name: 'k1', shape: [2, 1], dtype: 'float32' },
            { name: 'b1', shape: [1], dtype: 'float32' },
            {
              name: 'B0',
              shape: [3, 2, 2, 2],
              dtype: 'float32',
              quantization: { dtype: 'uint8', min: 0, scale: 0.5 },
            },
            {
              name: 'mean',
              shape: [3, 2, 2, 2],
              dtype: 'float32',
              quantization: { dtype: 'uint8', min: 0.25, scale: 1 },
            },
          ],
        },
      ],
    };
    const s = studentFromFiles(json, { 's.bin.gz': gzipSync(shard) }, grid);
    const c = { age: 55 + 35 * 0.5, sex: 'male', pathology: 'none', contrast: 'T1w' } as Conditions;
    const latents = { z: new Float64Array(0), zIcv: 0 };
    const norm = { age: { offset: 55, scale: 35 } };
    const f = studentFeatures(s, latents, c, new Float64Array(0), norm);
    expect(Array.from(f)).toEqual([0.5, 1]);
    // The normalisation comes from the manifest, never from a built-in constant.
    expect(() => studentFeatures(s, latents, c, new Float64Array(0))).toThrow(
      /featureNormalisation\.age/,
    );
    const other = { age: { offset: 50, scale: 10 } };
    expect(studentFeatures(s, latents, c, new Float64Array(0), other)[0]).toBeCloseTo(2.25, 6);
    const a = studentCoefficients(s, f);
    const want = 2 * Math.tanh(0.5) - Math.tanh(1) + 0.5;
    expect(a.dataSync()[0]).toBeCloseTo(want, 6);
    const corr = studentCorrection(s, f);
    expect(corr.shape).toEqual([3, 8]);
    expect(corr.dataSync()[5]).toBeCloseTo(want + 0.25, 5);
    tf.dispose([a, corr]);
  });
});

describe.skipIf(!haveStudent)('student parity with PyTorch (fixtures/student/parity.json)', () => {
  let student: Student;
  beforeAll(async () => {
    student = await loadStudent(
      `${modelDir}/`,
      manifest!.student!.file,
      gridFromSpec(manifest!.velocityGrid),
      fsFetch(),
    );
  });

  it.each(parity?.cases ?? [])('case seed=$seed: tfjs forward = torch forward (≤ 1e-4)', (c) => {
    // The engine builds the same feature vector from (seed, conditions) as the pipeline.
    const cond = { contrast: 'T1w', ...c.conditions } as Conditions;
    const feats = studentFeatures(
      student,
      drawLatents(c.seed, manifest!.shapeModel.components),
      cond,
      gainsFor(manifest!, cond),
      manifest!.student!.architecture!.featureNormalisation,
    );
    expect(relErr(feats, c.features)).toBeLessThanOrEqual(1e-6);

    const a = studentCoefficients(student, new Float32Array(c.features));
    const corr = studentCorrection(student, new Float32Array(c.features));
    const all = corr.dataSync();
    const sampled = c.correctionSample.map((_, i) => all[i * c.stride]);
    const errA = relErr(a.dataSync(), c.coefficients);
    const errC = relErr(sampled, c.correctionSample);
    let sum = 0;
    for (let i = 0; i < all.length; i++) sum += all[i];
    console.info(
      `student parity seed=${c.seed}: coefficients ${errA.toExponential(2)}, field ${errC.toExponential(2)}`,
    );
    expect(errA).toBeLessThanOrEqual(1e-4);
    expect(errC).toBeLessThanOrEqual(1e-4);
    expect(Math.abs(sum - c.correctionSum) / all.length).toBeLessThanOrEqual(
      1e-4 * c.correctionMaxAbs,
    );

    // The sampler's path: dense layers in JS, decoder as one matMul, added to v.
    expect(
      relErr(studentCoefficientsJs(student, new Float32Array(c.features)), c.coefficients),
    ).toBeLessThanOrEqual(1e-4);
    const v = tf.zeros([3, student.points]) as tf.Tensor2D;
    const u = studentDisplacement(student, new Float32Array(c.features), v);
    const uAll = u.dataSync();
    expect(
      relErr(
        c.correctionSample.map((_, i) => uAll[i * c.stride]),
        c.correctionSample,
      ),
    ).toBeLessThanOrEqual(1e-4);
    tf.dispose([a, corr, v, u]);
  });
});

describe.skipIf(!haveStudent)('sample() with the student', () => {
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(modelDir, fsFetch());
  }, 120_000);

  it('uses the student by default and agrees with the exact sampler', async () => {
    expect(model.student).toBeDefined();
    const cond = { age: 70, sex: 'female', pathology: 'none', contrast: 'T1w' };
    const s = await sampleAnatomy(model, cond, 5);
    const e = await sampleAnatomy(model, cond, 5, { sampler: 'exact' });
    expect(s.sampler).toBe('student');
    expect(e.sampler).toBe('exact');
    let same = 0;
    for (let i = 0; i < s.labelIndex.length; i++) if (s.labelIndex[i] === e.labelIndex[i]) same++;
    const agreement = same / s.labelIndex.length;
    console.info(`student vs exact: ${(100 * agreement).toFixed(2)} % of voxels agree`);
    expect(agreement).toBeGreaterThan(0.98);
  }, 120_000);

  it("refuses sampler 'student' for a model without one", async () => {
    const bare: Model = { ...model, student: undefined };
    await expect(
      sampleAnatomy(bare, { age: 50, sex: 'male', pathology: 'none', contrast: 'T1w' }, 1, {
        sampler: 'student',
      }),
    ).rejects.toThrow(/no distilled student/);
  });
});

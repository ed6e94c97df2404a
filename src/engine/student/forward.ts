/**
 * The student's forward pass: features → dense layers (matMul + bias, tanh) → M coefficients a
 * → correction = a·basis + mean ([3, Nv]) → u = v + correction. It replaces the
 * scaling-and-squaring integration (MODEL_FORMAT.md §3 step 4).
 *
 * The sampler runs the dense layers in plain JS (`studentCoefficientsJs`, ~20 k multiply-adds:
 * microseconds) and the decoder as ONE tfjs matMul [1, M + 1] × [M + 1, 3·Nv] (the mean is the
 * last row): on WebGPU every dispatch costs far more than the arithmetic of these tiny layers,
 * so two kernels (matMul + add to v) beat eleven. `studentCoefficients` is the same dense part
 * in tfjs ops (parity tests compare both).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Conditions } from '../types';
import type { Latents } from '../sampler/latents';
import { pathologyModules } from '../pathologies/registry';
import type { Student } from './studentModel';

/** Per-feature input normalisation, (raw − offset)/scale (manifest student.architecture). */
export type FeatureNormalisation = Readonly<Record<string, { offset: number; scale: number }>>;

/** The raw value of a named feature that is a condition (before normalisation). */
function conditionFeature(name: string, c: Conditions): number | undefined {
  if (name === 'age') return c.age;
  if (name === 'male') return c.sex === 'male' ? 1 : 0;
  // A pathology's own features (adSeverity, strokeSize, …): 0 unless it is the one selected.
  for (const m of pathologyModules()) {
    const f = m.studentFeatures?.[name];
    if (f) return c.pathology === m.id ? f(c) : 0;
  }
  return undefined;
}

/**
 * Input vector in the order of `student.features` (see brainsynth/distill/data.py). Features
 * listed in `normalisation` (the manifest's student.architecture.featureNormalisation, e.g. age)
 * are normalised; `age` must be listed there.
 */
export function studentFeatures(
  student: Student,
  latents: Latents,
  c: Conditions,
  gains: Float64Array,
  normalisation: FeatureNormalisation = {},
): Float32Array {
  const out = new Float32Array(student.features.length);
  student.features.forEach((name, i) => {
    let v: number | undefined;
    if (/^z\d+$/.test(name)) v = latents.z[Number(name.slice(1))];
    else if (/^gain\d+$/.test(name)) v = gains[Number(name.slice(4))];
    else {
      v = conditionFeature(name, c);
      if (v === undefined) throw new Error(`Student feature '${name}' is unknown to this engine`);
      const n = normalisation[name];
      if (n) v = (v - n.offset) / n.scale;
      else if (name === 'age')
        throw new Error(
          "Student feature 'age' needs its normalisation (manifest student.architecture.featureNormalisation.age)",
        );
    }
    if (v === undefined || !Number.isFinite(v))
      throw new Error(`Student feature '${name}' has no value`);
    out[i] = v;
  });
  return out;
}

interface StudentTensors {
  backend: string;
  layers: { kernel: tf.Tensor2D; bias: tf.Tensor1D; activation: string }[];
  basis: tf.Tensor2D;
  mean: tf.Tensor2D;
  /** [M + 1, 3·Nv]: basis rows then the mean (coefficient 1). */
  decoder: tf.Tensor2D;
}

const cache = new WeakMap<Student, StudentTensors>();

function tensorsFor(student: Student): StudentTensors {
  const backend = tf.getBackend();
  const hit = cache.get(student);
  if (hit && hit.backend === backend) return hit;
  if (hit) disposeStudentTensors(student);
  const t: StudentTensors = {
    backend,
    layers: student.layers.map((l) => ({
      kernel: tf.keep(tf.tensor2d(l.kernel, [l.inputs, l.units])),
      bias: tf.keep(tf.tensor1d(l.bias)),
      activation: l.activation,
    })),
    basis: tf.keep(tf.tensor2d(student.basis, [student.components, 3 * student.points])),
    mean: tf.keep(tf.tensor2d(student.mean, [1, 3 * student.points])),
    decoder: tf.keep(decoderTensor(student)),
  };
  cache.set(student, t);
  return t;
}

/** Free the device copies of a student's weights. */
export function disposeStudentTensors(student: Student): void {
  const t = cache.get(student);
  if (!t) return;
  tf.dispose([...t.layers.flatMap((l) => [l.kernel, l.bias]), t.basis, t.mean, t.decoder]);
  cache.delete(student);
}

function decoderTensor(student: Student): tf.Tensor2D {
  const n = 3 * student.points;
  const rows = new Float32Array((student.components + 1) * n);
  rows.set(student.basis, 0);
  rows.set(student.mean, student.components * n);
  return tf.tensor2d(rows, [student.components + 1, n]);
}

/** Dense layers in plain JS (float64 accumulation, float32 results): features → [M]. */
export function studentCoefficientsJs(student: Student, features: Float32Array): Float32Array {
  let h: Float32Array = features;
  for (const l of student.layers) {
    const out = new Float32Array(l.units);
    for (let o = 0; o < l.units; o++) {
      let acc = l.bias[o];
      for (let i = 0; i < l.inputs; i++) acc += h[i] * l.kernel[i * l.units + o];
      out[o] =
        l.activation === 'tanh' ? Math.tanh(acc) : l.activation === 'relu' ? Math.max(acc, 0) : acc;
    }
    h = out;
  }
  return h;
}

/** Dense layers in tfjs ops: features [F] → coefficients [1, M]. */
export function studentCoefficients(student: Student, features: Float32Array): tf.Tensor2D {
  const t = tensorsFor(student);
  return tf.tidy(() => {
    let h: tf.Tensor2D = tf.tensor2d(features, [1, features.length]);
    for (const l of t.layers) {
      h = tf.add(tf.matMul(h, l.kernel), l.bias);
      if (l.activation === 'tanh') h = tf.tanh(h);
      else if (l.activation === 'relu') h = tf.relu(h);
    }
    return h;
  });
}

/** Correction D(MLP(features)) as [3, Nv] planes. */
export function studentCorrection(student: Student, features: Float32Array): tf.Tensor2D {
  const t = tensorsFor(student);
  return tf.tidy(() => {
    const a = studentCoefficients(student, features);
    return tf.reshape(tf.add(tf.matMul(a, t.basis), t.mean), [3, student.points]);
  });
}

/**
 * Student displacement u = v + D(MLP(features)), [3, Nv] (v as sampler/anatomy.ts makes it):
 * dense layers in JS, then one decoder matMul and one add on the active backend.
 */
export function studentDisplacement(
  student: Student,
  features: Float32Array,
  v: tf.Tensor2D,
): tf.Tensor2D {
  const t = tensorsFor(student);
  const a = studentCoefficientsJs(student, features);
  const row = new Float32Array(student.components + 1);
  row.set(a);
  row[student.components] = 1;
  return tf.tidy(() => {
    const corr = tf.matMul(tf.tensor2d(row, [1, row.length]), t.decoder);
    return tf.add(v, tf.reshape(corr, [3, student.points]));
  });
}

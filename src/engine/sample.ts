/**
 * `sample(model, conditions, seed)`: the whole forward pass of MODEL_FORMAT.md §3–§5.
 * Tensor work runs on whatever tfjs backend is active; every tensor made here is disposed
 * before returning (tf.memory().numTensors is back where it started, apart from the per-model
 * constant cache of sampler/modelTensors.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { validateConditions } from './conditions';
import { ConditionsError, SupersededError } from './errors';
import type { Model } from './model/loadModel';
import { affineOf } from './model/grid';
import { drawGliomaLabels } from './render/glioma';
import { drawMsLesions } from './render/msLesions';
import { drawStroke } from './render/stroke';
import { renderContrast } from './render/contrast';
import { regionalVolumesMl } from './render/volumes';
import { msStreamSeed } from './rng';
import { sampleAnatomyTensors, type MassEffect } from './sampler/anatomy';
import { installFastCpuGather } from './sampler/fastCpuGather';
import {
  drawLatents,
  gainsFor,
  icvScale,
  velocityCoefficients,
  type Latents,
} from './sampler/latents';
import { studentDisplacement, studentFeatures } from './student/forward';
import type { BackendName, Conditions, SampledVolume, SamplerName } from './types';
import type { Vec3 } from './model/manifest';
import { SOFTWARE_VERSION } from './version';

export interface SampleOptions {
  /** Polled between stages; when it returns true the sample stops with SupersededError. */
  isStale?: () => boolean;
  /** Use these latents instead of drawing them from the seed (parity tests, latent editing). */
  latents?: Latents;
  /**
   * Step 4: 'student' = the distilled network (one pass), 'exact' = scaling and squaring.
   * Default: the student when the model has one, else exact.
   */
  sampler?: SamplerName;
}

/** Which sampler runs, and the displacement hook for the anatomy sampler. */
function chooseSampler(
  model: Model,
  c: Conditions,
  latents: Latents,
  gains: Float64Array,
  requested: SamplerName | undefined,
): { sampler: SamplerName; displacement?: (v: tf.Tensor2D) => tf.Tensor2D } {
  const student = model.student;
  if (requested === 'exact' || (!requested && !student)) return { sampler: 'exact' };
  if (!student) throw new Error(`Model ${model.manifest.id} has no distilled student`);
  const features = studentFeatures(student, latents, c, gains);
  return { sampler: 'student', displacement: (v) => studentDisplacement(student, features, v) };
}

/** Label indices (before values) and the template mapping, for tests and QA. */
export interface AnatomyResult {
  labelIndex: Int32Array;
  templateIndex: Int32Array;
  latents: Latents;
  gains: Float64Array;
  scale: number;
  sampler: SamplerName;
}

export function checkSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`seed must be an integer in [0, 4294967295] (got ${seed})`);
  }
}

function validated(model: Model, conditions: unknown): Conditions {
  const res = validateConditions(model.manifest.conditionsSchema, conditions);
  if (!res.ok) throw new ConditionsError(res.errors);
  return res.value;
}

function gliomaMass(model: Model, c: Conditions): MassEffect | undefined {
  if (c.pathology !== 'glioma') return undefined;
  const spec = model.manifest.pathology.glioma;
  if (!spec)
    throw new Error(`Model ${model.manifest.id} has no glioma parameters (pathology.glioma)`);
  return {
    centreMm: gliomaCentre(c),
    radiusMm: c.gliomaRadiusMm ?? 15,
    decayMm: spec.massEffectDecayMm,
  };
}

function gliomaCentre(c: Conditions): Vec3 {
  return [c.gliomaCenterXMm ?? 0, c.gliomaCenterYMm ?? 0, c.gliomaCenterZMm ?? 0];
}

/** Steps 1–7 only (no pathology drawing): label indices as the Python reference computes them. */
export async function sampleAnatomy(
  model: Model,
  conditions: unknown,
  seed: number,
  options: SampleOptions = {},
): Promise<AnatomyResult> {
  checkSeed(seed);
  const c = validated(model, conditions);
  if (tf.getBackend() === 'cpu') installFastCpuGather();
  const latents = options.latents ?? drawLatents(seed, model.manifest.shapeModel.components);
  const gains = gainsFor(model.manifest, c);
  const scale = icvScale(model.manifest, c, latents.zIcv);
  const { sampler, displacement } = chooseSampler(model, c, latents, gains, options.sampler);
  const t = sampleAnatomyTensors(
    model,
    velocityCoefficients(model.manifest, latents, gains),
    scale,
    gliomaMass(model, c),
    { displacement },
  );
  try {
    const [labelIndex, templateIndex] = await Promise.all([
      t.labelIndex.data(),
      t.templateIndex.data(),
    ]);
    return {
      labelIndex: new Int32Array(labelIndex),
      templateIndex: new Int32Array(templateIndex),
      latents,
      gains,
      scale,
      sampler,
    };
  } finally {
    tf.dispose([t.labelIndex, t.templateIndex]);
  }
}

export async function sample(
  model: Model,
  conditions: unknown,
  seed: number,
  options: SampleOptions = {},
): Promise<SampledVolume> {
  const t0 = performance.now();
  checkSeed(seed);
  const c = validated(model, conditions);
  const checkpoint = async () => {
    // Yield to the event loop so a newer request (worker message) can mark this one stale.
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    if (options.isStale?.()) throw new SupersededError();
  };
  if (tf.getBackend() === 'cpu') installFastCpuGather();

  const latents = options.latents ?? drawLatents(seed, model.manifest.shapeModel.components);
  const gains = gainsFor(model.manifest, c);
  const scale = icvScale(model.manifest, c, latents.zIcv);
  const mass = gliomaMass(model, c);
  const { sampler, displacement } = chooseSampler(model, c, latents, gains, options.sampler);
  const owned: tf.Tensor[] = [];
  try {
    const anatomy = sampleAnatomyTensors(
      model,
      velocityCoefficients(model.manifest, latents, gains),
      scale,
      mass,
      { displacement, keepDisplacement: c.pathology === 'ms' },
    );
    owned.push(anatomy.labelIndex, anatomy.templateIndex);
    if (anatomy.displacement) owned.push(anatomy.displacement);
    let labelTensor = anatomy.labelIndex;
    const pathology: Record<string, unknown> = {};
    if (mass) {
      labelTensor = drawGliomaLabels(model, anatomy.labelIndex, {
        centreMm: mass.centreMm,
        radiusMm: mass.radiusMm,
      });
      owned.push(labelTensor);
      Object.assign(pathology, {
        type: 'glioma',
        centreMm: mass.centreMm,
        radiusMm: mass.radiusMm,
      });
    }
    await checkpoint();

    const labels = new Int32Array(await labelTensor.data());
    if (c.pathology === 'ms' || c.pathology === 'stroke') {
      if (c.pathology === 'ms') {
        // keepDisplacement was set for MS above, so the displacement is there.
        const u = anatomy.displacement as tf.Tensor2D;
        const deformation = { displacement: new Float32Array(await u.data()), scale };
        const ms = drawMsLesions(
          model,
          labels,
          deformation,
          c.msLesionLoadMl ?? 8,
          msStreamSeed(seed),
        );
        Object.assign(pathology, { type: 'ms', ...ms });
      } else {
        const templateIndex = new Int32Array(await anatomy.templateIndex.data());
        const st = drawStroke(
          model,
          labels,
          templateIndex,
          c.strokeTerritory ?? 'MCA',
          c.strokeSide ?? 'left',
          c.strokeSize ?? 0.4,
        );
        Object.assign(pathology, { type: 'stroke', fraction: c.strokeSize ?? 0.4, ...st });
      }
      labelTensor = tf.tensor1d(labels, 'int32');
      owned.push(labelTensor);
    } else if (c.pathology === 'alzheimers') {
      Object.assign(pathology, { type: 'alzheimers', severity: c.adSeverity ?? 0 });
    } else if (c.pathology === 'none') {
      pathology.type = 'none';
    }
    await checkpoint();

    const image = renderContrast(model, labelTensor, c.contrast, c.age, seed);
    owned.push(image);
    const imageData = new Float32Array(await image.data());

    const values = model.labels.values;
    const labelValues = new Int16Array(labels.length);
    for (let i = 0; i < labels.length; i++) labelValues[i] = values[labels[i]];
    const g = model.grid;
    return {
      image: imageData,
      labels: labelValues,
      dims: [g.shape[0], g.shape[1], g.shape[2]],
      spacing: [g.spacing[0], g.spacing[1], g.spacing[2]],
      affine: affineOf(g),
      metadata: {
        conditions: c,
        seed,
        modelId: model.manifest.id,
        modelVersion: model.manifest.version,
        softwareVersion: SOFTWARE_VERSION,
        backend: tf.getBackend() as BackendName,
        sampler,
        sampleMs: performance.now() - t0,
        regionalVolumesMl: regionalVolumesMl(model, labels),
        pathology,
      },
    };
  } finally {
    tf.dispose(owned);
  }
}

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
import { isPathologyValue } from './model/labelRanges';
import { LabelMap } from './pathologies/drawContext';
import { pathologyModule } from './pathologies/registry';
import type { PathologyPlan } from './pathologies/types';
import { renderContrast, renderContrastArray } from './render/contrast';
import { typedArrayKernelsActive } from './kernels/path';
import { wasmKernels } from './kernels/wasm/runtime';
import { labelValuesWasm } from './kernels/wasm/ops';
import { requestSeedWork } from './render/seedHelper';
import { regionalVolumesFromCounts } from './render/volumes';
import { sampleAnatomyTensors, sampleAnatomyTensorsAsync } from './sampler/anatomy';
import { localField } from './sampler/localField';
import { applyFolding, clearNonCortex, hasFolding } from './sampler/folding';
import { applySizing, hasSizing } from './sampler/sizing';
import { installFastCpuGather } from './sampler/fastCpuGather';
import {
  drawLatents,
  sizeLatentCount,
  gainsFor,
  icvScale,
  velocityCoefficients,
  type Latents,
} from './sampler/latents';
import { studentDisplacement, studentFeatures } from './student/forward';
import type { BackendName, Conditions, SampledVolume, SamplerName } from './types';
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
  /**
   * The pathology's placement (pathologies/README.md) instead of drawing it from the seed:
   * e.g. `planPathology(model, conditions, seed)` with a lesion moved or added by hand. Its
   * `pathology` must be the conditions' pathology.
   */
  pathologyPlan?: PathologyPlan;
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
  const normalisation = model.manifest.student?.architecture?.featureNormalisation;
  const features = studentFeatures(student, latents, c, gains, normalisation);
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

/**
 * The placement of the conditions' pathology for this seed: every random draw of the pathology
 * module, as plain data (pass it, changed or not, as `SampleOptions.pathologyPlan`).
 */
export function planPathology(model: Model, conditions: unknown, seed: number): PathologyPlan {
  checkSeed(seed);
  const c = validated(model, conditions);
  return pathologyModule(c.pathology).plan(model, c, seed);
}

/** The conditions' pathology module, checked against the model (before any work). */
function moduleFor(model: Model, c: Conditions) {
  const module = pathologyModule(c.pathology);
  const outside = module.labels.filter((v) => !isPathologyValue(model.manifest, v));
  if (outside.length > 0) {
    throw new Error(
      `Pathology '${module.id}' draws labels ${outside.join(', ')} outside the model's pathology label range`,
    );
  }
  return module;
}

function planFor(model: Model, c: Conditions, seed: number, given?: PathologyPlan) {
  const module = moduleFor(model, c);
  if (given && given.pathology !== c.pathology) {
    throw new Error(
      `pathologyPlan is for '${given.pathology}' but the conditions ask for '${c.pathology}'`,
    );
  }
  return { module, plan: given ?? module.plan(model, c, seed) };
}

/** Step 4b's local field of `seed`: none for explicit latents (they define the individual). */
function localFieldFor(
  model: Model,
  seed: number,
  options: { latents?: unknown },
): Float32Array | null {
  return options.latents ? null : localField(model, seed);
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
  const module = moduleFor(model, c);
  if (tf.getBackend() === 'cpu') installFastCpuGather();
  const latents =
    options.latents ??
    drawLatents(seed, model.manifest.shapeModel.components, sizeLatentCount(model.manifest));
  const gains = gainsFor(model.manifest, c);
  const scale = icvScale(model.manifest, c, latents.zIcv);
  const { sampler, displacement } = chooseSampler(model, c, latents, gains, options.sampler);
  // Only a deforming pathology (the glioma's mass effect) changes steps 1–7.
  const mass = module.deform
    ? module.deform(model, planFor(model, c, seed, options.pathologyPlan).plan)
    : undefined;
  const t = sampleAnatomyTensors(
    model,
    velocityCoefficients(model.manifest, latents, gains),
    scale,
    mass,
    { displacement, localField: localFieldFor(model, seed, options) },
  );
  try {
    const [labelIndex, templateIndex] = t.arrays
      ? [t.arrays.labelIndex, t.arrays.templateIndex]
      : await Promise.all([t.labelIndex.data(), t.templateIndex.data()]);
    return {
      labelIndex: new Int32Array(labelIndex),
      templateIndex: new Int32Array(templateIndex),
      latents,
      gains,
      scale,
      sampler,
    };
  } finally {
    if (t.release) t.release();
    else tf.dispose([t.labelIndex, t.templateIndex]);
  }
}

/**
 * The last fast-path sample's final label map per model, for a change of the contrast alone:
 * steps 1–7c and the pathology's drawing do not read the contrast (MODEL_FORMAT.md §3–§4), so
 * the same seed, sampler, plan and other conditions give the same labels and sulcal fraction,
 * and only the contrast (§5) is rendered again.
 */
interface LabelCache {
  key: string;
  labels: Int32Array;
  csfFraction?: Float32Array;
  pathology: unknown;
  labelValues: Int16Array;
  counts: Float64Array;
}
const labelCaches = new WeakMap<Model, LabelCache>();
let labelCacheHitCount = 0;

/** Drop the cached label map of `model` (tests, benchmarks). */
export function clearLabelCache(model: Model): void {
  labelCaches.delete(model);
}

/** Samples that reused the cached label map (tests). */
export function labelCacheHits(): number {
  return labelCacheHitCount;
}

/** Label values (int16) per voxel and the voxel count of each label index. */
function labelValuesAndCounts(
  model: Model,
  labels: Int32Array,
): { labelValues: Int16Array; counts: Float64Array } {
  const values = model.labels.values;
  const ex = typedArrayKernelsActive() ? wasmKernels() : null;
  if (ex) return labelValuesWasm(ex, labels, values);
  const labelValues = new Int16Array(labels.length);
  const counts = new Float64Array(model.labels.infos.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    labelValues[i] = values[l];
    counts[l]++;
  }
  return { labelValues, counts };
}

function volumeOf(
  model: Model,
  c: Conditions,
  seed: number,
  sampler: SamplerName,
  t0: number,
  v: {
    image: Float32Array;
    labelValues: Int16Array;
    counts: Float64Array;
    pathology: SampledVolume['metadata']['pathology'];
  },
): SampledVolume {
  const g = model.grid;
  return {
    image: v.image,
    labels: v.labelValues,
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
      regionalVolumesMl: regionalVolumesFromCounts(model, v.counts),
      pathology: v.pathology,
    },
  };
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
  moduleFor(model, c);
  if (tf.getBackend() === 'cpu') installFastCpuGather();

  const latents =
    options.latents ??
    drawLatents(seed, model.manifest.shapeModel.components, sizeLatentCount(model.manifest));
  const gains = gainsFor(model.manifest, c);
  const scale = icvScale(model.manifest, c, latents.zIcv);
  const { module, plan } = planFor(model, c, seed, options.pathologyPlan);
  const mass = module.deform?.(model, plan);
  const { sampler, displacement } = chooseSampler(model, c, latents, gains, options.sampler);
  // The seed-only work (fields, folding table) starts in the seed helper worker, if there is
  // one, while this worker runs the anatomy; awaited just before use (render/seedHelper.ts).
  const kernels = typedArrayKernelsActive();
  const seedWork = kernels ? requestSeedWork(model, seed, { share: true }) : null;
  // this thread's share of the seed work (part of the Rician noise) while the helper draws the
  // rest; the helper's folding table is ready by the time folding needs it
  seedWork?.own();
  // a change of contrast alone for the last sample: its labels, fraction and pathology
  const key =
    kernels && !options.latents
      ? JSON.stringify([tf.getBackend(), seed, sampler, { ...c, contrast: null }, plan])
      : null;
  const cached = key === null ? undefined : labelCaches.get(model);
  if (cached && cached.key === key) {
    labelCacheHitCount++;
    if (seedWork) await seedWork.fields;
    await checkpoint();
    const image = renderContrastArray(
      model,
      cached.labels,
      c.contrast,
      c.age,
      seed,
      cached.csfFraction,
    );
    return volumeOf(model, c, seed, sampler, t0, {
      image,
      labelValues: cached.labelValues.slice(),
      counts: cached.counts,
      pathology: structuredClone(cached.pathology) as SampledVolume['metadata']['pathology'],
    });
  }
  const owned: tf.Tensor[] = [];
  const releases: (() => void)[] = [];
  let labelMap: LabelMap | undefined;
  try {
    // (the warp is split with the seed helper worker when that is idle: a kept subject)
    const anatomy = await sampleAnatomyTensorsAsync(
      model,
      velocityCoefficients(model.manifest, latents, gains),
      scale,
      mass,
      {
        displacement,
        keepDisplacement: module.needsDisplacement === true,
        localField: localFieldFor(model, seed, options),
      },
    );
    if (anatomy.release) releases.push(anatomy.release);
    else owned.push(anatomy.labelIndex, anatomy.templateIndex);
    if (anatomy.displacement) owned.push(anatomy.displacement);
    await checkpoint();

    labelMap = new LabelMap(model, c, seed, anatomy, scale);
    // Step 7b: the individual's own sulci (labels edited in place, sulcal partial volume).
    if (seedWork) await seedWork.table;
    const csfFraction = hasFolding(model)
      ? applyFolding(model, await labelMap.labels(), await labelMap.templateIndex(), seed)
      : undefined;
    // Step 7c: the small structures (hippocampus, amygdala, 3rd/4th ventricles, temporal
    // horns) sized for age, sex and Alzheimer's disease (in place).
    if (hasSizing(model))
      applySizing(model, await labelMap.labels(), c, latents.sizeLatents ?? latents.zSize ?? 0);

    // MODEL_FORMAT.md §4: the pathology's module draws its plan into the label map.
    const pathology = await module.draw(labelMap, plan);
    let labels: Int32Array;
    let imageData: Float32Array;
    if (kernels) {
      // CPU-side fast path: arrays all the way (no label upload, no image download)
      labels = await labelMap.finalLabels();
    } else {
      labels = (await labelMap.result()).labels;
    }
    if (csfFraction) {
      clearNonCortex(model, labels, csfFraction);
      module.adjustSulcalPartialVolume?.(model, plan, csfFraction);
    }
    await checkpoint();
    if (kernels) {
      if (seedWork) await seedWork.fields;
      imageData = renderContrastArray(model, labels, c.contrast, c.age, seed, csfFraction);
    } else {
      const image = renderContrast(
        model,
        labelMap.labelTensor(),
        c.contrast,
        c.age,
        seed,
        csfFraction,
      );
      owned.push(image);
      imageData = new Float32Array(await image.data());
    }

    // label values and the counts of the regional volumes in one pass
    const { labelValues, counts } = labelValuesAndCounts(model, labels);
    if (key !== null) {
      labelCaches.set(model, {
        key,
        labels,
        csfFraction,
        pathology: structuredClone(pathology),
        labelValues: labelValues.slice(),
        counts,
      });
    }
    return volumeOf(model, c, seed, sampler, t0, {
      image: imageData,
      labelValues,
      counts,
      pathology,
    });
  } finally {
    labelMap?.dispose();
    tf.dispose(owned);
    for (const release of releases) release();
  }
}

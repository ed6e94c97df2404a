/**
 * Public face of the engine (pure TS + tfjs; no DOM, no React). Runs in the browser — usually
 * inside the worker behind EngineClient — and in Node (tests, bench).
 */
export type * from './types';
export {
  loadModel,
  modelFromFiles,
  validateManifest,
  ManifestError,
  PATHOLOGY_LABELS,
} from './model';
export type { Model, ModelManifest, LabelTable, FetchFn, JsonSchema } from './model';
export { sample, sampleAnatomy } from './sample';
export type { SampleOptions, AnatomyResult } from './sample';
export { disposeModelTensors } from './sampler/modelTensors';
export { toNifti, parseNifti, encodeNifti } from './nifti';
export type { NiftiKind, ParsedNifti } from './nifti';
export { sidecar } from './sidecar';
export type { Sidecar } from './sidecar';
export {
  validateConditions,
  defaultsFromSchema,
  conditionsFromSearchParams,
  conditionsToSearchParams,
  isRelevant,
} from './conditions';
export type { ValidationResult } from './conditions';
export { initBackend, benchmarkCurrentBackend } from './backends';
export type { BackendChoice, BackendPreference } from './backends';
export { EngineClient } from './engineClient';
export type { EngineClientOptions, WorkerLike } from './engineClient';
export { DEFAULT_LANE } from './protocol';
export { SupersededError, ConditionsError } from './errors';
export { normals, mulberry32 } from './rng';
export { SOFTWARE_VERSION } from './version';

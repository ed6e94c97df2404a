/**
 * Public face of the engine (pure TS + tfjs; no DOM, no React). Runs in the browser — usually
 * inside the worker behind EngineClient — and in Node (tests, bench).
 */
export type * from './types';
export {
  contrastValues,
  pathologyValues,
  sexValues,
  strokeSideValues,
  strokeTerritoryValues,
} from './generated/conditions';
export {
  loadModel,
  modelFromFiles,
  validateManifest,
  ManifestError,
  PATHOLOGY_LABELS,
  isPathologyValue,
  isIntracranialValue,
  isIcvValue,
} from './model';
export type { Model, ModelManifest, LabelTable, FetchFn, JsonSchema } from './model';
export { sample, sampleAnatomy, planPathology } from './sample';
export {
  registerPathology,
  unregisterPathology,
  pathologyModule,
  pathologyModules,
} from './pathologies/registry';
export type {
  PathologyModule,
  PathologyPlan,
  PathologyInfo,
  DrawContext,
  ConditionValues,
} from './pathologies/types';
export type { MsPlan, MsSite } from './pathologies/ms';
export type { GliomaPlan } from './pathologies/glioma';
export type { StrokePlan } from './pathologies/stroke';
export type { AlzheimersPlan } from './pathologies/alzheimers';
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

/** EngineApi backed by the real engine (src/engine: tfjs sampler in a Web Worker). */
import {
  EngineClient,
  SupersededError,
  conditionsFromSearchParams,
  defaultsFromSchema,
  parseNifti,
  sidecar,
  toNifti,
  validateConditions,
} from '../engine';
import type { EngineApi } from './engineApi';

export const realEngine: EngineApi = {
  createClient: (opts) => EngineClient.create(opts),
  isSuperseded: (err) => err instanceof SupersededError,
  toNifti: (vol, kind) => toNifti(vol, kind),
  sidecar: (vol) => sidecar(vol),
  parseNifti: (bytes) => parseNifti(bytes),
  validateConditions: (schema, input) => validateConditions(schema, input),
  defaultsFromSchema: (schema) => defaultsFromSchema(schema),
  conditionsFromSearchParams: (schema, params) => conditionsFromSearchParams(schema, params),
};

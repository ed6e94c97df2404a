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
import type { EngineApi, EngineClientLike, ParsedNifti } from './engineApi';

export const realEngine: EngineApi = {
  createClient: async (opts) => (await EngineClient.create(opts)) as unknown as EngineClientLike,
  isSuperseded: (err) => err instanceof SupersededError,
  toNifti: (vol, kind) => toNifti(vol, kind),
  sidecar: (vol) => sidecar(vol) as object,
  parseNifti: (bytes) => parseNifti(bytes) as unknown as ParsedNifti,
  validateConditions: (schema, input) => validateConditions(schema, input),
  defaultsFromSchema: (schema) => defaultsFromSchema(schema),
  conditionsFromSearchParams: (schema, params) => conditionsFromSearchParams(schema, params),
};

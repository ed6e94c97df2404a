/**
 * The slice of the engine's public API that the UI uses, as an interface. The app receives an
 * implementation (realEngine.ts wraps `src/engine`; unit tests pass fakes), so UI code and
 * tests never depend on tfjs or Web Workers directly. Every type here is the engine's own
 * (type-only imports, narrowed with Pick), never a copy.
 */
import type { BackendPreference } from '../engine/backends';
import type { ValidationResult } from '../engine/conditions';
import type { EngineClient } from '../engine/engineClient';
import type { ModelManifest as EngineManifest } from '../engine/model/manifest';
import type { ParsedNifti as EngineParsedNifti } from '../engine/nifti';
import type { Sidecar } from '../engine/sidecar';
import type { Conditions, SampledVolume, SamplerName } from '../engine/types';
import type { ConditionsSchema } from './schema';

export type { ValidationResult } from '../engine/conditions';

export type BackendChoice = BackendPreference;
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'];
/** Anatomy samplers: the distilled student (one pass) or scaling and squaring (exact). */
export const SAMPLER_CHOICES: readonly SamplerName[] = ['student', 'exact'];

/** The part of the engine's manifest the UI reads. */
export type ModelManifest = Pick<
  EngineManifest,
  'id' | 'version' | 'conditionsSchema' | 'labels' | 'labelRanges'
>;

/** The part of a parsed NIfTI the viewer shows (a user's own file, the 1 mm result). */
export type ParsedNifti = Pick<EngineParsedNifti, 'dims' | 'affine' | 'data'>;

/** What the UI uses of `EngineClient` (the worker's main-thread handle). */
export type EngineClientLike = Pick<EngineClient, 'backend' | 'backendReason' | 'sample'> & {
  readonly manifest: ModelManifest;
  dispose?(): void;
  /** Hint the seed asked for next (the worker prepares it in idle time); optional. */
  prefetch?(seed: number): void;
};

export interface EngineApi {
  createClient(opts: { modelUrl: string; backend: BackendChoice }): Promise<EngineClientLike>;
  /** True when a sample promise was rejected because a newer request replaced it. */
  isSuperseded(err: unknown): boolean;
  toNifti(vol: SampledVolume, kind: 'image' | 'labels'): Uint8Array;
  sidecar(vol: SampledVolume): Sidecar | Record<string, unknown>;
  /** Throws an Error with a readable message for anything that is not a usable NIfTI. */
  parseNifti(bytes: Uint8Array): ParsedNifti;
  validateConditions(schema: ConditionsSchema, input: unknown): ValidationResult<Conditions>;
  defaultsFromSchema(schema: ConditionsSchema): Conditions;
  conditionsFromSearchParams(
    schema: ConditionsSchema,
    params: URLSearchParams,
  ): ValidationResult<Conditions>;
}

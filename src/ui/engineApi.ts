/**
 * The slice of the engine's public API that the UI uses, as an interface. The app receives an
 * implementation (realEngine.ts wraps `src/engine`; unit tests pass fakes), so UI code and
 * tests never depend on tfjs or Web Workers directly.
 */
import type {
  BackendName,
  Conditions,
  LabelInfo,
  SampledVolume,
  SamplerName,
} from '../engine/types';
import type { ConditionsSchema } from './schema';

export type BackendChoice = 'auto' | BackendName;
export const BACKEND_CHOICES: BackendChoice[] = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'];
/** Anatomy samplers: the distilled student (one pass) or scaling and squaring (exact). */
export const SAMPLER_CHOICES: SamplerName[] = ['student', 'exact'];

export interface ModelManifest {
  id: string;
  version: string;
  conditionsSchema: ConditionsSchema;
  labels: LabelInfo[];
  grid?: { shape: number[]; spacing: number[]; origin?: number[]; affine?: number[][] };
  metrics?: unknown;
  [key: string]: unknown;
}

export interface EngineClientLike {
  readonly manifest: ModelManifest;
  readonly backend: BackendName;
  readonly backendReason: string;
  /** `sampler` omitted: the model's default (its distilled student when it ships one). */
  sample(conditions: Conditions, seed: number, sampler?: SamplerName): Promise<SampledVolume>;
  dispose?(): void;
}

export interface ParsedNifti {
  dims: number[];
  affine: number[][];
  data: ArrayLike<number>;
  [key: string]: unknown;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

export interface EngineApi {
  createClient(opts: { modelUrl: string; backend: BackendChoice }): Promise<EngineClientLike>;
  /** True when a sample promise was rejected because a newer request replaced it. */
  isSuperseded(err: unknown): boolean;
  toNifti(vol: SampledVolume, kind: 'image' | 'labels'): Uint8Array;
  sidecar(vol: SampledVolume): object;
  /** Throws an Error with a readable message for anything that is not a usable NIfTI. */
  parseNifti(bytes: Uint8Array): ParsedNifti;
  validateConditions(schema: ConditionsSchema, input: unknown): ValidationResult<Conditions>;
  defaultsFromSchema(schema: ConditionsSchema): Conditions;
  conditionsFromSearchParams(
    schema: ConditionsSchema,
    params: URLSearchParams,
  ): ValidationResult<Conditions>;
}

/** Messages between EngineClient (main thread) and the engine worker. Structured-clone safe. */
import type { BackendPreference } from './backends';
import type { ModelManifest } from './model/manifest';
import type { BackendName, SampledVolume, SamplerName } from './types';

export type WorkerRequest =
  | { type: 'init'; modelUrl: string; backend: BackendPreference }
  /** `conditions` is unvalidated user input; the worker validates it against the schema. */
  /** `sampler`: omitted = the model's default (the student when it ships one). */
  | { type: 'sample'; id: number; conditions: unknown; seed: number; sampler?: SamplerName };

export type WorkerResponse =
  | { type: 'ready'; manifest: ModelManifest; backend: BackendName; backendReason: string }
  | { type: 'initError'; message: string }
  | { type: 'result'; id: number; volume: SampledVolume }
  /** The request was dropped (a newer one arrived before or while it ran). */
  | { type: 'superseded'; id: number }
  | { type: 'error'; id: number; message: string };

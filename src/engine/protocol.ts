/** Messages between EngineClient (main thread) and the engine worker. Structured-clone safe. */
import type { BackendPreference } from './backends';
import type { ModelManifest } from './model/manifest';
import type { BackendName, SampledVolume } from './types';

export type WorkerRequest =
  | { type: 'init'; modelUrl: string; backend: BackendPreference }
  /** `conditions` is unvalidated user input; the worker validates it against the schema. */
  | { type: 'sample'; id: number; conditions: unknown; seed: number };

export type WorkerResponse =
  | { type: 'ready'; manifest: ModelManifest; backend: BackendName; backendReason: string }
  | { type: 'initError'; message: string }
  | { type: 'result'; id: number; volume: SampledVolume }
  /** The request was dropped (a newer one arrived before or while it ran). */
  | { type: 'superseded'; id: number }
  | { type: 'error'; id: number; message: string };

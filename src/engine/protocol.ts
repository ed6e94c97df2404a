/** Messages between EngineClient (main thread) and the engine worker. Structured-clone safe. */
import type { BackendPreference } from './backends';
import type { ModelManifest } from './model/manifest';
import type { BackendName, SampledVolume, SamplerName } from './types';

/**
 * Sampling requests travel in keyed lanes (one per view): a newer request supersedes only the
 * older ones of its own lane. The default lane is what a single-view app uses.
 */
export const DEFAULT_LANE = 'default';

export type WorkerRequest =
  | { type: 'init'; modelUrl: string; backend: BackendPreference }
  /** `conditions` is unvalidated user input; the worker validates it against the schema. */
  /** `sampler`: omitted = the model's default (the student when it ships one). */
  | {
      type: 'sample';
      id: number;
      lane: string;
      conditions: unknown;
      seed: number;
      sampler?: SamplerName;
    }
  /**
   * A hint: the seed the UI will most likely ask for next ("New subject" pre-picks it). When the
   * worker is idle it computes that seed's seed-only fields ahead of time; a sample request
   * always goes first (the prefetch stops between slices and resumes from where it stopped).
   */
  | { type: 'prefetch'; seed: number };

export type WorkerResponse =
  | { type: 'ready'; manifest: ModelManifest; backend: BackendName; backendReason: string }
  | { type: 'initError'; message: string }
  | { type: 'result'; id: number; volume: SampledVolume }
  /** The request was dropped (a newer one of its lane arrived before or while it ran). */
  | { type: 'superseded'; id: number }
  | { type: 'error'; id: number; message: string };

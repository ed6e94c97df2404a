/**
 * Engine store (one per view): the sampler's life cycle as this view sees it and its latest
 * result. The engine itself is shared by the views; `manifest`, `schema` and `backend` are the
 * same in each.
 * status: loading (model + backend starting) → ready ⇄ sampling; error when something failed
 * (the message says what; a later successful sample returns to ready).
 */
import { createStore } from 'zustand/vanilla';
import type { BackendName, SampledVolume } from '../../engine/types';
import type { ModelManifest } from '../engineApi';
import type { ConditionsSchema } from '../schema';

export type EngineStatus = 'loading' | 'ready' | 'sampling' | 'error';

export interface EngineState {
  status: EngineStatus;
  backend: BackendName | null;
  backendReason: string;
  manifest: ModelManifest | null;
  /** The manifest's conditions schema, read for building controls (null until loaded). */
  schema: ConditionsSchema | null;
  /** Wall time of the last completed sample, ms (engine's own measure when it reports one). */
  lastSampleMs: number | null;
  volume: SampledVolume | null;
  error: string | null;
  /** Number of samples completed since start (handy for tests and for the status line). */
  samples: number;
}

export type EngineStore = ReturnType<typeof createEngineStore>;

export function createEngineStore() {
  return createStore<EngineState>()(() => ({
    status: 'loading',
    backend: null,
    backendReason: '',
    manifest: null,
    schema: null,
    lastSampleMs: null,
    volume: null,
    error: null,
    samples: 0,
  }));
}

/**
 * Dataset store: the one dataset this page has ordered from the backend (docs/DATASETS.md) —
 * the spec being edited, where the order stands, and the server's last status.
 *
 * phase: idle → submitting → following (queued/running on the server) → done
 *        ↘ failed (error says why; the spec stays as typed) · cancelled
 */
import { createStore } from 'zustand/vanilla';
import type { DatasetStatus } from '../../backend';

export type DatasetPhase = 'idle' | 'submitting' | 'following' | 'done' | 'failed' | 'cancelled';

export interface DatasetState {
  specText: string;
  phase: DatasetPhase;
  status: DatasetStatus | null;
  /** Why the order failed or was refused (a 422 lists every reason). */
  error: string | null;
}

/** A small spec to start from: 4 subjects at 2 mm, ages 40–80, 10 % MS. */
export const EXAMPLE_SPEC = {
  name: 'my-dataset',
  count: 4,
  seed: 2026,
  resolutionMm: 2,
  contrasts: ['T1w'],
  age: { min: 40, max: 80, distribution: 'uniform' },
  femaleFraction: 0.5,
  pathology: [
    { type: 'none', fraction: 0.9 },
    { type: 'ms', fraction: 0.1, parameters: { msLesionLoadMl: { min: 5, max: 30 } } },
  ],
};

export function createDatasetStore() {
  return createStore<DatasetState>()(() => ({
    specText: JSON.stringify(EXAMPLE_SPEC, null, 2),
    phase: 'idle',
    status: null,
    error: null,
  }));
}

export type DatasetStore = ReturnType<typeof createDatasetStore>;

export function isFollowing(phase: DatasetPhase): boolean {
  return phase === 'submitting' || phase === 'following';
}

/**
 * Explain store: the normative model (loaded once from the model's folder), the region the
 * chart shows and what the pointer is over (a sentence naming the structure).
 */
import { createStore } from 'zustand/vanilla';
import type { NormativeModel } from '../teach/normative';

export interface ExplainState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: string | null;
  model: NormativeModel | null;
  /** Region the chart shows. */
  region: string;
  /** What the pointer is over in the chart (names the structure), '' when nothing. */
  hover: string;
}

export type ExplainStore = ReturnType<typeof createExplainStore>;

export function createExplainStore() {
  return createStore<ExplainState>()(() => ({
    status: 'idle',
    error: null,
    model: null,
    region: 'hippocampus',
    hover: '',
  }));
}

/**
 * Batch export store (batchExport.ts): the running batch's progress, what it made, why a spec
 * was refused.
 */
import { createStore } from 'zustand/vanilla';

export type BatchPhase = 'idle' | 'running' | 'done' | 'cancelled' | 'failed';

export interface BatchSubjectRow {
  participantId: string;
  age: number;
  sex: string;
  pathology: string;
  seed: number;
}

export interface BatchState {
  phase: BatchPhase;
  /** Subjects ordered and sampled so far. */
  total: number;
  done: number;
  /** Why the spec was refused (nothing was started). */
  problems: string[];
  error: string | null;
  /** The zip's name once made, and its size in bytes. */
  fileName: string | null;
  bytes: number;
  subjects: BatchSubjectRow[];
}

export type BatchStore = ReturnType<typeof createBatchStore>;

export function createBatchStore() {
  return createStore<BatchState>()(() => ({
    phase: 'idle',
    total: 0,
    done: 0,
    problems: [],
    error: null,
    fileName: null,
    bytes: 0,
    subjects: [],
  }));
}

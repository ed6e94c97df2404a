/**
 * Blinded reading session store (review/reviewController.ts drives it): whether the session
 * screen is open, the real scans being described, the session itself and its progress.
 */
import { createStore } from 'zustand/vanilla';
import type { Sex, StoredSession } from '../review/session';

export interface PendingScan {
  /** Unique per added file (the list's React key; never shown to a reader). */
  key: string;
  name: string;
  file: File;
  age: number | null;
  sex: Sex | '';
  contrast: string;
}

export type ReviewPhase = 'setup' | 'preparing' | 'reading' | 'done';

export interface ReviewState {
  open: boolean;
  phase: ReviewPhase;
  pending: PendingScan[];
  /** How many synthetic brains per real scan. */
  perReal: number;
  session: StoredSession | null;
  /** Whether the current case is on screen (answers wait for it). */
  caseShown: boolean;
  /** What the app is doing (e.g. "Generating synthetic brain 2 of 3"), or null. */
  progress: string | null;
  error: string | null;
  /** A notice, e.g. "Session restored" or a model-version mismatch. */
  notice: string | null;
  setOpen(open: boolean): void;
  updatePending(key: string, patch: Partial<Pick<PendingScan, 'age' | 'sex' | 'contrast'>>): void;
  removePending(key: string): void;
  setPerReal(n: number): void;
}

export type ReviewStore = ReturnType<typeof createReviewStore>;

export function createReviewStore() {
  return createStore<ReviewState>()((set) => ({
    open: false,
    phase: 'setup',
    pending: [],
    perReal: 1,
    session: null,
    caseShown: false,
    progress: null,
    error: null,
    notice: null,
    setOpen: (open) => set({ open }),
    updatePending: (key, patch) =>
      set((s) => ({ pending: s.pending.map((p) => (p.key === key ? { ...p, ...patch } : p)) })),
    removePending: (key) => set((s) => ({ pending: s.pending.filter((p) => p.key !== key) })),
    setPerReal: (perReal) => set({ perReal: Math.max(1, Math.min(5, Math.round(perReal))) }),
  }));
}

/**
 * Conditions store: what the user asked for (conditions, seed, keep-subject) and why a request
 * was refused. Only COMMITTED values live here (a slider being dragged keeps its draft value
 * locally); every change of `conditions` or `seed` is a request for a new sample.
 *
 * Keep-subject semantics: with `keepSubject` on, changing conditions keeps the seed, so the same
 * individual is shown under new conditions (age 30 → 80: that person ageing). With it off, every
 * change of conditions draws a new seed (a new individual each time). "New subject" always draws
 * a new seed.
 */
import { createStore } from 'zustand/vanilla';
import type { ConditionValues } from '../schema';

export const MAX_SEED = 0xffffffff;

export function randomSeed(): number {
  const buf = new Uint32Array(1);
  globalThis.crypto.getRandomValues(buf);
  return buf[0];
}

export interface ConditionsState {
  conditions: ConditionValues;
  seed: number;
  keepSubject: boolean;
  /** Refusal messages (e.g. invalid URL parameters), shown to the user until dismissed. */
  errors: string[];
  init(conditions: ConditionValues, seed: number, errors?: string[]): void;
  /** Commit one condition (slider release, select change, debounced number input). */
  setCondition(name: string, value: number | string): void;
  /** Commit several conditions at once (one request: e.g. a lesion placed by a click). */
  setConditions(values: ConditionValues): void;
  setKeepSubject(keep: boolean): void;
  newSubject(): void;
  setSeed(seed: number): void;
  dismissErrors(): void;
}

export type ConditionsStore = ReturnType<typeof createConditionsStore>;

export function createConditionsStore(nextSeed: () => number = randomSeed) {
  return createStore<ConditionsState>()((set, get) => ({
    conditions: {},
    seed: 0,
    keepSubject: true,
    errors: [],
    init: (conditions, seed, errors = []) => set({ conditions: { ...conditions }, seed, errors }),
    setCondition: (name, value) => {
      const { conditions, keepSubject, seed } = get();
      if (conditions[name] === value) return;
      set({
        conditions: { ...conditions, [name]: value },
        seed: keepSubject ? seed : nextSeed(),
      });
    },
    setConditions: (values) => {
      const { conditions, keepSubject, seed } = get();
      if (Object.entries(values).every(([k, v]) => conditions[k] === v)) return;
      set({
        conditions: { ...conditions, ...values },
        seed: keepSubject ? seed : nextSeed(),
      });
    },
    setKeepSubject: (keepSubject) => set({ keepSubject }),
    newSubject: () => {
      const old = get().seed;
      let seed = nextSeed();
      if (seed === old) seed = (seed + 1) >>> 0;
      set({ seed });
    },
    setSeed: (seed) => {
      if (Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED && seed !== get().seed)
        set({ seed });
    },
    dismissErrors: () => set({ errors: [] }),
  }));
}

/**
 * The blinded reading session as plain data (persisted in IndexedDB by storage.ts): the
 * shuffled cases, the reviewer's answers, and the results table. No DOM.
 */
import type { Grid } from './conform';
import { wilson, type Proportion } from './stats';

export type Truth = 'real' | 'synthetic';
export type Sex = 'female' | 'male';

/** The conditions a synthetic case is matched on (and a real scan is described by). */
export interface Match {
  age: number;
  sex: Sex;
  contrast: string;
}

export interface ReviewCase extends Match {
  /** Opaque id ("case-<n>"), also the IndexedDB key of a real case's conformed volume. */
  id: string;
  truth: Truth;
  /** Synthetic: the seed of its recipe (it is regenerated from conditions + seed). */
  seed: number | null;
  /** Real: the reviewer's file name (revealed only in the results). */
  source: string | null;
}

export interface ReviewAnswer {
  caseId: string;
  answer: Truth;
  /** How sure the reviewer is of the answer, 50 (a guess) … 100 (certain), in %. */
  confidence: number;
  /** How realistic the image looks, 1 (clearly artificial) … 5 (indistinguishable). */
  realism: number;
  comment: string;
  /** Time from the case appearing to the answer, ms. */
  timeMs: number;
}

export interface StoredSession {
  version: 1;
  createdAt: string;
  model: { id: string; version: string };
  /** The common grid of every case (the model's grid) and the centroid real scans are moved to. */
  grid: Grid;
  centroidMm: [number, number, number];
  /** In reading order (shuffled). */
  cases: ReviewCase[];
  answers: ReviewAnswer[];
  /** When the current case (cases[answers.length]) appeared (epoch ms). */
  shownAt: number | null;
}

export const MIN_AGE = 20;
export const MAX_AGE = 90;

/** Fisher–Yates with the given uniform [0, 1) source; returns a new array. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** A problem with one real scan's description, or null when it can be matched. */
export function matchProblem(m: Partial<Match>): string | null {
  if (m.age === undefined || !Number.isFinite(m.age)) return 'enter the age';
  if (m.age < MIN_AGE || m.age > MAX_AGE)
    return `age ${m.age} is outside the model's range (${MIN_AGE}–${MAX_AGE}); no synthetic brain can be matched`;
  if (m.sex !== 'female' && m.sex !== 'male') return 'choose the sex';
  if (!m.contrast) return 'choose the contrast';
  return null;
}

/**
 * The cases of a session: each real scan and `perReal` synthetic brains matched on its age,
 * sex and contrast (random seeds), shuffled; ids are given after shuffling so they say nothing.
 */
export function buildCases(
  reals: (Match & { source: string })[],
  perReal: number,
  random: () => number,
): ReviewCase[] {
  const all: Omit<ReviewCase, 'id'>[] = [];
  for (const r of reals) {
    all.push({ ...r, truth: 'real', seed: null });
    for (let k = 0; k < perReal; k++)
      all.push({
        age: r.age,
        sex: r.sex,
        contrast: r.contrast,
        truth: 'synthetic',
        seed: Math.floor(random() * 2 ** 31),
        source: null,
      });
  }
  return shuffle(all, random).map((c, i) => ({ ...c, id: `case-${i + 1}` }));
}

export interface CaseResult extends ReviewCase {
  number: number;
  answer: ReviewAnswer;
  correct: boolean;
}

export interface SessionSummary {
  accuracy: Proportion;
  /** Real scans called real / synthetic brains called synthetic. */
  real: Proportion;
  synthetic: Proportion;
  meanRealism: { real: number; synthetic: number };
  results: CaseResult[];
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

export function summarize(s: StoredSession): SessionSummary {
  const byId = new Map(s.answers.map((a) => [a.caseId, a]));
  const results = s.cases.flatMap((c, i) => {
    const answer = byId.get(c.id);
    return answer ? [{ ...c, number: i + 1, answer, correct: answer.answer === c.truth }] : [];
  });
  const count = (t: Truth) => {
    const of = results.filter((r) => r.truth === t);
    return wilson(of.filter((r) => r.correct).length, of.length);
  };
  const realism = (t: Truth) =>
    mean(results.filter((r) => r.truth === t).map((r) => r.answer.realism));
  return {
    accuracy: wilson(results.filter((r) => r.correct).length, results.length),
    real: count('real'),
    synthetic: count('synthetic'),
    meanRealism: { real: realism('real'), synthetic: realism('synthetic') },
    results,
  };
}

export const CSV_COLUMNS = [
  'case',
  'truth',
  'answer',
  'correct',
  'confidence_pct',
  'realism_1to5',
  'time_s',
  'age',
  'sex',
  'contrast',
  'seed',
  'source',
  'comment',
] as const;

function csvField(v: string | number | boolean | null): string {
  const s = v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(summary: SessionSummary): string {
  const rows = summary.results.map((r) =>
    [
      r.number,
      r.truth,
      r.answer.answer,
      r.correct,
      r.answer.confidence,
      r.answer.realism,
      (r.answer.timeMs / 1000).toFixed(1),
      r.age,
      r.sex,
      r.contrast,
      r.seed,
      r.source,
      r.answer.comment,
    ]
      .map(csvField)
      .join(','),
  );
  return [CSV_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

export function toJson(s: StoredSession, summary: SessionSummary): string {
  const { accuracy, real, synthetic, meanRealism, results } = summary;
  return JSON.stringify(
    {
      createdAt: s.createdAt,
      model: s.model,
      grid: s.grid,
      accuracy,
      realCalledReal: real,
      syntheticCalledSynthetic: synthetic,
      meanRealism,
      cases: results,
    },
    null,
    2,
  );
}

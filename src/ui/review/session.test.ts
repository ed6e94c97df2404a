import { describe, expect, it } from 'vitest';
import {
  buildCases,
  CSV_COLUMNS,
  matchProblem,
  shuffle,
  summarize,
  toCsv,
  toJson,
  type StoredSession,
} from './session';

function lcg(seed = 1): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

const reals = [
  { age: 60, sex: 'female' as const, contrast: 'T1w', source: 'mine-1.nii.gz' },
  { age: 35, sex: 'male' as const, contrast: 'FLAIR', source: 'mine-2.nii' },
];

describe('session', () => {
  it('matches each real scan with synthetic brains of its age, sex and contrast', () => {
    const cases = buildCases(reals, 2, lcg());
    expect(cases).toHaveLength(6);
    expect(
      cases
        .filter((c) => c.truth === 'real')
        .map((c) => c.source)
        .sort(),
    ).toEqual(['mine-1.nii.gz', 'mine-2.nii']);
    const synth = cases.filter((c) => c.truth === 'synthetic');
    expect(
      synth.filter((c) => c.age === 60 && c.sex === 'female' && c.contrast === 'T1w'),
    ).toHaveLength(2);
    expect(
      synth.filter((c) => c.age === 35 && c.sex === 'male' && c.contrast === 'FLAIR'),
    ).toHaveLength(2);
    expect(synth.every((c) => Number.isInteger(c.seed) && c.source === null)).toBe(true);
    // ids follow the reading order, so they say nothing about the truth
    expect(cases.map((c) => c.id)).toEqual([
      'case-1',
      'case-2',
      'case-3',
      'case-4',
      'case-5',
      'case-6',
    ]);
  });

  it('shuffles without losing or duplicating', () => {
    const a = Array.from({ length: 50 }, (_, i) => i);
    const s = shuffle(a, lcg(7));
    expect(s).not.toEqual(a);
    expect([...s].sort((x, y) => x - y)).toEqual(a);
  });

  it('says what is missing for matching', () => {
    expect(matchProblem({ sex: 'female', contrast: 'T1w' })).toMatch(/age/);
    expect(matchProblem({ age: 10, sex: 'female', contrast: 'T1w' })).toMatch(
      /outside the model's range/,
    );
    expect(matchProblem({ age: 50, contrast: 'T1w' })).toMatch(/sex/);
    expect(matchProblem({ age: 50, sex: 'male', contrast: 'T1w' })).toBeNull();
  });

  it('summarises accuracy per kind and exports every case with its truth', () => {
    const cases = buildCases([reals[0]], 1, lcg(3));
    const s: StoredSession = {
      version: 1,
      createdAt: '2026-01-01T00:00:00.000Z',
      model: { id: 'm', version: '1' },
      grid: {
        dims: [1, 1, 1],
        affine: [
          [1, 0, 0, 0],
          [0, 1, 0, 0],
          [0, 0, 1, 0],
          [0, 0, 0, 1],
        ],
      },
      centroidMm: [0, 0, 0],
      cases,
      answers: cases.map((c) => ({
        caseId: c.id,
        answer: 'real' as const,
        confidence: 80,
        realism: c.truth === 'real' ? 5 : 4,
        comment: 'sharp, "nice", cortex',
        timeMs: 1500,
      })),
      shownAt: null,
    };
    const sum = summarize(s);
    expect(sum.accuracy.correct).toBe(1);
    expect(sum.accuracy.n).toBe(2);
    expect(sum.real.p).toBe(1);
    expect(sum.synthetic.p).toBe(0);
    expect(sum.meanRealism).toEqual({ real: 5, synthetic: 4 });
    const csv = toCsv(sum).trim().split('\n');
    expect(csv[0]).toBe(CSV_COLUMNS.join(','));
    expect(csv).toHaveLength(3);
    expect(csv.find((l) => l.includes(',real,real,true,'))).toContain('"sharp, ""nice"", cortex"');
    expect(csv.find((l) => l.includes(',synthetic,real,false,'))).toContain('1.5');
    const json = JSON.parse(toJson(s, sum));
    expect(json.accuracy.ci).toHaveLength(2);
    expect(json.cases).toHaveLength(2);
  });
});

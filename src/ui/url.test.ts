import { describe, expect, it } from 'vitest';
import { createFakeEngine, seedCounter, smallSchema } from './testing/fakes';
import { parseSeed, readUrl, writeUrl } from './url';

const engine = createFakeEngine();

describe('URL parameters', () => {
  it('initialises conditions, seed and backend', () => {
    const s = readUrl(
      '?age=72&sex=male&pathology=alzheimers&adSeverity=0.6&seed=123&backend=cpu',
      smallSchema,
      engine,
      seedCounter(),
    );
    expect(s.errors).toEqual([]);
    expect(s.conditions).toMatchObject({
      age: 72,
      sex: 'male',
      pathology: 'alzheimers',
      adSeverity: 0.6,
    });
    expect(s.seed).toBe(123);
    expect(s.backend).toBe('cpu');
    expect(s.backendExplicit).toBe(true);
  });

  it('refuses invalid values with reasons and uses the defaults (never clamps)', () => {
    const s = readUrl('?age=200&sex=robot', smallSchema, engine, seedCounter(5));
    expect(s.errors.join(' ')).toMatch(/age/);
    expect(s.errors.join(' ')).toMatch(/sex/);
    expect(s.conditions).toMatchObject({ age: 45, sex: 'female', pathology: 'none' });
    expect(s.seed).toBe(5);
  });

  it('keeps every valid value when one is refused, and says which and why', () => {
    const s = readUrl('?age=300&pathology=glioma&sex=male', smallSchema, engine, seedCounter());
    expect(s.conditions).toMatchObject({ age: 45, sex: 'male', pathology: 'glioma' });
    expect(s.refused).toEqual(['age']);
    expect(s.errors).toHaveLength(1);
    expect(s.errors[0]).toMatch(/^age=300 refused: age must be <= 90 \(the default 45 is used\)/);
  });

  it('names unknown and wrongly cased parameters', () => {
    const s = readUrl('?foo=1&Age=70&pathology=ms', smallSchema, engine, seedCounter());
    expect(s.conditions).toMatchObject({ age: 45, pathology: 'ms' });
    expect(s.refused).toEqual([]);
    expect(s.errors).toHaveLength(2);
    expect(s.errors[0]).toMatch(/"foo" ignored/);
    expect(s.errors[1]).toMatch(/"Age" ignored: did you mean "age"\?/);
  });

  it('refuses a bad seed and a bad backend', () => {
    const s = readUrl('?seed=-3&backend=quantum', smallSchema, engine, seedCounter(9));
    expect(s.errors).toHaveLength(2);
    expect(s.seed).toBe(9);
    expect(s.backend).toBe('auto');
    expect(parseSeed('4294967295')).toBe(4294967295);
    expect(parseSeed('4294967296')).toBeNull();
    expect(parseSeed('1e3')).toBeNull();
  });

  it('round-trips: state → URL → state', () => {
    const conditions = {
      age: 63,
      sex: 'male',
      pathology: 'ms',
      msLesionLoadMl: 12.5,
      adSeverity: 0.3,
      contrast: 'T2w',
    };
    const q = writeUrl(smallSchema, conditions, 777);
    expect(q).not.toContain('adSeverity'); // not relevant for MS
    expect(q).not.toContain('backend');
    const back = readUrl(q, smallSchema, engine, seedCounter());
    expect(back.errors).toEqual([]);
    expect(back.seed).toBe(777);
    expect(back.conditions).toMatchObject({
      age: 63,
      sex: 'male',
      pathology: 'ms',
      msLesionLoadMl: 12.5,
      contrast: 'T2w',
    });
    expect(writeUrl(smallSchema, conditions, 1, { backend: 'webgpu' })).toContain('backend=webgpu');
    expect(writeUrl(smallSchema, conditions, 1, { sampler: 'exact' })).toContain('sampler=exact');
    expect(readUrl('?sampler=exact', smallSchema, engine, seedCounter()).sampler).toBe('exact');
  });

  it('refuses an unknown sampler and keeps the default', () => {
    const s = readUrl('?sampler=magic', smallSchema, engine, seedCounter());
    expect(s.sampler).toBeNull();
    expect(s.errors).toEqual(['sampler: "magic" is not one of student, exact']);
  });
});

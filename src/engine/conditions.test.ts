import { describe, expect, it } from 'vitest';
import schemaJson from '../../brainsynth/schema/conditions.schema.json';
import {
  conditionsFromSearchParams,
  conditionsToSearchParams,
  defaultsFromSchema,
  validateConditions,
} from './conditions';

const schema = schemaJson as Record<string, unknown>;

describe('conditions', () => {
  it('schema defaults are valid conditions', () => {
    const d = defaultsFromSchema(schema);
    expect(d).toMatchObject({ age: 45, sex: 'female', pathology: 'none', contrast: 'T1w' });
    expect(validateConditions(schema, d).ok).toBe(true);
  });

  it('rejects out-of-range values with a readable message (never clamps)', () => {
    const r = validateConditions(schema, {
      age: 95,
      sex: 'female',
      pathology: 'none',
      contrast: 'T1w',
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toContain('age must be <= 90');
    const low = validateConditions(schema, {
      age: 30,
      sex: 'male',
      pathology: 'ms',
      msLesionLoadMl: 0.1,
      contrast: 'T1w',
    });
    expect(low.ok).toBe(false);
    if (!low.ok) expect(low.errors).toContain('msLesionLoadMl must be >= 0.5');
  });

  it('rejects a wrong enum value, unknown properties, missing required ones and wrong types', () => {
    const r = validateConditions(schema, {
      age: 50,
      sex: 'other',
      pathology: 'none',
      contrast: 'T1w',
      colour: 'red',
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors).toContain('sex must be one of: female, male');
      expect(r.errors).toContain("conditions has an unknown property 'colour'");
    }
    const missing = validateConditions(schema, { sex: 'male', pathology: 'none', contrast: 'T1w' });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.errors).toContain('age is required');
    const wrongType = validateConditions(schema, {
      age: '50',
      sex: 'male',
      pathology: 'none',
      contrast: 'T1w',
    });
    expect(wrongType.ok).toBe(false);
    if (!wrongType.ok) expect(wrongType.errors).toContain('age must be a number');
  });

  it('fills defaults of the parameters that apply to the chosen pathology only', () => {
    const r = validateConditions(schema, {
      age: 60,
      sex: 'male',
      pathology: 'ms',
      contrast: 'FLAIR',
    });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.msLesionLoadMl).toBe(8);
      expect(r.value.gliomaRadiusMm).toBeUndefined();
    }
  });

  it('parses URL parameters strictly', () => {
    const ok = conditionsFromSearchParams(
      schema,
      new URLSearchParams('age=70&sex=male&pathology=glioma&gliomaRadiusMm=20&seed=5&backend=cpu'),
    );
    expect(ok.ok).toBe(true);
    if (ok.ok)
      expect(ok.value).toMatchObject({
        age: 70,
        sex: 'male',
        pathology: 'glioma',
        gliomaRadiusMm: 20,
        gliomaCenterXMm: 30,
        contrast: 'T1w',
      });

    const bad = conditionsFromSearchParams(schema, new URLSearchParams('age=abc'));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors).toEqual(["age must be a number (got 'abc')"]);

    for (const junk of ['', '12abc', '0x10', 'Infinity', 'NaN', '1e']) {
      expect(conditionsFromSearchParams(schema, new URLSearchParams({ age: junk })).ok).toBe(false);
    }
    const range = conditionsFromSearchParams(schema, new URLSearchParams('age=120'));
    expect(range.ok).toBe(false);
    if (!range.ok) expect(range.errors).toEqual(['age must be <= 90']);

    const empty = conditionsFromSearchParams(schema, new URLSearchParams(''));
    expect(empty.ok && empty.value).toEqual({
      age: 45,
      sex: 'female',
      pathology: 'none',
      contrast: 'T1w',
    });
  });

  it('round-trips through search params', () => {
    const c = {
      age: 33,
      sex: 'male' as const,
      pathology: 'stroke' as const,
      strokeTerritory: 'PCA' as const,
      strokeSide: 'right' as const,
      strokeSize: 0.25,
      contrast: 'T2w' as const,
    };
    const back = conditionsFromSearchParams(schema, conditionsToSearchParams(schema, c));
    expect(back.ok && back.value).toEqual(c);
  });
});

describe('schema compilation', () => {
  it('accepts equal schemas arriving as different objects (e.g. two model loads)', () => {
    const copy = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
    expect(validateConditions(copy, defaultsFromSchema(copy)).ok).toBe(true);
    const changed = JSON.parse(JSON.stringify(schema)) as {
      properties: { age: { maximum: number } };
    };
    changed.properties.age.maximum = 100;
    expect(
      validateConditions(changed as unknown as Record<string, unknown>, {
        age: 95,
        sex: 'male',
        pathology: 'none',
        contrast: 'T1w',
      }).ok,
    ).toBe(true);
  });
});

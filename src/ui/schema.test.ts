import { describe, expect, it } from 'vitest';
import {
  effectiveValues,
  numberProblem,
  orderedNames,
  readConditionsSchema,
  stepDecimals,
  visibleControls,
  type NumberControlSpec,
} from './schema';
import { smallSchema } from './testing/fakes';

describe('schema → controls', () => {
  it('orders by x-order, then the remaining properties', () => {
    expect(orderedNames(smallSchema)).toEqual([
      'age',
      'sex',
      'pathology',
      'adSeverity',
      'msLesionLoadMl',
      'contrast',
    ]);
  });

  it('hides controls whose x-showWhen does not hold', () => {
    const healthy = visibleControls(smallSchema, { pathology: 'none' }).map((c) => c.name);
    expect(healthy).toEqual(['age', 'sex', 'pathology', 'contrast']);
    const ms = visibleControls(smallSchema, { pathology: 'ms' }).map((c) => c.name);
    expect(ms).toEqual(['age', 'sex', 'pathology', 'msLesionLoadMl', 'contrast']);
  });

  it('builds number specs with unit, range and x-step, and enum titles', () => {
    const [age, , pathology] = visibleControls(smallSchema, { pathology: 'none' });
    expect(age).toMatchObject({
      kind: 'number',
      title: 'Age',
      unit: 'years',
      min: 20,
      max: 90,
      step: 1,
    });
    expect(pathology.kind).toBe('enum');
    if (pathology.kind === 'enum')
      expect(pathology.options[1]).toEqual({ value: 'alzheimers', title: "Alzheimer's disease" });
  });

  it('drops irrelevant values from the effective conditions', () => {
    const v = { age: 50, sex: 'male', pathology: 'none', adSeverity: 0.7, contrast: 'T1w' };
    expect(effectiveValues(smallSchema, v)).toEqual({
      age: 50,
      sex: 'male',
      pathology: 'none',
      contrast: 'T1w',
    });
    expect(effectiveValues(smallSchema, { ...v, pathology: 'alzheimers' })).toHaveProperty(
      'adSeverity',
      0.7,
    );
  });

  it('refuses out-of-range numbers with a reason (no clamping)', () => {
    const spec: NumberControlSpec = {
      kind: 'number',
      name: 'age',
      title: 'Age',
      unit: 'years',
      min: 20,
      max: 90,
      step: 1,
      integer: false,
    };
    expect(numberProblem(spec, 45)).toBeNull();
    expect(numberProblem(spec, 200)).toMatch(/between 20 and 90/);
    expect(numberProblem(spec, Number.NaN)).toMatch(/not a number/);
    expect(stepDecimals(0.05)).toBe(2);
    expect(stepDecimals(1)).toBe(0);
  });

  it('reads the manifest schema, keeping every keyword; refuses what it cannot show', () => {
    const json = { ...smallSchema, $id: 'x', additionalProperties: false };
    const read = readConditionsSchema(json);
    expect(read).toEqual(json);
    expect(read.properties.age).toBe(smallSchema.properties.age);
    expect(() => readConditionsSchema({})).toThrow(/no "properties" object/);
    expect(() => readConditionsSchema({ properties: { age: { type: 'number' } } })).toThrow(
      /property "age" is neither a string enum nor a number with minimum and maximum/,
    );
    expect(() => readConditionsSchema({ properties: {}, 'x-order': [1] })).toThrow(
      /"x-order" is not a list of property names/,
    );
  });
});

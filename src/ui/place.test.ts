import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../engine/model';
import { placeValues } from './place';
import { readConditionsSchema } from './schema';

/** The real conditions schema (the one every control and validator reads). */
const schema = readConditionsSchema(
  JSON.parse(
    readFileSync(join(__dirname, '../../brainsynth/schema/conditions.schema.json'), 'utf8'),
  ) as JsonSchema,
);

describe('placeValues', () => {
  it('a click puts the glioma centre at the click, rounded to the schema step (2 mm)', () => {
    const r = placeValues(schema, { pathology: 'glioma' }, [-31.2, 10.9, 24.4]);
    expect(r).toEqual({
      ok: true,
      values: { gliomaCenterXMm: -32, gliomaCenterYMm: 10, gliomaCenterZMm: 24 },
      summary: 'Tumour centre -32, 10, 24 mm',
    });
  });

  it('a drag from the centre sets the radius (its length in mm, whole mm)', () => {
    const r = placeValues(schema, { pathology: 'glioma' }, [20, 0, 30], [20, 12.4, 35]);
    expect(r.ok && r.values).toEqual({
      gliomaCenterXMm: 20,
      gliomaCenterYMm: 0,
      gliomaCenterZMm: 30,
      gliomaRadiusMm: 13, // hypot(12.4, 5) = 13.37
    });
    // a short drag is a click: the radius is left as it is
    const click = placeValues(schema, { pathology: 'glioma' }, [20, 0, 30], [20, 1, 30]);
    expect(click.ok && 'gliomaRadiusMm' in click.values).toBe(false);
  });

  it('refuses a centre or a radius outside the schema range, saying which and why', () => {
    const far = placeValues(schema, { pathology: 'glioma' }, [70, 0, 20]);
    expect(far).toEqual({
      ok: false,
      error:
        'Tumour not placed: Tumour centre x (R+) must be between -60 and 60 (mm); the click gives 70.',
    });
    const big = placeValues(schema, { pathology: 'glioma' }, [0, 0, 20], [0, 40, 20]);
    expect(big.ok).toBe(false);
    expect(!big.ok && big.error).toMatch(
      /Tumour radius must be between 5 and 30 \(mm\); the click gives 40/,
    );
  });

  it('stroke: the side from x in RAS (x > 0 is the right); the midline is refused', () => {
    expect(placeValues(schema, { pathology: 'stroke' }, [35, -10, 20])).toMatchObject({
      ok: true,
      values: { strokeSide: 'right' },
    });
    expect(placeValues(schema, { pathology: 'stroke' }, [-8, 40, 0])).toMatchObject({
      ok: true,
      values: { strokeSide: 'left' },
    });
    const mid = placeValues(schema, { pathology: 'stroke' }, [0.4, 0, 0]);
    expect(mid.ok).toBe(false);
    expect(!mid.ok && mid.error).toMatch(/midline/);
  });

  it('other pathologies and clicks outside a slice are refused with a reason', () => {
    const ms = placeValues(schema, { pathology: 'ms' }, [0, 0, 0]);
    expect(!ms.ok && ms.error).toMatch(/Choose Glioma or Chronic stroke/);
    const nan = placeValues(schema, { pathology: 'glioma' }, [NaN, 0, 0]);
    expect(!nan.ok && nan.error).toMatch(/inside an image slice/);
  });
});

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conditionsTypesSource } from '../codegen/conditionsTypes';
import { pathologyValues } from './conditions';

const root = resolve(__dirname, '../../..');
const SCHEMA = 'brainsynth/schema/conditions.schema.json';
const schema = JSON.parse(readFileSync(join(root, SCHEMA), 'utf8')) as Record<string, unknown>;

describe('generated/conditions.ts (from the conditions schema)', () => {
  it('is up to date with the schema (else: npm run gen:conditions)', async () => {
    const committed = readFileSync(join(__dirname, 'conditions.ts'), 'utf8');
    expect(committed).toBe(await conditionsTypesSource(schema, SCHEMA));
  });

  it('carries the schema enums as values', () => {
    const props = schema.properties as Record<string, { enum?: string[] }>;
    expect([...pathologyValues]).toEqual(props.pathology.enum);
  });

  it('refuses a property type it cannot express', async () => {
    const bad = { type: 'object', properties: { x: { type: 'array' } } };
    await expect(conditionsTypesSource(bad, SCHEMA)).rejects.toThrow(/property x has a type/);
  });
});

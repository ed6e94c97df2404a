import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifestTypesSource } from '../codegen/manifestTypes';

const root = resolve(__dirname, '../../..');
const SCHEMA = 'brainsynth/schema/manifest.schema.json';

describe('generated/manifest.ts (from the manifest schema)', () => {
  it('is up to date with the schema (else: npm run gen:manifest)', async () => {
    const schema = JSON.parse(readFileSync(join(root, SCHEMA), 'utf8')) as Record<string, unknown>;
    const committed = readFileSync(join(__dirname, 'manifest.ts'), 'utf8');
    expect(committed).toBe(await manifestTypesSource(schema, SCHEMA));
  });

  it('maps the schema subset it knows and refuses the rest with the node path', async () => {
    const src = await manifestTypesSource(
      {
        type: 'object',
        required: ['v', 'm'],
        properties: {
          v: { type: 'array', items: { type: 'number' }, minItems: 3, maxItems: 3 },
          k: { enum: ['a', 'b'] },
          m: { type: 'object', required: ['x'], additionalProperties: { type: 'integer' } },
          s: { anyOf: [{ type: 'number' }, { type: 'array', items: { type: 'number' } }] },
        },
      },
      'test.json',
    );
    expect(src).toContain('v: [number, number, number];');
    expect(src).toContain("k?: 'a' | 'b';");
    expect(src).toMatch(/m: \{\s+x: number;\s+\[name: string\]: number \| undefined;\s+\};/);
    expect(src).toContain('s?: number | number[];');
    await expect(
      manifestTypesSource({ type: 'object', properties: { o: { oneOf: [] } } }, 't'),
    ).rejects.toThrow("'oneOf' at #.o is not supported");
  });
});

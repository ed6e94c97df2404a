/**
 * The generated API types are current: api.gen.ts is exactly what openapi-typescript makes of
 * the committed openapi.json (whose own freshness against the Python app is checked by
 * brainsynth/tests/test_openapi_current.py). Fix a failure with `npm run gen:api`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_TYPES, OPENAPI_JSON, generateTypes } from '../../scripts/gen-api';

describe('api.gen.ts', () => {
  it('matches a fresh generation from openapi.json (run `npm run gen:api` if not)', async () => {
    const fresh = await generateTypes(readFileSync(OPENAPI_JSON, 'utf8'));
    expect(readFileSync(API_TYPES, 'utf8') === fresh, 'src/backend/api.gen.ts is stale').toBe(true);
  });
});

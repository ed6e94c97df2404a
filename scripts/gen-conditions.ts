// Writes src/engine/generated/conditions.ts from the conditions schema (npm run gen:conditions).
import { readFileSync, writeFileSync } from 'node:fs';
import { conditionsTypesSource } from '../src/engine/codegen/conditionsTypes';

const SCHEMA = 'brainsynth/schema/conditions.schema.json';
const OUT = 'src/engine/generated/conditions.ts';

const schema = JSON.parse(readFileSync(SCHEMA, 'utf8')) as Record<string, unknown>;
writeFileSync(OUT, await conditionsTypesSource(schema, SCHEMA));
console.log(`wrote ${OUT}`);

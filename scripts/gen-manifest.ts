// Writes src/engine/generated/manifest.ts from the manifest schema (npm run gen:manifest).
import { readFileSync, writeFileSync } from 'node:fs';
import { manifestTypesSource } from '../src/engine/codegen/manifestTypes';

const SCHEMA = 'brainsynth/schema/manifest.schema.json';
const OUT = 'src/engine/generated/manifest.ts';

const schema = JSON.parse(readFileSync(SCHEMA, 'utf8')) as Record<string, unknown>;
writeFileSync(OUT, await manifestTypesSource(schema, SCHEMA));
console.log(`wrote ${OUT}`);

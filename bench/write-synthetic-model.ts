/**
 * Write the synthetic test model (src/engine/testing/syntheticModel.ts) as a model folder:
 *   node --import tsx bench/write-synthetic-model.ts <outDir> [nx ny nz]
 * Useful for e2e runs without the real model and for cross-checking the Python reader/sampler.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSyntheticModel } from '../src/engine/testing/syntheticModel';

const [outDir, nx, ny, nz] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: write-synthetic-model.ts <outDir> [nx ny nz]');
  process.exit(2);
}
const shape = nx ? ([Number(nx), Number(ny), Number(nz)] as [number, number, number]) : undefined;
const { manifest, files } = buildSyntheticModel({ shape, id: 'synthetic-dev' });
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 1));
for (const [name, bytes] of Object.entries(files)) writeFileSync(join(outDir, name), bytes);
console.log(`wrote ${outDir} (${manifest.grid.shape.join('×')})`);

// Writes src/engine/generated/kernels.wasm.ts from the kernels' WAT source (npm run gen:wasm).
import { readFileSync, writeFileSync } from 'node:fs';
import { WAT_PATH, kernelsWasmSource } from '../src/engine/codegen/wasmModule';

const OUT = 'src/engine/generated/kernels.wasm.ts';
writeFileSync(OUT, await kernelsWasmSource(readFileSync(WAT_PATH, 'utf8')));
console.log(`wrote ${OUT}`);

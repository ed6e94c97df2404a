import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WAT_PATH, assembleWat, kernelsWasmSource } from '../codegen/wasmModule';

const root = resolve(__dirname, '../../..');

describe('generated/kernels.wasm.ts (wabt, from kernels.wat)', () => {
  it('is up to date with the WAT source (else: npm run gen:wasm)', async () => {
    const wat = readFileSync(join(root, WAT_PATH), 'utf8');
    const committed = readFileSync(join(__dirname, 'kernels.wasm.ts'), 'utf8');
    expect(committed).toBe(await kernelsWasmSource(wat));
  });

  it('refuses a WAT text wabt cannot assemble, naming the error', async () => {
    await expect(assembleWat('bad.wat', '(module (func (i32.bogus)))')).rejects.toThrow(/bogus/);
    await expect(
      assembleWat('bad.wat', '(module (func (result i32) (f32.const 1)))'),
    ).rejects.toThrow(/type mismatch/i);
  });
});

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SOFTWARE_VERSION } from './version';

const root = resolve(__dirname, '../..');

describe('software version', () => {
  it('is the same in the engine, package.json and the Python package', () => {
    const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
      version: string;
    };
    const py = readFileSync(resolve(root, 'brainsynth/__init__.py'), 'utf8');
    const pyproject = readFileSync(resolve(root, 'pyproject.toml'), 'utf8');
    expect(pkg.version).toBe(SOFTWARE_VERSION);
    expect(py).toContain(`__version__ = "${SOFTWARE_VERSION}"`);
    expect(pyproject).toMatch(new RegExp(`^version = "${SOFTWARE_VERSION}"$`, 'm'));
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultModelUrl, modelUrlFrom, parseCatalogue } from './catalogue';
import { SHIPPED_MODEL_ID } from './testing/shippedModel';

const BASE = 'http://127.0.0.1:4173/app/models/index.json';

describe('model catalogue', () => {
  it('the shipped catalogue names its default model, whose folder holds the manifest', () => {
    const cat = parseCatalogue(JSON.parse(readFileSync('public/models/index.json', 'utf8')));
    expect(cat.default).toBe(SHIPPED_MODEL_ID);
    const manifest = JSON.parse(
      readFileSync(`public/models/${cat.models[0].path}manifest.json`, 'utf8'),
    ) as { id: string };
    expect(manifest.id).toBe(cat.default);
  });

  it('resolves model folders relative to the catalogue, default first', () => {
    const cat = parseCatalogue({
      default: 'b',
      models: [{ id: 'a' }, { id: 'b', path: 'nested/b' }],
    });
    expect(modelUrlFrom(BASE, cat)).toBe('http://127.0.0.1:4173/app/models/nested/b/');
    expect(modelUrlFrom(BASE, cat, 'a')).toBe('http://127.0.0.1:4173/app/models/a/');
    expect(() => modelUrlFrom(BASE, cat, 'c')).toThrow('the model catalogue has no model "c"');
  });

  it('refuses unusable catalogues with a reason', () => {
    expect(() => parseCatalogue([])).toThrow(/no "models" list/);
    expect(() => parseCatalogue({ models: [] })).toThrow(/lists no model/);
    expect(() => parseCatalogue({ models: [{ path: 'x/' }] })).toThrow(/entry 0 has no "id"/);
    expect(() => parseCatalogue({ default: 'z', models: [{ id: 'a' }] })).toThrow(
      /default "z" is not one of its models/,
    );
    expect(parseCatalogue({ models: [{ id: 'a' }] }).default).toBe('a');
  });

  it('fetches the catalogue; HTTP and JSON failures are clear errors', async () => {
    const ok = async () => new Response(JSON.stringify({ models: [{ id: 'm1' }] }));
    await expect(defaultModelUrl(BASE, ok)).resolves.toBe('http://127.0.0.1:4173/app/models/m1/');
    const missing = async () => new Response('nope', { status: 404 });
    await expect(defaultModelUrl(BASE, missing)).rejects.toThrow(/HTTP 404/);
    const junk = async () => new Response('{not json');
    await expect(defaultModelUrl(BASE, junk)).rejects.toThrow(/is not JSON/);
    const down = async () => Promise.reject(new TypeError('fetch failed'));
    await expect(defaultModelUrl(BASE, down)).rejects.toThrow(/could not fetch .*fetch failed/);
  });
});

import { describe, expect, it } from 'vitest';
import { checkBackendUrl, DEFAULT_BACKEND_URL, resolveBackendUrl } from './backendUrl';

describe('backend URL', () => {
  it('accepts http(s) base URLs and normalises them', () => {
    expect(checkBackendUrl('http://127.0.0.1:8765')).toEqual({
      ok: true,
      url: 'http://127.0.0.1:8765',
    });
    expect(checkBackendUrl(' https://Gpu.Example.org/brainsynth/ ')).toEqual({
      ok: true,
      url: 'https://gpu.example.org/brainsynth',
    });
  });

  it('refuses other schemes, credentials, queries and non-URLs', () => {
    for (const bad of [
      'javascript:alert(1)',
      'file:///etc/passwd',
      'ftp://host/',
      'data:text/html,x',
      'http://user:pw@host/',
      'http://host/?x=1',
      'http://host/#frag',
      '127.0.0.1:8000',
      'not a url',
    ])
      expect(checkBackendUrl(bad).ok, bad).toBe(false);
  });

  it('?backend_url= beats VITE_BACKEND_URL beats the default', () => {
    expect(resolveBackendUrl('', undefined)).toEqual({
      url: DEFAULT_BACKEND_URL,
      source: 'default',
      errors: [],
    });
    expect(resolveBackendUrl('?age=3', 'http://env:1')).toMatchObject({
      url: 'http://env:1',
      source: 'env',
    });
    expect(resolveBackendUrl('?backend_url=https%3A%2F%2Fp%3A2', 'http://env:1')).toMatchObject({
      url: 'https://p:2',
      source: 'param',
      errors: [],
    });
  });

  it('a refused value says why and falls back', () => {
    const r = resolveBackendUrl('?backend_url=ftp://x', 'http://env:1');
    expect(r).toMatchObject({ url: 'http://env:1', source: 'env' });
    expect(r.errors).toEqual([
      'backend_url: "ftp://x" must be an http or https URL (got ftp:); using http://env:1',
    ]);
    expect(resolveBackendUrl('', 'file:///x').errors[0]).toMatch(/^VITE_BACKEND_URL/);
  });
});

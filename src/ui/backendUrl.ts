/**
 * Where the optional full-size backend lives: `?backend_url=` (a shared link or a test) beats
 * the build's `VITE_BACKEND_URL`, which beats the default (the backend's own default address).
 * Only plain http(s) base URLs are accepted; anything else is refused with a message.
 */

export const DEFAULT_BACKEND_URL = 'http://127.0.0.1:8000';
export const BACKEND_URL_PARAM = 'backend_url';

export type CheckedUrl = { ok: true; url: string } | { ok: false; reason: string };

/** An http(s) base URL without credentials, query or fragment; trailing slashes dropped. */
export function checkBackendUrl(raw: string): CheckedUrl {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return { ok: false, reason: 'is not a URL' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return { ok: false, reason: `must be an http or https URL (got ${u.protocol})` };
  if (u.username || u.password) return { ok: false, reason: 'must not contain credentials' };
  if (u.search || u.hash) return { ok: false, reason: 'must not have a query or fragment' };
  return { ok: true, url: `${u.origin}${u.pathname}`.replace(/\/+$/, '') };
}

export interface BackendUrlChoice {
  url: string;
  /** 'param' when ?backend_url= chose it (then it stays in the address bar). */
  source: 'param' | 'env' | 'default';
  /** Refusal messages, shown with the other refused URL parameters. */
  errors: string[];
}

export function resolveBackendUrl(search: string, envUrl: string | undefined): BackendUrlChoice {
  const errors: string[] = [];
  let fallback: BackendUrlChoice = { url: DEFAULT_BACKEND_URL, source: 'default', errors };
  if (envUrl !== undefined && envUrl.trim() !== '') {
    const env = checkBackendUrl(envUrl);
    if (env.ok) fallback = { url: env.url, source: 'env', errors };
    else errors.push(`VITE_BACKEND_URL "${envUrl}" ${env.reason}`);
  }
  const raw = new URLSearchParams(search).get(BACKEND_URL_PARAM);
  if (raw === null) return fallback;
  const p = checkBackendUrl(raw);
  if (p.ok) return { url: p.url, source: 'param', errors };
  errors.push(`${BACKEND_URL_PARAM}: "${raw}" ${p.reason}; using ${fallback.url}`);
  return fallback;
}

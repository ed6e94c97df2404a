/**
 * HTTP transport to the backend's `/api/v1`: `fetch` with a bearer token and a timeout, and
 * every failure mapped to a `BackendError` whose `kind` the UI can act on:
 *   absent   no HTTP answer at all (nothing listening, DNS, CORS refusal, timeout)
 *   busy     429: the queue is full (retryAfterS from Retry-After)
 *   http     any other non-2xx answer; `status` and the server's `detail` are kept
 *   protocol a 2xx answer that is not what the API promises
 *   aborted  the caller's AbortSignal fired
 */

export type BackendErrorKind = 'absent' | 'busy' | 'http' | 'protocol' | 'aborted';

export class BackendError extends Error {
  override readonly name = 'BackendError';
  constructor(
    readonly kind: BackendErrorKind,
    message: string,
    /** HTTP status, or null when there was no HTTP answer. */
    readonly status: number | null = null,
    /** The server's `detail` (a sentence, or a list of {loc, msg, type} for 422). */
    readonly detail: unknown = null,
    /** Seconds, from Retry-After (429). */
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
  }
}

export function isBackendError(err: unknown, kind?: BackendErrorKind): err is BackendError {
  return err instanceof BackendError && (kind === undefined || err.kind === kind);
}

/** The server's `detail` as one readable line ("conditions.age: 150 is greater than …; …"). */
export function formatDetail(detail: unknown): string {
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item) => {
        if (!item || typeof item !== 'object') return String(item);
        const { loc, msg } = item as { loc?: unknown; msg?: unknown };
        const where = Array.isArray(loc) ? loc.filter((p) => p !== 'body').join('.') : '';
        return where ? `${where}: ${String(msg)}` : String(msg);
      })
      .join('; ');
  }
  if (detail === null || detail === undefined) return '';
  return JSON.stringify(detail);
}

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export interface TransportOptions {
  /** e.g. http://127.0.0.1:8000 (a path prefix is kept; a trailing slash is dropped). */
  baseUrl: string;
  /** Defaults to the global fetch. */
  fetch?: FetchFn;
  /** Sent as `Authorization: Bearer <token>` when the server requires one. */
  token?: string;
  /** Limit for plain requests (not the event stream or downloads), ms. Default 10 000. */
  requestTimeoutMs?: number;
}

/** `init.timeoutMs`: null = no limit (event streams, downloads); omitted = the default. */
export type RequestOptions = RequestInit & { timeoutMs?: number | null };

export function abortError(): BackendError {
  return new BackendError('aborted', 'cancelled');
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A signal that fires when `outer` does or after `ms` (AbortSignal.any is not everywhere). */
function withTimeout(
  outer: AbortSignal | undefined,
  ms: number,
): { signal: AbortSignal; timedOut: () => boolean; done: () => void } {
  const ctl = new AbortController();
  let timedOut = false;
  const onAbort = () => ctl.abort();
  if (outer?.aborted) ctl.abort();
  outer?.addEventListener('abort', onAbort, { once: true });
  const t = setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, ms);
  return {
    signal: ctl.signal,
    timedOut: () => timedOut,
    done: () => {
      clearTimeout(t);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

export class Transport {
  readonly baseUrl: string;
  private readonly fetchFn: FetchFn;
  private readonly token: string | undefined;
  private readonly requestTimeoutMs: number;

  constructor(opts: TransportOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    // never call a bare `window.fetch` as a method of another object ("Illegal invocation")
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.token = opts.token;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  }

  /** `path` below /api/v1 (e.g. "/health"). */
  url(path: string): string {
    return `${this.baseUrl}/api/v1${path}`;
  }

  /** fetch + error mapping; resolves only with a 2xx Response. */
  async request(path: string, init: RequestOptions = {}): Promise<Response> {
    const { timeoutMs = this.requestTimeoutMs, signal: outer, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (this.token) headers.set('Authorization', `Bearer ${this.token}`);
    const limit = timeoutMs === null ? null : withTimeout(outer ?? undefined, timeoutMs);
    let res: Response;
    try {
      res = await this.fetchFn(this.url(path), {
        ...rest,
        headers,
        signal: limit?.signal ?? outer,
      });
    } catch (err) {
      if (outer?.aborted) throw abortError();
      const why = limit?.timedOut()
        ? `no answer within ${timeoutMs} ms`
        : err instanceof Error
          ? err.message
          : String(err);
      throw new BackendError('absent', `backend absent: no answer from ${this.baseUrl} (${why})`);
    } finally {
      limit?.done();
    }
    if (res.ok) return res;
    let detail: unknown = null;
    try {
      const text = await res.text();
      try {
        detail = (JSON.parse(text) as { detail?: unknown }).detail ?? text;
      } catch {
        detail = text;
      }
    } catch {
      /* body unreadable: keep the status */
    }
    const said = formatDetail(detail) || res.statusText || 'no detail';
    if (res.status === 429) {
      const ra = Number(res.headers.get('Retry-After'));
      const retry = Number.isFinite(ra) && ra > 0 ? ra : null;
      throw new BackendError(
        'busy',
        `backend busy, try again${retry ? ` in ${retry} s` : ''} (${said})`,
        429,
        detail,
        retry,
      );
    }
    throw new BackendError('http', `backend error ${res.status}: ${said}`, res.status, detail);
  }

  /** The body as JSON (unknown: the caller checks its shape). */
  async json(res: Response, where: string): Promise<unknown> {
    try {
      return await res.json();
    } catch {
      throw new BackendError('protocol', `${where}: the answer is not JSON`, res.status);
    }
  }
}

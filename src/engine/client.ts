/**
 * Client of the optional full-size backend (`python -m brainsynth.server`, docs/API.md).
 *
 * Plain `fetch` only — no DOM, no React, no EventSource — so it runs in the browser, in workers
 * and in Node. Progress comes as Server-Sent Events parsed from a streamed fetch body (which,
 * unlike EventSource, can send an Authorization header); when the stream cannot be opened or
 * breaks, the job is polled instead.
 *
 * Every failure is a `BackendError` with a `kind` the UI can act on:
 *   absent   no HTTP answer at all (nothing listening, DNS, CORS refusal, timeout)
 *   busy     429: the queue is full (retryAfterS from Retry-After)
 *   http     any other non-2xx answer; `status` and the server's `detail` are kept
 *   protocol a 2xx answer that is not what the API promises
 *   aborted  the caller's AbortSignal fired
 */

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const TERMINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

/** GET /api/v1/health */
export interface BackendHealth {
  status: 'ok';
  version: string;
  /** 'cpu' or the CUDA device's name. */
  device: string;
  queue_depth: number;
  running: number;
  max_running: number;
  models: number;
  uptime_s: number;
}

export interface ResultFile {
  name: string;
  size: number;
  seed: number;
  kind: 'image' | 'labels' | 'sidecar' | 'other';
  contrast: string | null;
  /** Relative to the API's origin. */
  url: string;
}

export interface JobParameters {
  model_id: string;
  conditions: Record<string, unknown>;
  seed: number;
  resolution_mm: number;
  contrasts: string[];
  count: number;
}

/** GET /api/v1/jobs/{id} (and every SSE `data`). */
export interface JobStatus {
  id: string;
  state: JobState;
  /** 0..1 over the whole job. */
  progress: number;
  /** What is happening now, or why the job failed. */
  message: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  attempts: number;
  queue_position: number | null;
  request: JobParameters;
  results: ResultFile[];
  url: string;
  events_url: string;
}

export interface SubmitJobInput {
  modelId: string;
  conditions: object;
  seed: number;
  resolutionMm: 1 | 2;
  /** Default (server side): [conditions.contrast]. */
  contrasts?: string[];
  count?: number;
}

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

export interface BackendClientOptions {
  /** e.g. http://127.0.0.1:8000 (a path prefix is kept; a trailing slash is dropped). */
  baseUrl: string;
  /** Defaults to the global fetch. */
  fetch?: FetchFn;
  /** Sent as `Authorization: Bearer <token>` when the server requires one. */
  token?: string;
  /** Polling period of the fallback (ms). Default 1000. */
  pollIntervalMs?: number;
  /** Consecutive failed polls before the backend counts as gone. Default 3. */
  maxPollFailures?: number;
  /** Limit for plain requests (not the event stream or downloads), ms. Default 10 000. */
  requestTimeoutMs?: number;
}

export interface SseEvent {
  event: string;
  data: string;
  id: string;
}

/**
 * Server-Sent Events from a byte stream (the WHATWG parsing rules: LF/CRLF/CR line ends,
 * `:` comments, `field: value`, multi-line data joined with "\n", dispatch on a blank line).
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id = '';
  /** One line; returns the event it completes, if any. */
  const line = (text: string): SseEvent | null => {
    if (text === '') {
      const out = data.length > 0 ? { event: event || 'message', data: data.join('\n'), id } : null;
      event = '';
      data = [];
      return out;
    }
    if (text.startsWith(':')) return null; // comment (keep-alive)
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
    return null;
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c !== '\n' && c !== '\r') continue;
        if (c === '\r' && i === buffer.length - 1 && !done) break; // maybe the CR of a CRLF
        const ev = line(buffer.slice(start, i));
        if (c === '\r' && buffer[i + 1] === '\n') i++;
        start = i + 1;
        if (ev) yield ev;
      }
      buffer = buffer.slice(start);
      if (done) return; // an unterminated last event is dropped, as the spec says
    }
  } finally {
    reader.releaseLock();
  }
}

const JOB_STATES = new Set<string>(['queued', 'running', 'succeeded', 'failed', 'cancelled']);

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function asJob(x: unknown, where: string): JobStatus {
  if (
    !isObject(x) ||
    typeof x.id !== 'string' ||
    typeof x.state !== 'string' ||
    !JOB_STATES.has(x.state) ||
    typeof x.progress !== 'number' ||
    !Array.isArray(x.results)
  ) {
    throw new BackendError('protocol', `${where}: the answer is not a job`, null, x);
  }
  return { message: '', ...x } as unknown as JobStatus;
}

function asHealth(x: unknown): BackendHealth {
  if (!isObject(x) || x.status !== 'ok' || typeof x.device !== 'string')
    throw new BackendError('protocol', 'health: the answer is not a BrainSynth backend', null, x);
  return x as unknown as BackendHealth;
}

function abortError(): BackendError {
  return new BackendError('aborted', 'cancelled');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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

export class BackendClient {
  readonly baseUrl: string;
  private readonly fetchFn: FetchFn;
  private readonly token: string | undefined;
  private readonly pollIntervalMs: number;
  private readonly maxPollFailures: number;
  private readonly requestTimeoutMs: number;

  constructor(opts: BackendClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    // never call a bare `window.fetch` as a method of another object ("Illegal invocation")
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.token = opts.token;
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.maxPollFailures = opts.maxPollFailures ?? 3;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  }

  private url(path: string): string {
    return `${this.baseUrl}/api/v1${path}`;
  }

  /** fetch + error mapping; resolves only with a 2xx Response. */
  private async request(
    path: string,
    init: RequestInit & { timeoutMs?: number | null } = {},
  ): Promise<Response> {
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

  private async json(res: Response, where: string): Promise<unknown> {
    try {
      return await res.json();
    } catch {
      throw new BackendError('protocol', `${where}: the answer is not JSON`, res.status);
    }
  }

  /** Liveness, version and device (GPU name or 'cpu'). */
  async health(signal?: AbortSignal): Promise<BackendHealth> {
    const res = await this.request('/health', { signal });
    return asHealth(await this.json(res, 'health'));
  }

  /** POST /jobs → the queued job (202). 422 lists every reason in `detail`. */
  async submitJob(input: SubmitJobInput, signal?: AbortSignal): Promise<JobStatus> {
    const body: Record<string, unknown> = {
      model_id: input.modelId,
      conditions: input.conditions,
      seed: input.seed,
      resolution_mm: input.resolutionMm,
    };
    if (input.contrasts) body.contrasts = input.contrasts;
    if (input.count !== undefined) body.count = input.count;
    const res = await this.request('/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
    return asJob(await this.json(res, 'submit'), 'submit');
  }

  async jobStatus(id: string, signal?: AbortSignal): Promise<JobStatus> {
    const res = await this.request(`/jobs/${encodeURIComponent(id)}`, { signal });
    return asJob(await this.json(res, 'job'), 'job');
  }

  /** DELETE /jobs/{id}: cancel a queued or running job (409 once it has finished). */
  async cancelJob(id: string, signal?: AbortSignal): Promise<JobStatus> {
    const res = await this.request(`/jobs/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      signal,
    });
    return asJob(await this.json(res, 'cancel'), 'cancel');
  }

  /**
   * Follow a job to its end: `onProgress` gets every new state (SSE, or polling when the event
   * stream cannot be used); resolves with the final job, whatever its state. Rejects with
   * BackendError ('aborted' when `signal` fires; 'absent' when the backend stops answering).
   */
  async watchJob(
    id: string,
    onProgress: (job: JobStatus) => void,
    signal?: AbortSignal,
  ): Promise<JobStatus> {
    let last: JobStatus | null = null;
    const report = (job: JobStatus) => {
      last = job;
      onProgress(job);
    };
    try {
      const final = await this.watchEvents(id, report, signal);
      if (final) return final;
    } catch (err) {
      if (signal?.aborted || isBackendError(err, 'aborted')) throw abortError();
      // an unknown job will not be found by polling either
      if (isBackendError(err, 'http') && err.status === 404) throw err;
      // anything else (429 too many streams, stream cut, a proxy that buffers): poll
    }
    return this.poll(id, report, () => last, signal);
  }

  /** The final job from the event stream, or null when the stream ended early. */
  private async watchEvents(
    id: string,
    report: (job: JobStatus) => void,
    signal?: AbortSignal,
  ): Promise<JobStatus | null> {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) ctl.abort();
    try {
      const res = await this.request(`/jobs/${encodeURIComponent(id)}/events`, {
        headers: { Accept: 'text/event-stream' },
        signal: ctl.signal,
        timeoutMs: null,
        cache: 'no-store',
      });
      const type = res.headers.get('Content-Type') ?? '';
      if (!res.body || !type.startsWith('text/event-stream')) return null;
      for await (const ev of readSse(res.body)) {
        if (ev.event !== 'progress' && ev.event !== 'end') continue;
        let data: unknown;
        try {
          data = JSON.parse(ev.data);
        } catch {
          continue; // a malformed event: the next one (or polling) will tell
        }
        if (ev.event === 'end' && isObject(data) && !('state' in data)) {
          // the job was pruned while we listened
          throw new BackendError('http', `backend error 404: ${formatDetail(data.detail)}`, 404);
        }
        const job = asJob(data, 'event');
        report(job);
        if (ev.event === 'end' || TERMINAL_STATES.includes(job.state)) return job;
      }
      return null;
    } catch (err) {
      if (signal?.aborted) throw abortError();
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      ctl.abort(); // close the stream if we stopped reading early
    }
  }

  private async poll(
    id: string,
    report: (job: JobStatus) => void,
    last: () => JobStatus | null,
    signal?: AbortSignal,
  ): Promise<JobStatus> {
    let failures = 0;
    for (;;) {
      let job: JobStatus;
      try {
        job = await this.jobStatus(id, signal);
        failures = 0;
      } catch (err) {
        if (signal?.aborted) throw abortError();
        if (!isBackendError(err, 'absent') || ++failures >= this.maxPollFailures) throw err;
        await sleep(this.pollIntervalMs, signal);
        continue;
      }
      const prev = last();
      if (
        !prev ||
        prev.state !== job.state ||
        prev.progress !== job.progress ||
        prev.message !== job.message
      )
        report(job);
      if (TERMINAL_STATES.includes(job.state)) return job;
      await sleep(this.pollIntervalMs, signal);
    }
  }

  /**
   * One result file's bytes (for `.nii.gz` the gzip stream itself). `name` must be one of the
   * job's results; the URL is built here from the job id and that name.
   */
  async downloadFile(job: JobStatus, name: string, signal?: AbortSignal): Promise<Uint8Array> {
    if (!job.results.some((r) => r.name === name))
      throw new BackendError('protocol', `job ${job.id} has no result file named ${name}`);
    const res = await this.request(
      `/jobs/${encodeURIComponent(job.id)}/files/${encodeURIComponent(name)}`,
      { signal, timeoutMs: null },
    );
    try {
      return new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      if (signal?.aborted) throw abortError();
      throw new BackendError(
        'absent',
        `backend absent: the download of ${name} broke off (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }
}

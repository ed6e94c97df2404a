/**
 * Client of the optional full-size backend (`python -m brainsynth.server`, docs/API.md).
 *
 * Plain `fetch` only — no DOM, no React, no EventSource — so it runs in the browser, in workers
 * and in Node. Progress comes as Server-Sent Events (sse.ts) from a streamed fetch body; when
 * the stream cannot be opened or breaks, the job is polled instead. Requests and their errors
 * go through transport.ts (every failure is a BackendError). The wire types are generated from
 * the server's OpenAPI document (api.gen.ts, `npm run gen:api`), never written by hand.
 */
import type { components } from './api.gen';
import { readSse } from './sse';
import {
  BackendError,
  Transport,
  abortError,
  formatDetail,
  isBackendError,
  sleep,
  type FetchFn,
} from './transport';

type Schemas = components['schemas'];
/** GET /api/v1/health */
export type BackendHealth = Schemas['Health'];
/** GET /api/v1/jobs/{id} (and every SSE `data`). */
export type JobStatus = Schemas['JobStatus'];
export type JobState = JobStatus['state'];
export type JobParameters = Schemas['JobParameters'];
export type ResultFile = Schemas['ResultFile'];
/** POST /api/v1/jobs body. */
export type JobRequest = Schemas['JobRequest'];
/** GET /api/v1/datasets/{id} (a dataset ordered from a spec, docs/DATASETS.md). */
export type DatasetStatus = Schemas['DatasetStatus'];
export type DatasetState = DatasetStatus['state'];

export const TERMINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];
const JOB_STATES = new Set<string>(['queued', 'running', ...TERMINAL_STATES]);

export interface SubmitJobInput {
  modelId: string;
  conditions: JobRequest['conditions'];
  seed: number;
  resolutionMm: NonNullable<JobRequest['resolution_mm']>;
  /** Default (server side): [conditions.contrast]. */
  contrasts?: NonNullable<JobRequest['contrasts']>;
  count?: number;
}

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

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The fields a job answer must have to be used (the rest is trusted to the OpenAPI contract). */
function looksLikeJob(x: unknown): x is Omit<JobStatus, 'message'> & { message?: unknown } {
  return (
    isObject(x) &&
    typeof x.id === 'string' &&
    typeof x.state === 'string' &&
    JOB_STATES.has(x.state) &&
    typeof x.progress === 'number' &&
    Array.isArray(x.results)
  );
}

function asDataset(x: unknown, where: string): DatasetStatus {
  if (
    !isObject(x) ||
    typeof x.id !== 'string' ||
    typeof x.state !== 'string' ||
    !JOB_STATES.has(x.state) ||
    typeof x.count !== 'number' ||
    typeof x.done !== 'number'
  )
    throw new BackendError('protocol', `${where}: the answer is not a dataset`, null, x);
  return x as DatasetStatus;
}

function asJob(x: unknown, where: string): JobStatus {
  if (!looksLikeJob(x))
    throw new BackendError('protocol', `${where}: the answer is not a job`, null, x);
  return { ...x, message: typeof x.message === 'string' ? x.message : '' };
}

function isHealth(x: unknown): x is BackendHealth {
  return isObject(x) && x.status === 'ok' && typeof x.device === 'string';
}

function asHealth(x: unknown): BackendHealth {
  if (!isHealth(x))
    throw new BackendError('protocol', 'health: the answer is not a BrainSynth backend', null, x);
  return x;
}

export class BackendClient {
  private readonly http: Transport;
  private readonly pollIntervalMs: number;
  private readonly maxPollFailures: number;

  constructor(opts: BackendClientOptions) {
    this.http = new Transport(opts);
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.maxPollFailures = opts.maxPollFailures ?? 3;
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** Liveness, version and device (GPU name or 'cpu'). */
  async health(signal?: AbortSignal): Promise<BackendHealth> {
    const res = await this.http.request('/health', { signal });
    return asHealth(await this.http.json(res, 'health'));
  }

  /** POST /jobs → the queued job (202). 422 lists every reason in `detail`. */
  async submitJob(input: SubmitJobInput, signal?: AbortSignal): Promise<JobStatus> {
    const body: JobRequest = {
      model_id: input.modelId,
      conditions: input.conditions,
      seed: input.seed,
      resolution_mm: input.resolutionMm,
    };
    if (input.contrasts) body.contrasts = input.contrasts;
    if (input.count !== undefined) body.count = input.count;
    const res = await this.http.request('/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
    return asJob(await this.http.json(res, 'submit'), 'submit');
  }

  async jobStatus(id: string, signal?: AbortSignal): Promise<JobStatus> {
    const res = await this.http.request(`/jobs/${encodeURIComponent(id)}`, { signal });
    return asJob(await this.http.json(res, 'job'), 'job');
  }

  /** DELETE /jobs/{id}: cancel a queued or running job (409 once it has finished). */
  async cancelJob(id: string, signal?: AbortSignal): Promise<JobStatus> {
    const res = await this.http.request(`/jobs/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      signal,
    });
    return asJob(await this.http.json(res, 'cancel'), 'cancel');
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
      const res = await this.http.request(`/jobs/${encodeURIComponent(id)}/events`, {
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
   * POST /datasets: order a dataset from a spec (docs/DATASETS.md) → its status (202). An
   * invalid spec is a 422 whose `detail` lists every reason; one that cannot fit on disk a 507.
   */
  async submitDataset(spec: unknown, signal?: AbortSignal): Promise<DatasetStatus> {
    const res = await this.http.request('/datasets', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(spec),
      signal,
    });
    return asDataset(await this.http.json(res, 'dataset'), 'dataset');
  }

  async datasetStatus(id: string, signal?: AbortSignal): Promise<DatasetStatus> {
    const res = await this.http.request(`/datasets/${encodeURIComponent(id)}`, { signal });
    return asDataset(await this.http.json(res, 'dataset'), 'dataset');
  }

  /** DELETE /datasets/{id}: stop a queued or running dataset (the files written so far stay). */
  async cancelDataset(id: string, signal?: AbortSignal): Promise<DatasetStatus> {
    const res = await this.http.request(`/datasets/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      signal,
    });
    return asDataset(await this.http.json(res, 'dataset'), 'dataset');
  }

  /**
   * One result file's bytes (for `.nii.gz` the gzip stream itself). `name` must be one of the
   * job's results; the URL is built here from the job id and that name.
   */
  async downloadFile(job: JobStatus, name: string, signal?: AbortSignal): Promise<Uint8Array> {
    if (!job.results.some((r) => r.name === name))
      throw new BackendError('protocol', `job ${job.id} has no result file named ${name}`);
    const res = await this.http.request(
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

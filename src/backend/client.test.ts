import { describe, expect, it, vi } from 'vitest';
import { BackendClient, type JobStatus } from './client';
import { byteStream, fakeJob } from './testing';
import { BackendError, type FetchFn } from './transport';

const BASE = 'http://127.0.0.1:8000';
const HEALTHY = { age: 45, sex: 'female', pathology: 'none', contrast: 'T1w' } as const;

const job = (over: Partial<JobStatus> = {}): JobStatus => fakeJob({ id: 'j1', ...over });

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });

const sse = (chunks: string[]) =>
  new Response(byteStream(chunks), { headers: { 'Content-Type': 'text/event-stream' } });

const event = (name: string, data: unknown, id: number) =>
  `id: ${id}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

type Route = (url: string, init: RequestInit) => Response | Promise<Response>;

/** A fake fetch: the first route whose key the URL ends with answers; calls are recorded. */
function fakeFetch(routes: Record<string, Route>) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fn: FetchFn = async (url, init = {}) => {
    calls.push({ url, init });
    const key = Object.keys(routes).find((k) => url.endsWith(k));
    if (!key) return json({ detail: 'Not Found' }, 404);
    return routes[key](url, init);
  };
  return { fn, calls };
}

describe('BackendClient', () => {
  it('health(): typed answer from <base>/api/v1/health (trailing slash dropped)', async () => {
    const health = {
      status: 'ok',
      version: '0.1.0',
      device: 'NVIDIA H100',
      queue_depth: 0,
      running: 0,
      max_running: 1,
      models: 1,
      uptime_s: 3,
    };
    const f = fakeFetch({ '/api/v1/health': () => json(health) });
    const c = new BackendClient({ baseUrl: `${BASE}/`, fetch: f.fn });
    await expect(c.health()).resolves.toEqual(health);
    expect(f.calls[0].url).toBe(`${BASE}/api/v1/health`);
  });

  it('submitJob(): snake_case body, bearer token, 202 job', async () => {
    const f = fakeFetch({ '/api/v1/jobs': () => json(job(), 202) });
    const c = new BackendClient({ baseUrl: BASE, fetch: f.fn, token: 's3cret' });
    const j = await c.submitJob({
      modelId: 'tiny-v1',
      conditions: { age: 45, sex: 'female', pathology: 'none', contrast: 'T1w' },
      seed: 7,
      resolutionMm: 1,
      contrasts: ['T1w'],
    });
    expect(j.state).toBe('queued');
    const { init } = f.calls[0];
    expect(init.method).toBe('POST');
    expect(JSON.parse(init.body as string)).toEqual({
      model_id: 'tiny-v1',
      conditions: { age: 45, sex: 'female', pathology: 'none', contrast: 'T1w' },
      seed: 7,
      resolution_mm: 1,
      contrasts: ['T1w'],
    });
    const headers = new Headers(init.headers);
    expect(headers.get('Authorization')).toBe('Bearer s3cret');
    expect(headers.get('Content-Type')).toBe('application/json');
  });

  it('4xx: status and the server detail are surfaced', async () => {
    const detail = [
      {
        loc: ['body', 'conditions', 'age'],
        msg: '150 is greater than the maximum of 90',
        type: 'conditions.maximum',
      },
    ];
    const f = fakeFetch({ '/api/v1/jobs': () => json({ detail }, 422) });
    const c = new BackendClient({ baseUrl: BASE, fetch: f.fn });
    const err = await c
      .submitJob({ modelId: 'm', conditions: { ...HEALTHY, age: 150 }, seed: 1, resolutionMm: 1 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ kind: 'http', status: 422, detail });
    expect(err.message).toBe(
      'backend error 422: conditions.age: 150 is greater than the maximum of 90',
    );

    const g = fakeFetch({ '/api/v1/jobs/nope': () => json({ detail: 'unknown job nope' }, 404) });
    const e404 = await new BackendClient({ baseUrl: BASE, fetch: g.fn })
      .jobStatus('nope')
      .catch((e) => e);
    expect(e404).toMatchObject({ kind: 'http', status: 404, detail: 'unknown job nope' });
  });

  it('429: kind busy, "backend busy, try again", Retry-After kept', async () => {
    const f = fakeFetch({
      '/api/v1/jobs': () =>
        json({ detail: 'queue full: 16 jobs are waiting' }, 429, { 'Retry-After': '12' }),
    });
    const err = await new BackendClient({ baseUrl: BASE, fetch: f.fn })
      .submitJob({ modelId: 'm', conditions: HEALTHY, seed: 1, resolutionMm: 1 })
      .catch((e) => e);
    expect(err).toMatchObject({ kind: 'busy', status: 429, retryAfterS: 12 });
    expect(err.message).toMatch(/^backend busy, try again in 12 s \(queue full/);
  });

  it('network error: kind absent ("backend absent"), no status', async () => {
    const c = new BackendClient({
      baseUrl: BASE,
      fetch: () => Promise.reject(new TypeError('fetch failed')),
    });
    const err = await c.health().catch((e) => e);
    expect(err).toMatchObject({ kind: 'absent', status: null });
    expect(err.message).toBe(`backend absent: no answer from ${BASE} (fetch failed)`);
  });

  it('a request that never answers times out as absent', async () => {
    const hang: FetchFn = (_url, init) =>
      new Promise((_, reject) =>
        init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    const c = new BackendClient({ baseUrl: BASE, fetch: hang, requestTimeoutMs: 20 });
    await expect(c.health()).rejects.toMatchObject({
      kind: 'absent',
      message: expect.stringMatching(/no answer within 20 ms/),
    });
  });

  it('a 2xx that is not the API is a protocol error', async () => {
    const f = fakeFetch({ '/api/v1/health': () => new Response('<html>', { status: 200 }) });
    await expect(new BackendClient({ baseUrl: BASE, fetch: f.fn }).health()).rejects.toMatchObject({
      kind: 'protocol',
    });
  });

  it('watchJob(): progress from the event stream, resolves with the final job', async () => {
    const done = job({ state: 'succeeded', progress: 1, message: 'done: 1 volume(s)' });
    const f = fakeFetch({
      '/api/v1/jobs/j1/events': () =>
        sse([
          'retry: 2000\n\n',
          event('progress', job({ state: 'running', progress: 0.05, message: 'anatomy' }), 1),
          ': keep-alive\n\n',
          event('progress', job({ state: 'running', progress: 0.6, message: 'contrast' }), 2),
          event('end', done, 3),
        ]),
    });
    const seen: [number, string][] = [];
    const c = new BackendClient({ baseUrl: BASE, fetch: f.fn });
    const final = await c.watchJob('j1', (j) => seen.push([j.progress, j.message]));
    expect(final).toEqual(done);
    expect(seen).toEqual([
      [0.05, 'anatomy'],
      [0.6, 'contrast'],
      [1, 'done: 1 volume(s)'],
    ]);
    expect(new Headers(f.calls[0].init.headers).get('Accept')).toBe('text/event-stream');
  });

  it('watchJob(): falls back to polling when the stream is refused (429)', async () => {
    const states = [
      job({ state: 'running', progress: 0.3, message: 'anatomy' }),
      job({ state: 'running', progress: 0.3, message: 'anatomy' }),
      job({ state: 'failed', progress: 0.3, message: 'ZeroDivisionError: boom' }),
    ];
    let polls = 0;
    const f = fakeFetch({
      '/api/v1/jobs/j1/events': () =>
        json({ detail: 'too many open event streams; poll the job instead' }, 429),
      '/api/v1/jobs/j1': () => json(states[Math.min(polls++, states.length - 1)]),
    });
    const seen: string[] = [];
    const c = new BackendClient({ baseUrl: BASE, fetch: f.fn, pollIntervalMs: 1 });
    const final = await c.watchJob('j1', (j) => seen.push(`${j.state} ${j.message}`));
    expect(final.state).toBe('failed');
    expect(polls).toBe(3);
    expect(seen).toEqual(['running anatomy', 'failed ZeroDivisionError: boom']); // no duplicates
  });

  it('watchJob(): a stream that breaks off before "end" continues by polling', async () => {
    const f = fakeFetch({
      '/api/v1/jobs/j1/events': () =>
        sse([event('progress', job({ state: 'running', progress: 0.5, message: 'x' }), 1)]),
      '/api/v1/jobs/j1': () => json(job({ state: 'succeeded', progress: 1, message: 'done' })),
    });
    const c = new BackendClient({ baseUrl: BASE, fetch: f.fn, pollIntervalMs: 1 });
    const seen: number[] = [];
    const final = await c.watchJob('j1', (j) => seen.push(j.progress));
    expect(final.state).toBe('succeeded');
    expect(seen).toEqual([0.5, 1]);
  });

  it('watchJob(): the backend going away while polling ends as absent', async () => {
    const f = fakeFetch({
      '/api/v1/jobs/j1/events': () => {
        throw new TypeError('fetch failed');
      },
      '/api/v1/jobs/j1': () => {
        throw new TypeError('fetch failed');
      },
    });
    const c = new BackendClient({ baseUrl: BASE, fetch: f.fn, pollIntervalMs: 1 });
    await expect(c.watchJob('j1', () => undefined)).rejects.toMatchObject({ kind: 'absent' });
    expect(f.calls.filter((x) => x.url.endsWith('/jobs/j1'))).toHaveLength(3);
  });

  it('watchJob(): abort rejects with kind aborted and stops polling', async () => {
    const f = fakeFetch({
      '/api/v1/jobs/j1/events': () => json({ detail: 'busy' }, 429),
      '/api/v1/jobs/j1': () => json(job({ state: 'running', progress: 0.1 })),
    });
    const ctl = new AbortController();
    const c = new BackendClient({ baseUrl: BASE, fetch: f.fn, pollIntervalMs: 5 });
    const p = c.watchJob('j1', () => ctl.abort(), ctl.signal);
    await expect(p).rejects.toMatchObject({ kind: 'aborted' });
    const n = f.calls.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(f.calls.length).toBe(n);
  });

  it('downloadFile(): bytes of a named result; other names are refused', async () => {
    const bytes = new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]);
    const name = 'brainsynth_seed-0000000007_T1w.nii.gz';
    const j = job({
      state: 'succeeded',
      results: [
        {
          name,
          size: bytes.length,
          seed: 7,
          kind: 'image',
          contrast: 'T1w',
          url: `/api/v1/jobs/j1/files/${name}`,
        },
      ],
    });
    const f = fakeFetch({
      [`/api/v1/jobs/j1/files/${name}`]: () =>
        new Response(bytes, { headers: { 'Content-Type': 'application/gzip' } }),
    });
    const c = new BackendClient({ baseUrl: BASE, fetch: f.fn });
    expect(await c.downloadFile(j, name)).toEqual(bytes);
    expect(f.calls[0].url).toBe(`${BASE}/api/v1/jobs/j1/files/${name}`);
    await expect(c.downloadFile(j, '../../etc/passwd')).rejects.toMatchObject({
      kind: 'protocol',
    });
    expect(f.calls).toHaveLength(1);
  });

  it('uses the global fetch by default (called unbound)', async () => {
    const spy = vi
      .spyOn(globalThis, 'fetch')
      .mockResolvedValue(
        json({ status: 'ok', device: 'cpu', version: '0', queue_depth: 0, running: 0 }),
      );
    try {
      await expect(new BackendClient({ baseUrl: BASE }).health()).resolves.toMatchObject({
        device: 'cpu',
      });
      expect(spy).toHaveBeenCalledWith(`${BASE}/api/v1/health`, expect.anything());
    } finally {
      spy.mockRestore();
    }
  });
});

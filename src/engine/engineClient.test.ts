import { beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from './backends';
import { EngineClient, type WorkerLike } from './engineClient';
import { SupersededError } from './errors';
import { loadModel } from './model/loadModel';
import type { WorkerRequest, WorkerResponse } from './protocol';
import { sample as realSample } from './sample';
import { buildSyntheticModel, syntheticFetch } from './testing/syntheticModel';
import { useCpuBackend } from './testing/setupCpu';
import { createWorkerHost, prefetchSeed, type WorkerDeps } from './workerHost';
import type { Conditions } from './types';

const base: Conditions = { age: 60, sex: 'female', pathology: 'none', contrast: 'T1w' };
const { manifest, files } = buildSyntheticModel();
const fetchFn = syntheticFetch(files, manifest);

beforeAll(useCpuBackend);

/** An in-process stand-in for the module worker: messages cross an async boundary both ways. */
function fakeWorker(deps: Partial<WorkerDeps> = {}): WorkerLike & { log: WorkerResponse[] } {
  const worker: WorkerLike & { log: WorkerResponse[] } = {
    log: [],
    onmessage: null,
    onerror: null,
    postMessage(msg: WorkerRequest) {
      setTimeout(() => void host.handle(structuredClone(msg)), 0);
    },
    terminate() {},
  };
  const host = createWorkerHost(
    (msg) => {
      worker.log.push(msg);
      setTimeout(() => worker.onmessage?.({ data: msg } as MessageEvent<WorkerResponse>), 0);
    },
    {
      initBackend: (pref) => initBackend(pref),
      loadModel: (url) => loadModel(url, fetchFn),
      sample: realSample,
      ...deps,
    },
  );
  return worker;
}

describe('EngineClient + worker host', () => {
  it('initialises, reports the backend and samples', async () => {
    const client = await EngineClient.create({
      modelUrl: 'mem://model/',
      backend: 'cpu',
      createWorker: () => fakeWorker(),
    });
    expect(client.backend).toBe('cpu');
    expect(client.backendReason).toMatch(/forced: cpu/);
    expect(client.manifest.id).toBe('synthetic-test');
    const v = await client.sample(base, 3);
    expect(v.labels.length).toBe(24 * 28 * 24);
    expect(v.metadata.seed).toBe(3);
    client.dispose();
  });

  it('passes the requested sampler through the worker', async () => {
    const seen: (string | undefined)[] = [];
    const client = await EngineClient.create({
      modelUrl: 'mem://model/',
      backend: 'cpu',
      createWorker: () =>
        fakeWorker({
          sample: (m, c, s, o) => {
            seen.push(o.sampler);
            return realSample(m, c, s, o);
          },
        }),
    });
    const exact = await client.sample(base, 3, 'exact');
    expect(exact.metadata.sampler).toBe('exact');
    await client.sample(base, 3);
    expect(seen).toEqual(['exact', undefined]);
    client.dispose();
  });

  it('a newer request supersedes older ones; stale queued requests are dropped unrun', async () => {
    let runs = 0;
    const worker = fakeWorker({
      sample: (m, c, s, o) => {
        runs++;
        return realSample(m, c, s, o);
      },
    });
    const client = await EngineClient.create({
      modelUrl: 'mem://model/',
      backend: 'cpu',
      createWorker: () => worker,
    });
    const p1 = client.sample(base, 1);
    const p2 = client.sample(base, 2);
    const p3 = client.sample({ ...base, age: 80 }, 3);
    await expect(p1).rejects.toBeInstanceOf(SupersededError);
    await expect(p2).rejects.toBeInstanceOf(SupersededError);
    const v = await p3;
    expect(v.metadata.seed).toBe(3);
    expect(v.metadata.conditions.age).toBe(80);
    // The worker ran at most the first and the last request; the middle one was dropped unrun
    // or stopped at its first checkpoint.
    expect(runs).toBeLessThanOrEqual(3);
    const answered = worker.log
      .filter((m) => m.type === 'result')
      .map((m) => (m as { id: number }).id);
    expect(answered).toContain(3);
    expect(answered).not.toContain(2);
    client.dispose();
  });

  it('lanes: a newer request supersedes only its own lane; two lanes both finish', async () => {
    const worker = fakeWorker();
    const client = await EngineClient.create({
      modelUrl: 'mem://model/',
      backend: 'cpu',
      createWorker: () => worker,
    });
    const a1 = client.sample(base, 1, undefined, 'view-a');
    const b1 = client.sample({ ...base, age: 80 }, 2, undefined, 'view-b');
    const a2 = client.sample(base, 3, undefined, 'view-a');
    await expect(a1).rejects.toBeInstanceOf(SupersededError);
    const [b, a] = await Promise.all([b1, a2]);
    expect(b.metadata.seed).toBe(2);
    expect(b.metadata.conditions.age).toBe(80);
    expect(a.metadata.seed).toBe(3);
    // the default lane is a lane of its own: it supersedes neither view
    const d = client.sample(base, 4);
    const b2 = client.sample(base, 5, undefined, 'view-b');
    expect((await d).metadata.seed).toBe(4);
    expect((await b2).metadata.seed).toBe(5);
    // the worker dropped nothing of lane view-b while view-a's requests came and went
    const superseded = worker.log
      .filter((m) => m.type === 'superseded')
      .map((m) => (m as { id: number }).id);
    expect(superseded).not.toContain(2);
    expect(superseded).not.toContain(5);
    client.dispose();
  });

  it('turns worker-side errors into rejected promises with the message', async () => {
    const client = await EngineClient.create({
      modelUrl: 'mem://model/',
      backend: 'cpu',
      createWorker: () => fakeWorker(),
    });
    await expect(client.sample({ ...base, age: 5 }, 1)).rejects.toThrow(
      'Invalid conditions: age must be >= 20',
    );
    await expect(client.sample(base, 1)).resolves.toBeDefined();
    client.dispose();
    await expect(client.sample(base, 1)).rejects.toThrow(/disposed/);
  });

  it('rejects create() when the model cannot be loaded', async () => {
    const broken = fakeWorker({
      loadModel: () => Promise.reject(new Error('Could not fetch mem://x/manifest.json: HTTP 404')),
    });
    await expect(
      EngineClient.create({ modelUrl: 'mem://x/', backend: 'cpu', createWorker: () => broken }),
    ).rejects.toThrow(/HTTP 404/);
  });

  it('prefetches the hinted seed in idle time; a sample goes first and gets the same volume', async () => {
    const log: string[] = [];
    let stops = 0;
    const worker = fakeWorker({
      prefetch: async (_model, seed, stop) => {
        log.push(`prefetch ${seed}`);
        // slices, as the real prefetch: stop between them when asked
        for (let i = 0; i < 400; i++) {
          await new Promise((r) => setTimeout(r, 2));
          if (stop()) {
            stops++;
            log.push(`stopped ${seed}`);
            return;
          }
        }
        log.push(`done ${seed}`);
      },
    });
    const client = await EngineClient.create({
      modelUrl: 'mem://model/',
      backend: 'cpu',
      createWorker: () => worker,
    });
    const first = await client.sample(base, 9);
    client.prefetch(10);
    await vi.waitFor(() => expect(log).toContain('prefetch 10'), { timeout: 5000 });
    // a request while the prefetch runs: it stops and the sample runs; the UI's next hint
    // (after its draw) resumes the prefetch
    const again = await client.sample({ ...base, age: 61 }, 9);
    expect(again.metadata.seed).toBe(9);
    await vi.waitFor(() => expect(log).toContain('stopped 10'), { timeout: 5000 });
    client.prefetch(10);
    await vi.waitFor(() => expect(log).toContain('done 10'), { timeout: 10000 });
    expect(stops).toBeGreaterThanOrEqual(1);
    // a prefetched seed samples to the same volume as a cold one
    const warm = await client.sample(base, 10);
    const cold = await realSample(await loadModel('mem://model/', fetchFn), base, 10);
    expect(Array.from(warm.labels)).toEqual(Array.from(cold.labels));
    expect(Array.from(warm.image)).toEqual(Array.from(cold.image));
    expect(first.metadata.seed).toBe(9);
    client.prefetch(-1); // not a seed: ignored
    client.dispose();
  });

  it('the default prefetch computes exactly what the sample would (same image afterwards)', async () => {
    const model = await loadModel('mem://model/', fetchFn);
    const cold = await realSample(model, base, 21);
    const other = await loadModel('mem://model/', fetchFn);
    await prefetchSeed(other, 21, () => false);
    const warm = await realSample(other, base, 21);
    expect(Array.from(warm.image)).toEqual(Array.from(cold.image));
    expect(Array.from(warm.labels)).toEqual(Array.from(cold.labels));
  });
});

/**
 * Main-thread handle on the engine worker.
 *
 * `sample()` returns a promise per request. Requests travel in lanes (one per view; the
 * default lane when none is named): a newer request supersedes the older ones of its own lane
 * only — their promises reject at once with SupersededError (the UI ignores those) and their
 * late answers from the worker are dropped. Volumes arrive with their buffers transferred.
 */
import type { BackendPreference } from './backends';
import { SupersededError } from './errors';
import type { ModelManifest } from './model/manifest';
import { DEFAULT_LANE, type WorkerRequest, type WorkerResponse } from './protocol';
import type { BackendName, Conditions, SampledVolume, SamplerName } from './types';

/** The part of `Worker` the client uses (tests pass an in-process fake). */
export interface WorkerLike {
  postMessage(msg: WorkerRequest): void;
  onmessage: ((e: MessageEvent<WorkerResponse>) => void) | null;
  onerror: ((e: ErrorEvent) => void) | null;
  terminate(): void;
}

export interface EngineClientOptions {
  modelUrl: string;
  backend?: BackendPreference;
  /** Defaults to the module worker next to this file. */
  createWorker?: () => WorkerLike;
}

interface Waiter {
  lane: string;
  resolve: (v: SampledVolume) => void;
  reject: (e: Error) => void;
}

function defaultWorker(): WorkerLike {
  return new Worker(new URL('./worker.ts', import.meta.url), {
    type: 'module',
    name: 'brainsynth-engine',
  }) as unknown as WorkerLike;
}

function absoluteUrl(url: string): string {
  // The worker resolves relative URLs against its own script URL; pin them to the page instead.
  const href = (globalThis as { location?: { href: string } }).location?.href;
  return href ? new URL(url, href).href : url;
}

export class EngineClient {
  private nextId = 1;
  private readonly waiters = new Map<number, Waiter>();
  private disposed = false;

  private constructor(
    private readonly worker: WorkerLike,
    readonly manifest: ModelManifest,
    readonly backend: BackendName,
    readonly backendReason: string,
  ) {
    worker.onmessage = (e) => this.onMessage(e.data);
    worker.onerror = (e) =>
      this.failAll(new Error(`Engine worker crashed: ${e.message || 'unknown error'}`));
  }

  /** Start the worker, choose a backend and load the model; resolves when ready to sample. */
  static create(opts: EngineClientOptions): Promise<EngineClient> {
    const worker = (opts.createWorker ?? defaultWorker)();
    return new Promise<EngineClient>((resolve, reject) => {
      worker.onmessage = (e) => {
        const msg = e.data;
        if (msg.type === 'ready')
          resolve(new EngineClient(worker, msg.manifest, msg.backend, msg.backendReason));
        else if (msg.type === 'initError') {
          worker.terminate();
          reject(new Error(msg.message));
        }
      };
      worker.onerror = (e) => {
        worker.terminate();
        reject(new Error(`Engine worker failed to start: ${e.message || 'unknown error'}`));
      };
      worker.postMessage({
        type: 'init',
        modelUrl: absoluteUrl(opts.modelUrl),
        backend: opts.backend ?? 'auto',
      });
    });
  }

  /**
   * `sampler` omitted: the model's default (the distilled student when it ships one).
   * `lane`: requests of one lane supersede each other (one lane per view); other lanes' stay.
   */
  sample(
    conditions: Conditions,
    seed: number,
    sampler?: SamplerName,
    lane: string = DEFAULT_LANE,
  ): Promise<SampledVolume> {
    if (this.disposed) return Promise.reject(new Error('EngineClient is disposed'));
    for (const [id, w] of this.waiters) {
      if (w.lane !== lane) continue;
      w.reject(new SupersededError());
      this.waiters.delete(id);
    }
    const id = this.nextId++;
    return new Promise<SampledVolume>((resolve, reject) => {
      this.waiters.set(id, { lane, resolve, reject });
      this.worker.postMessage({ type: 'sample', id, lane, conditions, seed, sampler });
    });
  }

  /**
   * Hint the seed that will most likely be asked for next: the worker computes its seed-only
   * fields in idle time (a sample request always goes first). Changes no result.
   */
  prefetch(seed: number): void {
    if (this.disposed || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) return;
    this.worker.postMessage({ type: 'prefetch', seed });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.failAll(new SupersededError('EngineClient disposed'));
    this.worker.terminate();
  }

  private onMessage(msg: WorkerResponse): void {
    if (msg.type !== 'result' && msg.type !== 'error' && msg.type !== 'superseded') return;
    const w = this.waiters.get(msg.id);
    if (!w) return; // already superseded on this side
    this.waiters.delete(msg.id);
    if (msg.type === 'result') w.resolve(msg.volume);
    else if (msg.type === 'error') w.reject(new Error(msg.message));
    else w.reject(new SupersededError());
  }

  private failAll(err: Error): void {
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
  }
}

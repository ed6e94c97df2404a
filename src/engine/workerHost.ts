/**
 * The worker's logic, free of worker globals so it can be unit-tested in Node.
 *
 * Superseding, per lane (protocol.ts): sampling is one request at a time. A request that
 * arrives while another runs waits in its lane's single slot; a newer one of the same lane
 * replaces it (the replaced one is answered 'superseded' without running). Waiting lanes are
 * served in the order they first queued, so two views take turns. The running request polls
 * `isStale` between stages and stops early when a newer request of its lane exists — its result
 * would be thrown away by the client anyway. Other lanes never make it stale.
 *
 * Prefetch (a 'prefetch' hint with the seed the UI will ask for next, sent once its volume is
 * drawn, so the prefetch does not compete with the draw): PREFETCH_IDLE_MS after the hint, if no
 * request is waiting or running, the seed-only work of that seed runs in idle time
 * (`prefetchSeed`: in the seed helper worker when there is one, render/seedHelper.ts; else here,
 * the three noise streams in slices, then the seed-field cache). Not at once: the helper's work
 * would compete for the CPU with a kept-subject request that typically follows a draw. A request that
 * arrives meanwhile runs first and stops it; what was computed is kept (the sample takes it), and
 * the UI's next hint resumes the rest.
 */
import {
  initBackend as defaultInitBackend,
  type BackendChoice,
  type BackendPreference,
} from './backends';
import { SupersededError } from './errors';
import { loadModel as defaultLoadModel, type Model } from './model/loadModel';
import type { WorkerRequest, WorkerResponse } from './protocol';
import { typedArrayKernelsActive } from './kernels/path';
import { hasSeedFields, seedFields } from './render/seedCache';
import { hasSeedHelper, requestSeedWork } from './render/seedHelper';
import { hasFoldingTable } from './sampler/folding';
import { prefetchNormalsF32, streamSeed } from './rng';
import { sample as defaultSample, type SampleOptions } from './sample';
import type { SampledVolume } from './types';

/** Quiet time (no request waiting or running) before a prefetch starts. */
export const PREFETCH_IDLE_MS = 150;

/**
 * The seed-only work of `seed` ahead of its sample. With the seed helper worker
 * (render/seedHelper.ts, the browser's fast path): its job for the seed (fields and folding
 * table), awaited. Otherwise here: the Rician and texture noise streams
 * (s+3, s+4, s+1; MODEL_FORMAT.md §5), computed in slices that stop when `stop()` says so; then,
 * on the TypedArray fast path, the per-seed fields (render/seedCache.ts: texture blur, bias
 * field), which take those streams. Produces nothing a sample would not: the same numbers,
 * earlier.
 */
export async function prefetchSeed(model: Model, seed: number, stop: () => boolean): Promise<void> {
  if (typedArrayKernelsActive()) {
    const fields = hasSeedFields(model, seed);
    if (fields && (hasFoldingTable(model, seed) || !hasSeedHelper())) return;
    // with the seed helper worker: all of it there (a sample of this seed joins the job)
    const work = requestSeedWork(model, seed);
    if (work) return work.fields;
  }
  const n = model.grid.count;
  const streams = [streamSeed(seed, 3), streamSeed(seed, 4), streamSeed(seed, 1)];
  await prefetchNormalsF32(streams, n, stop);
  if (stop()) return;
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
  if (stop() || !typedArrayKernelsActive()) return;
  seedFields(model, seed);
}

type SampleRequest = Extract<WorkerRequest, { type: 'sample' }>;

export type PostFn = (msg: WorkerResponse, transfer?: Transferable[]) => void;

export interface WorkerDeps {
  initBackend: (pref: BackendPreference) => Promise<BackendChoice>;
  loadModel: (url: string) => Promise<Model>;
  sample: (
    model: Model,
    conditions: unknown,
    seed: number,
    options: SampleOptions,
  ) => Promise<SampledVolume>;
  /** Idle-time work for the seed asked for next (default: `prefetchSeed`). */
  prefetch?: (model: Model, seed: number, stop: () => boolean) => Promise<void>;
}

export function createWorkerHost(
  post: PostFn,
  deps: WorkerDeps = {
    initBackend: defaultInitBackend,
    loadModel: (u) => defaultLoadModel(u),
    sample: defaultSample,
    prefetch: prefetchSeed,
  },
) {
  let model: Model | null = null;
  /** The seed of the latest prefetch hint (null: none, or done). */
  let prefetchFor: number | null = null;
  let prefetchTimer: ReturnType<typeof setTimeout> | null = null;
  let prefetching = false;
  /** One waiting request per lane; Map order = the order the lanes queued. */
  const pending = new Map<string, SampleRequest>();
  /** The newest request id seen per lane. */
  const latest = new Map<string, number>();
  let busy = false;

  async function drain(): Promise<void> {
    busy = true;
    try {
      for (;;) {
        const next = pending.values().next();
        if (next.done) break;
        const req = next.value;
        pending.delete(req.lane);
        try {
          if (!model) throw new Error('The engine is not initialised (no model loaded)');
          const volume = await deps.sample(model, req.conditions, req.seed, {
            isStale: () => req.id !== latest.get(req.lane),
            sampler: req.sampler,
          });
          post({ type: 'result', id: req.id, volume }, [volume.image.buffer, volume.labels.buffer]);
        } catch (e) {
          if (e instanceof SupersededError) post({ type: 'superseded', id: req.id });
          else
            post({
              type: 'error',
              id: req.id,
              message: e instanceof Error ? e.message : String(e),
            });
        }
      }
    } finally {
      busy = false;
    }
  }

  /** Start the hinted prefetch once the worker has been idle for PREFETCH_IDLE_MS. */
  function schedulePrefetch(): void {
    if (prefetchFor === null || !deps.prefetch) return;
    if (prefetchTimer) clearTimeout(prefetchTimer);
    prefetchTimer = setTimeout(() => {
      prefetchTimer = null;
      void runPrefetch();
    }, PREFETCH_IDLE_MS);
  }

  async function runPrefetch(): Promise<void> {
    const seed = prefetchFor;
    if (seed === null || !model || !deps.prefetch || prefetching) return;
    if (busy || pending.size > 0) return; // the UI hints again after its next draw
    prefetching = true;
    let stopped = false;
    const stop = () => (stopped ||= busy || pending.size > 0 || prefetchFor !== seed);
    try {
      await deps.prefetch(model, seed, stop);
    } catch {
      // a hint only: the sample computes whatever is missing
    } finally {
      prefetching = false;
    }
    if (!stopped && prefetchFor === seed) prefetchFor = null; // done
  }

  return {
    async handle(msg: WorkerRequest): Promise<void> {
      if (msg.type === 'init') {
        try {
          // The model downloads while the backend starts (they are independent).
          const [choice, loaded] = await Promise.all([
            deps.initBackend(msg.backend),
            deps.loadModel(msg.modelUrl),
          ]);
          model = loaded;
          post({
            type: 'ready',
            manifest: model.manifest,
            backend: choice.backend,
            backendReason: choice.reason,
          });
        } catch (e) {
          post({ type: 'initError', message: e instanceof Error ? e.message : String(e) });
        }
        return;
      }
      if (msg.type === 'prefetch') {
        prefetchFor = msg.seed;
        if (!busy && pending.size === 0) schedulePrefetch();
        return;
      }
      if (msg.type === 'sample') {
        if (prefetchTimer) clearTimeout(prefetchTimer);
        prefetchTimer = null;
        if (msg.seed === prefetchFor) prefetchFor = null; // the sample computes it now
        latest.set(msg.lane, Math.max(latest.get(msg.lane) ?? -Infinity, msg.id));
        const replaced = pending.get(msg.lane);
        if (replaced) post({ type: 'superseded', id: replaced.id });
        pending.set(msg.lane, msg); // a replaced request's lane keeps its turn
        if (!busy) await drain();
      }
    },
  };
}

/**
 * The worker's logic, free of worker globals so it can be unit-tested in Node.
 *
 * Superseding, per lane (protocol.ts): sampling is one request at a time. A request that
 * arrives while another runs waits in its lane's single slot; a newer one of the same lane
 * replaces it (the replaced one is answered 'superseded' without running). Waiting lanes are
 * served in the order they first queued, so two views take turns. The running request polls
 * `isStale` between stages and stops early when a newer request of its lane exists — its result
 * would be thrown away by the client anyway. Other lanes never make it stale.
 */
import {
  initBackend as defaultInitBackend,
  type BackendChoice,
  type BackendPreference,
} from './backends';
import { SupersededError } from './errors';
import { loadModel as defaultLoadModel, type Model } from './model/loadModel';
import type { WorkerRequest, WorkerResponse } from './protocol';
import { sample as defaultSample, type SampleOptions } from './sample';
import type { SampledVolume } from './types';

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
}

export function createWorkerHost(
  post: PostFn,
  deps: WorkerDeps = {
    initBackend: defaultInitBackend,
    loadModel: (u) => defaultLoadModel(u),
    sample: defaultSample,
  },
) {
  let model: Model | null = null;
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
      if (msg.type === 'sample') {
        latest.set(msg.lane, Math.max(latest.get(msg.lane) ?? -Infinity, msg.id));
        const replaced = pending.get(msg.lane);
        if (replaced) post({ type: 'superseded', id: replaced.id });
        pending.set(msg.lane, msg); // a replaced request's lane keeps its turn
        if (!busy) await drain();
      }
    },
  };
}

/**
 * The worker's logic, free of worker globals so it can be unit-tested in Node.
 *
 * Superseding: sampling is one request at a time. A request that arrives while another runs
 * waits in a single slot; a newer one replaces it (the replaced one is answered 'superseded'
 * without running). The running one polls `isStale` between stages and stops early when a newer
 * request exists — its result would be thrown away by the client anyway.
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
  let pending: Extract<WorkerRequest, { type: 'sample' }> | null = null;
  let busy = false;
  let latestId = -Infinity;

  async function drain(): Promise<void> {
    busy = true;
    try {
      while (pending) {
        const req = pending;
        pending = null;
        try {
          if (!model) throw new Error('The engine is not initialised (no model loaded)');
          const volume = await deps.sample(model, req.conditions, req.seed, {
            isStale: () => req.id !== latestId,
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
        latestId = Math.max(latestId, msg.id);
        if (pending) post({ type: 'superseded', id: pending.id });
        pending = msg;
        if (!busy) await drain();
      }
    },
  };
}

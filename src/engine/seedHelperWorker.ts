/// <reference lib="webworker" />
/**
 * Entry of the seed helper worker (render/seedHelper.ts), created by the engine worker
 * (worker.ts): computes a seed's fields and folding table and transfers them back.
 */
import { runSeedJob, type SeedJobRequest } from './render/seedHelper';

const scope = self as unknown as DedicatedWorkerGlobalScope;
scope.onmessage = (e: MessageEvent<SeedJobRequest>) => {
  runSeedJob(e.data, (msg, transfer) => scope.postMessage(msg, transfer));
};

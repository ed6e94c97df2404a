/// <reference lib="webworker" />
/**
 * Entry of the seed helper worker (render/seedHelper.ts), created by the engine worker
 * (worker.ts): computes a seed's fields and folding table, or a slab of the warp, and transfers
 * the results back.
 */
import { runHelperRequest, type HelperRequest } from './render/seedHelper';

const scope = self as unknown as DedicatedWorkerGlobalScope;
scope.onmessage = (e: MessageEvent<HelperRequest>) => {
  runHelperRequest(e.data, (msg, transfer) => scope.postMessage(msg, transfer));
};

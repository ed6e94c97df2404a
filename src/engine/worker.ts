/// <reference lib="webworker" />
/**
 * Web Worker entry: sampling runs here so the UI thread stays responsive.
 * Created by EngineClient with `new Worker(new URL('./worker.ts', import.meta.url), {type: 'module'})`.
 */
import type { WorkerRequest } from './protocol';
import { createWorkerHost } from './workerHost';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const host = createWorkerHost((msg, transfer) => scope.postMessage(msg, transfer ?? []));
scope.onmessage = (e: MessageEvent<WorkerRequest>) => {
  void host.handle(e.data);
};

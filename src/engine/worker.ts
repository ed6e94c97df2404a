/// <reference lib="webworker" />
/**
 * Web Worker entry: sampling runs here so the UI thread stays responsive.
 * Created by EngineClient with `new Worker(new URL('./worker.ts', import.meta.url), {type: 'module'})`.
 */
import type { WorkerRequest } from './protocol';
import { createWorkerHost } from './workerHost';
import { setSeedHelper, startSeedHelper, type SeedWorkerLike } from './render/seedHelper';

const scope = self as unknown as DedicatedWorkerGlobalScope;
// The seed-only work of a sample runs in a second worker (render/seedHelper.ts), made on first use.
setSeedHelper(
  () =>
    new Worker(new URL('./seedHelperWorker.ts', import.meta.url), {
      type: 'module',
    }) as unknown as SeedWorkerLike,
);
startSeedHelper();
const host = createWorkerHost((msg, transfer) => scope.postMessage(msg, transfer ?? []));
scope.onmessage = (e: MessageEvent<WorkerRequest>) => {
  void host.handle(e.data);
};

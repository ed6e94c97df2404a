/** Decode a user's NIfTI in a fresh worker (uploadWorker.ts); the worker ends with the reply. */
import type { PreparedUpload } from './upload';
import type { UploadReply } from './uploadWorker';

export function decodeInWorker(bytes: ArrayBuffer): Promise<PreparedUpload> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./uploadWorker.ts', import.meta.url), { type: 'module' });
    const done = () => worker.terminate();
    worker.onmessage = (e: MessageEvent<UploadReply>) => {
      done();
      if (e.data.ok) resolve(e.data.upload);
      else reject(new Error(e.data.error));
    };
    worker.onerror = (e) => {
      done();
      reject(new Error(`the file decoder failed (${e.message || 'worker error'})`));
    };
    worker.postMessage({ bytes }, [bytes]);
  });
}

/**
 * Web Worker: decode (gunzip + parse) and prepare (upload.ts) a user's NIfTI off the main
 * thread. In: { bytes: ArrayBuffer } (transferred). Out: { ok: true, upload } with the voxel
 * buffer transferred, or { ok: false, error } with a readable message.
 */
import { parseNifti } from '../engine/nifti';
import { prepareUpload, type PreparedUpload } from './upload';

export type UploadReply = { ok: true; upload: PreparedUpload } | { ok: false; error: string };

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<{ bytes: ArrayBuffer }>) => void) | null;
  postMessage(msg: UploadReply, transfer?: Transferable[]): void;
};

scope.onmessage = (e) => {
  try {
    const upload = prepareUpload(parseNifti(new Uint8Array(e.data.bytes)));
    scope.postMessage({ ok: true, upload }, [upload.data.buffer]);
  } catch (err) {
    scope.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) });
  }
};

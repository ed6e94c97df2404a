/**
 * Bulk arrays (MODEL_FORMAT.md §1–2): gzip-compressed raw little-endian binary; dtype and shape
 * come from the manifest. Integer arrays with a `scale` decode to float32 `value · scale[i]`
 * (i = index along the first axis); arrays without one keep their integer type.
 */
import { gunzipSync } from 'fflate';
import type { ArrayDtype, ArraySpec } from './manifest';

export type DecodedArray =
  Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array | Float32Array;

const BYTES: Record<ArrayDtype, number> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  int32: 4,
  float32: 4,
};

/** True for gzip data (magic 1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export function decodeArray(name: string, spec: ArraySpec, fileBytes: Uint8Array): DecodedArray {
  let raw: Uint8Array;
  try {
    raw = isGzip(fileBytes) ? gunzipSync(fileBytes) : fileBytes;
  } catch (e) {
    throw new Error(
      `Model array '${name}' (${spec.file}) is not valid gzip: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const expectedBytes = count * BYTES[spec.dtype];
  if (raw.byteLength !== expectedBytes) {
    throw new Error(
      `Model array '${name}' (${spec.file}) has ${raw.byteLength} bytes, expected ${expectedBytes} ` +
        `(${spec.dtype} × [${spec.shape.join(', ')}])`,
    );
  }
  // Typed-array views need an aligned offset; copy when the decompressor hands us a sub-view.
  const aligned = raw.byteOffset % 4 === 0 ? raw : raw.slice();
  const buf = aligned.buffer;
  const off = aligned.byteOffset;
  // All browsers and Node run little-endian, which is the file byte order (§1), so plain views
  // are correct; we do not support big-endian hosts.
  let typed: DecodedArray;
  switch (spec.dtype) {
    case 'uint8':
      typed = new Uint8Array(buf, off, count);
      break;
    case 'int8':
      typed = new Int8Array(buf, off, count);
      break;
    case 'uint16':
      typed = new Uint16Array(buf, off, count);
      break;
    case 'int16':
      typed = new Int16Array(buf, off, count);
      break;
    case 'int32':
      typed = new Int32Array(buf, off, count);
      break;
    case 'float32':
      typed = new Float32Array(buf, off, count);
      break;
  }
  if (spec.scale === undefined) return typed;
  return applyScale(typed, spec.scale, spec.shape[0]);
}

function applyScale(src: DecodedArray, scale: number | number[], components: number): Float32Array {
  const out = new Float32Array(src.length);
  const per = src.length / components;
  for (let c = 0; c < components; c++) {
    const s = typeof scale === 'number' ? scale : scale[c];
    const start = c * per;
    for (let i = start; i < start + per; i++) out[i] = src[i] * s;
  }
  return out;
}

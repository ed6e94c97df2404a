/**
 * NIfTI-1 I/O.
 *
 * Writing: the 348-byte header is written by hand. nifti-reader-js only reads, NiiVue's writer
 * (NVImage.createNiftiArray) lives in a DOM/WebGL viewer package we do not want in the engine
 * (which also runs in workers and Node), and no maintained pure-TS NIfTI writer without DOM
 * exists; the format is small and fixed, and the tests read our files back with
 * nifti-reader-js to prove them valid.
 * Reading (user-supplied files) goes through nifti-reader-js, wrapped with clear errors.
 */
import { gzipSync } from 'fflate';
import * as nifti from 'nifti-reader-js';
import type { SampledVolume } from './types';

export type NiftiKind = 'image' | 'labels';

const DT_UINT8 = 2;
const DT_INT16 = 4;
const DT_INT32 = 8;
const DT_FLOAT32 = 16;
const DT_FLOAT64 = 64;
const DT_INT8 = 256;
const DT_UINT16 = 512;
const DT_UINT32 = 768;
const NIFTI_INTENT_LABEL = 1002;
const XFORM_SCANNER_ANAT = 1;
const UNITS_MM = 2;

export interface NiftiWriteInput {
  dims: [number, number, number];
  affine: number[][];
  data: Float32Array | Int16Array;
  description?: string;
  intentCode?: number;
  intentName?: string;
}

/** Quaternion parameters of the rotation part of `affine` (nifti1_io's nifti_mat44_to_quatern). */
export function affineToQuatern(affine: number[][]): {
  b: number;
  c: number;
  d: number;
  qfac: number;
  pixdim: [number, number, number];
  offset: [number, number, number];
} {
  const col = (j: number) => [affine[0][j], affine[1][j], affine[2][j]];
  const cols = [col(0), col(1), col(2)];
  const pixdim = cols.map((v) => Math.hypot(v[0], v[1], v[2]) || 1) as [number, number, number];
  const r = cols.map((v, j) => v.map((x) => x / pixdim[j])); // r[j][i] = R(i, j)
  const R = (i: number, j: number) => r[j][i];
  const det =
    R(0, 0) * (R(1, 1) * R(2, 2) - R(1, 2) * R(2, 1)) -
    R(0, 1) * (R(1, 0) * R(2, 2) - R(1, 2) * R(2, 0)) +
    R(0, 2) * (R(1, 0) * R(2, 1) - R(1, 1) * R(2, 0));
  const qfac = det < 0 ? -1 : 1;
  if (qfac < 0) r[2] = r[2].map((x) => -x);
  const r11 = R(0, 0),
    r12 = R(0, 1),
    r13 = R(0, 2);
  const r21 = R(1, 0),
    r22 = R(1, 1),
    r23 = R(1, 2);
  const r31 = R(2, 0),
    r32 = R(2, 1),
    r33 = R(2, 2);
  let a = r11 + r22 + r33 + 1;
  let b: number;
  let c: number;
  let d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { b, c, d, qfac, pixdim, offset: [affine[0][3], affine[1][3], affine[2][3]] };
}

/** Uncompressed NIfTI-1 bytes (.nii). */
export function encodeNifti(input: NiftiWriteInput): Uint8Array {
  const { dims, affine, data } = input;
  const nvox = dims[0] * dims[1] * dims[2];
  if (data.length !== nvox)
    throw new Error(`NIfTI data has ${data.length} values, dims need ${nvox}`);
  const isFloat = data instanceof Float32Array;
  const bytesPer = isFloat ? 4 : 2;
  const voxOffset = 352;
  const out = new Uint8Array(voxOffset + nvox * bytesPer);
  const v = new DataView(out.buffer);
  const le = true;
  v.setInt32(0, 348, le); // sizeof_hdr
  out[38] = 'r'.charCodeAt(0); // regular
  v.setInt16(40, 3, le); // dim[0]
  v.setInt16(42, dims[0], le);
  v.setInt16(44, dims[1], le);
  v.setInt16(46, dims[2], le);
  for (let i = 4; i < 8; i++) v.setInt16(40 + 2 * i, 1, le);
  v.setInt16(68, input.intentCode ?? 0, le);
  v.setInt16(70, isFloat ? DT_FLOAT32 : DT_INT16, le);
  v.setInt16(72, bytesPer * 8, le); // bitpix
  const q = affineToQuatern(affine);
  v.setFloat32(76, q.qfac, le); // pixdim[0] = qfac
  v.setFloat32(80, q.pixdim[0], le);
  v.setFloat32(84, q.pixdim[1], le);
  v.setFloat32(88, q.pixdim[2], le);
  for (let i = 4; i < 8; i++) v.setFloat32(76 + 4 * i, 1, le);
  v.setFloat32(108, voxOffset, le);
  v.setFloat32(112, 1, le); // scl_slope
  v.setFloat32(116, 0, le); // scl_inter
  out[123] = UNITS_MM; // xyzt_units: mm, time unknown
  if (!isFloat) {
    let max = 0;
    for (let i = 0; i < data.length; i++) if (data[i] > max) max = data[i];
    v.setFloat32(124, max, le); // cal_max: the label range, for viewers
  }
  writeString(out, 148, 80, input.description ?? '');
  v.setInt16(252, XFORM_SCANNER_ANAT, le); // qform_code
  v.setInt16(254, XFORM_SCANNER_ANAT, le); // sform_code
  v.setFloat32(256, q.b, le);
  v.setFloat32(260, q.c, le);
  v.setFloat32(264, q.d, le);
  v.setFloat32(268, q.offset[0], le);
  v.setFloat32(272, q.offset[1], le);
  v.setFloat32(276, q.offset[2], le);
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 4; c++) v.setFloat32(280 + 16 * r + 4 * c, affine[r][c], le);
  writeString(out, 328, 16, input.intentName ?? '');
  writeString(out, 344, 4, 'n+1\0');
  // bytes 348..351: extension flag = 0 (no extensions), already zero.
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), voxOffset);
  return out;
}

function writeString(out: Uint8Array, offset: number, max: number, s: string): void {
  for (let i = 0; i < Math.min(s.length, max - 1); i++) {
    const code = s.charCodeAt(i);
    out[offset + i] = code < 128 ? code : 63; // '?' for non-ASCII
  }
}

/** Gzipped NIfTI-1 (.nii.gz) of the image (float32) or the label map (int16 label values). */
export function toNifti(volume: SampledVolume, kind: NiftiKind): Uint8Array {
  const m = volume.metadata;
  const description = `brainsynth ${m.modelId} ${m.modelVersion} seed ${m.seed}`;
  const raw = encodeNifti({
    dims: volume.dims,
    affine: volume.affine,
    data: kind === 'image' ? volume.image : volume.labels,
    description,
    intentCode: kind === 'labels' ? NIFTI_INTENT_LABEL : 0,
    intentName: kind === 'labels' ? 'labels' : '',
  });
  return gzipSync(raw, { level: 6 });
}

export type NiftiData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

export interface ParsedNifti {
  /** [nx, ny, nz] (+ further dims if present). */
  dims: number[];
  /** mm */
  spacing: number[];
  /** voxel → world, row-major 4×4 (sform if set, else qform, else scaling). */
  affine: number[][];
  datatypeCode: number;
  /** Voxel values, x fastest; scaled by scl_slope/scl_inter when the file asks for it. */
  data: NiftiData;
  description: string;
  intentCode: number;
  qformCode: number;
  sformCode: number;
}

/** Largest file the app accepts (decompressed), to fail clearly instead of exhausting memory. */
export const MAX_NIFTI_BYTES = 1024 * 1024 * 1024;

/** Parse .nii or .nii.gz bytes. Throws an Error with a readable message for bad input. */
export function parseNifti(bytes: Uint8Array): ParsedNifti {
  if (bytes.byteLength < 4)
    throw new Error('Not a NIfTI file: only ' + bytes.byteLength + ' bytes');
  let buf = bytes.buffer.slice(
    bytes.byteOffset,
    bytes.byteOffset + bytes.byteLength,
  ) as ArrayBuffer;
  if (nifti.isCompressed(buf)) {
    try {
      buf = nifti.decompress(buf) as ArrayBuffer;
    } catch (e) {
      throw new Error(
        `Corrupt gzip data in NIfTI file: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  if (buf.byteLength < 348 || !nifti.isNIFTI(buf)) {
    throw new Error('Not a NIfTI-1/2 file (missing header or magic "n+1"/"ni1")');
  }
  let header: nifti.NIFTI1 | nifti.NIFTI2;
  try {
    header = nifti.readHeader(buf);
  } catch (e) {
    throw new Error(`Unreadable NIfTI header: ${e instanceof Error ? e.message : String(e)}`);
  }
  const ndim = header.dims[0];
  if (!(ndim >= 1 && ndim <= 7))
    throw new Error(`Invalid NIfTI header: dim[0] = ${ndim} (must be 1..7)`);
  const dims = header.dims.slice(1, ndim + 1);
  if (dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(
      `Invalid NIfTI header: dimensions [${dims.join(', ')}] must be positive integers`,
    );
  }
  const nvox = dims.reduce((a, b) => a * b, 1);
  const bytesPer = BYTES_PER[header.datatypeCode];
  if (!bytesPer)
    throw new Error(
      `Unsupported NIfTI datatype ${header.datatypeCode} (supported: integer and float scalars)`,
    );
  const need = nvox * bytesPer;
  if (need > MAX_NIFTI_BYTES)
    throw new Error(
      `NIfTI image too large: ${need} bytes of voxel data (limit ${MAX_NIFTI_BYTES})`,
    );
  const offset = Math.max(header.vox_offset, 348);
  if (buf.byteLength < offset + need) {
    throw new Error(
      `Truncated NIfTI file: expected ${need} bytes of voxel data after offset ${offset}, found ${Math.max(0, buf.byteLength - offset)}`,
    );
  }
  const raw = new Uint8Array(buf.slice(offset, offset + need));
  if (!header.littleEndian && bytesPer > 1) swapBytes(raw, bytesPer);
  let data = typedView(header.datatypeCode, raw.buffer, nvox);
  const slope = header.scl_slope;
  const inter = header.scl_inter;
  if (
    Number.isFinite(slope) &&
    slope !== 0 &&
    (slope !== 1 || (Number.isFinite(inter) && inter !== 0))
  ) {
    const scaled = new Float32Array(nvox);
    for (let i = 0; i < nvox; i++)
      scaled[i] = data[i] * slope + (Number.isFinite(inter) ? inter : 0);
    data = scaled;
  }
  return {
    dims,
    spacing: header.pixDims.slice(1, ndim + 1),
    affine: header.affine.map((row) => row.slice()),
    datatypeCode: header.datatypeCode,
    data,
    description: header.description,
    intentCode: header.intent_code,
    qformCode: header.qform_code,
    sformCode: header.sform_code,
  };
}

const BYTES_PER: Record<number, number> = {
  [DT_UINT8]: 1,
  [DT_INT8]: 1,
  [DT_INT16]: 2,
  [DT_UINT16]: 2,
  [DT_INT32]: 4,
  [DT_UINT32]: 4,
  [DT_FLOAT32]: 4,
  [DT_FLOAT64]: 8,
};

function typedView(code: number, buf: ArrayBufferLike, n: number): NiftiData {
  switch (code) {
    case DT_UINT8:
      return new Uint8Array(buf, 0, n);
    case DT_INT8:
      return new Int8Array(buf, 0, n);
    case DT_INT16:
      return new Int16Array(buf, 0, n);
    case DT_UINT16:
      return new Uint16Array(buf, 0, n);
    case DT_INT32:
      return new Int32Array(buf, 0, n);
    case DT_UINT32:
      return new Uint32Array(buf, 0, n);
    case DT_FLOAT32:
      return new Float32Array(buf, 0, n);
    default:
      return new Float64Array(buf, 0, n);
  }
}

function swapBytes(b: Uint8Array, size: number): void {
  for (let i = 0; i < b.length; i += size) {
    for (let j = 0; j < size / 2; j++) {
      const t = b[i + j];
      b[i + j] = b[i + size - 1 - j];
      b[i + size - 1 - j] = t;
    }
  }
}

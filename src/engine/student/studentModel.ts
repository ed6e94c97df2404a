/**
 * The distilled student (docs/MODEL.md "Student"): `student/model.json` in TensorFlow.js
 * weights format (custom topology, the forward pass is ours — see forward.ts) + its binary
 * shard. Dense layers are float32; decoder fields may be quantised with tfjs's convention
 * `quantization: {dtype: 'uint8' | 'uint16', min, scale}` (value = q · scale + min). Shards may
 * be gzip-compressed (detected by their magic bytes).
 */
import { gunzipSync } from 'fflate';
import type { FetchFn } from '../model/fetch';
import type { Grid } from '../model/grid';

export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; min?: number; scale?: number };
}

export interface StudentModelJson {
  format: string;
  modelTopology: {
    input: { names: string[]; size: number };
    layers: {
      name: string;
      units: number;
      activation: 'tanh' | 'linear' | 'relu';
      kernel: string;
      bias: string;
    }[];
    decoder: { components: number; basis: string[]; mean: string; velocityGridShape: number[] };
  };
  weightsManifest: { paths: string[]; weights: WeightEntry[] }[];
}

export interface DenseLayer {
  /** [in, out], row-major. */
  kernel: Float32Array;
  bias: Float32Array;
  inputs: number;
  units: number;
  activation: 'tanh' | 'linear' | 'relu';
}

export interface Student {
  /** Feature names in input order (z0…, age, male, adSeverity, strokeSize, gain0…). */
  features: string[];
  layers: DenseLayer[];
  /** [M, 3·Nv]: decoder components as planes (dx, dy, dz), x fastest (the velocity layout). */
  basis: Float32Array;
  /** [3·Nv] */
  mean: Float32Array;
  components: number;
  /** Number of velocity-grid points Nv. */
  points: number;
}

export const STUDENT_FORMAT = 'brainsynth-student/1';

/** Decode every weight of a tfjs weights manifest group from its (concatenated) shard bytes. */
export function decodeWeights(
  entries: WeightEntry[],
  bytes: Uint8Array,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 0;
  for (const e of entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const q = e.quantization;
    const arr = new Float32Array(n);
    const width = q ? (q.dtype === 'uint8' ? 1 : 2) : 4;
    if (off + n * width > bytes.byteLength) {
      throw new Error(
        `Student weights: '${e.name}' runs past the end of the shard (${bytes.byteLength} bytes)`,
      );
    }
    if (!q) {
      if (e.dtype !== 'float32')
        throw new Error(`Student weights: '${e.name}' has dtype ${e.dtype}, expected float32`);
      for (let i = 0; i < n; i++) arr[i] = view.getFloat32(off + 4 * i, true);
    } else if (q.dtype === 'uint8' || q.dtype === 'uint16') {
      const scale = Math.fround(q.scale ?? 1);
      const min = Math.fround(q.min ?? 0);
      for (let i = 0; i < n; i++) {
        const v = q.dtype === 'uint8' ? bytes[off + i] : view.getUint16(off + 2 * i, true);
        arr[i] = Math.fround(v * scale) + min;
      }
    } else {
      throw new Error(`Student weights: quantization '${q.dtype}' is not supported`);
    }
    off += n * width;
    out.set(e.name, arr);
  }
  if (off !== bytes.byteLength) {
    throw new Error(
      `Student shard has ${bytes.byteLength} bytes, the weights manifest describes ${off}`,
    );
  }
  return out;
}

function inflate(bytes: Uint8Array): Uint8Array {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
}

/** Build a Student from model.json and its shard files (keyed by path), checking shapes. */
export function studentFromFiles(
  json: unknown,
  files: Record<string, Uint8Array>,
  velocityGrid: Grid,
): Student {
  const mj = json as StudentModelJson;
  if (!mj || mj.format !== STUDENT_FORMAT) {
    throw new Error(
      `student/model.json: format must be '${STUDENT_FORMAT}' (got ${JSON.stringify(mj?.format)})`,
    );
  }
  const weights = new Map<string, Float32Array>();
  for (const group of mj.weightsManifest) {
    const parts = group.paths.map((p) => {
      const b = files[p];
      if (!b) throw new Error(`Student shard '${p}' is missing`);
      return inflate(b);
    });
    const total = parts.reduce((a, b) => a + b.length, 0);
    const all = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    for (const [k, v] of decodeWeights(group.weights, all)) weights.set(k, v);
  }
  const get = (name: string): Float32Array => {
    const w = weights.get(name);
    if (!w) throw new Error(`Student weights: '${name}' is missing`);
    return w;
  };
  const topo = mj.modelTopology;
  const features = topo.input.names;
  let inputs = features.length;
  const layers: DenseLayer[] = topo.layers.map((l) => {
    const kernel = get(l.kernel);
    const bias = get(l.bias);
    if (kernel.length !== inputs * l.units || bias.length !== l.units) {
      throw new Error(
        `Student layer ${l.name}: kernel/bias sizes do not match ${inputs}→${l.units}`,
      );
    }
    const layer: DenseLayer = { kernel, bias, inputs, units: l.units, activation: l.activation };
    inputs = l.units;
    return layer;
  });
  const M = topo.decoder.components;
  if (inputs !== M || topo.decoder.basis.length !== M) {
    throw new Error(`Student decoder: ${M} components, but the last layer has ${inputs} units`);
  }
  const nv = velocityGrid.count;
  const [vx, vy, vz] = topo.decoder.velocityGridShape;
  if (
    vx !== velocityGrid.shape[0] ||
    vy !== velocityGrid.shape[1] ||
    vz !== velocityGrid.shape[2]
  ) {
    throw new Error(
      `Student decoder grid ${JSON.stringify(topo.decoder.velocityGridShape)} differs from the model's velocity grid ${JSON.stringify(velocityGrid.shape)}`,
    );
  }
  const basis = new Float32Array(M * 3 * nv);
  topo.decoder.basis.forEach((name, m) => {
    const b = get(name);
    if (b.length !== 3 * nv)
      throw new Error(`Student decoder '${name}' has ${b.length} values, expected ${3 * nv}`);
    basis.set(b, m * 3 * nv);
  });
  const mean = get(topo.decoder.mean);
  if (mean.length !== 3 * nv)
    throw new Error(`Student decoder mean has ${mean.length} values, expected ${3 * nv}`);
  return { features, layers, basis, mean, components: M, points: nv };
}

/** Fetch `<base><file>` (model.json) and its shards. */
export async function loadStudent(
  base: string,
  file: string,
  velocityGrid: Grid,
  fetchFn: FetchFn,
): Promise<Student> {
  const url = `${base}${file}`;
  const dir = url.slice(0, url.lastIndexOf('/') + 1);
  const res = await fetchFn(url);
  if (!res.ok) throw new Error(`Could not fetch ${url}: HTTP ${res.status}`);
  const json = (await res.json()) as StudentModelJson;
  const files: Record<string, Uint8Array> = {};
  await Promise.all(
    (json.weightsManifest ?? []).flatMap((g) =>
      g.paths.map(async (p) => {
        const r = await fetchFn(`${dir}${p}`);
        if (!r.ok) throw new Error(`Could not fetch ${dir}${p}: HTTP ${r.status}`);
        files[p] = new Uint8Array(await r.arrayBuffer());
      }),
    ),
  );
  return studentFromFiles(json, files, velocityGrid);
}

/**
 * Loading a model folder (MODEL_FORMAT.md §1): manifest.json + gzip arrays → `Model`.
 * The Model holds plain typed arrays (backend-independent, so it can be built before a tfjs
 * backend is chosen); the sampler turns them into tensors lazily (sampler/modelTensors.ts).
 */
import type { DecodedArray } from './decodeArray';
import type { FetchFn } from './fetch';
import { decodeArray } from './decodeArray';
import type { ModelManifest } from './manifest';
import { buildLabelTable, type LabelTable } from './labelTable';
import { gridFromSpec, type Grid } from './grid';
import { validateManifest } from './validateManifest';
import { loadStudent, type Student } from '../student/studentModel';

export interface ModelArrays {
  /** Label indices of the template, NIfTI order. */
  templateLabels: Uint8Array | Int16Array;
  /** [K, nz, ny, nx, 3] mm per unit latent (decoded with scale, not yet times sigma). */
  shapeComponents: Float32Array;
  /** [R, nz, ny, nx, 3] mm per unit gain. */
  regionalBasis: Float32Array;
  /** Probability per template voxel (0..1), NIfTI order. */
  msLesionPrior?: Float32Array;
  /** Territory code per template voxel, NIfTI order. */
  territories?: Uint8Array;
  /** Stroke lesion log-frequency per template voxel, 40·ln((f + 0.01)/0.01) (§4). */
  strokeLogFrequency?: Uint8Array;
  /** Depth (mm) below the template's brain hull per template voxel (step 7b), NIfTI order. */
  corticalDepth?: Float32Array;
  /** Step 4b's local-field amplitude (mm) per velocity-grid node, x fastest. */
  localFieldMask?: Float32Array;
}

export interface Model {
  manifest: ModelManifest;
  labels: LabelTable;
  grid: Grid;
  velocityGrid: Grid;
  arrays: ModelArrays;
  /** The distilled student (manifest `student`), when the model ships one. */
  student?: Student;
}

export type { FetchFn } from './fetch';

/** Load `<baseUrl>/manifest.json` and its arrays. */
export async function loadModel(
  baseUrl: string,
  fetchFn: FetchFn = (u) => fetch(u),
): Promise<Model> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const manifestUrl = `${base}manifest.json`;
  const manifestJson = await fetchJson(fetchFn, manifestUrl);
  const manifest = validateManifest(manifestJson, manifestUrl);
  const entries = Object.entries(manifest.arrays).filter(([name]) => name in ARRAY_KINDS);
  const files: Record<string, Uint8Array> = {};
  // The arrays and the student's weights are fetched together (they are independent).
  const velocityGrid = gridFromSpec(manifest.velocityGrid);
  const [, student] = await Promise.all([
    Promise.all(
      entries.map(async ([, spec]) => {
        if (spec) files[spec.file] = await fetchBytes(fetchFn, `${base}${spec.file}`);
      }),
    ),
    manifest.student?.file
      ? loadStudent(base, manifest.student.file, velocityGrid, fetchFn)
      : Promise.resolve(undefined),
  ]);
  const model = modelFromFiles(manifest, files, manifestUrl);
  if (student) model.student = student;
  return model;
}

/**
 * Build a Model from an already-parsed manifest and its files (keyed by file name; gzip or
 * raw bytes). Used by tests and by anything that has the files in memory.
 */
export function modelFromFiles(
  manifestInput: unknown,
  files: Record<string, Uint8Array>,
  source = 'manifest.json',
): Model {
  const manifest = validateManifest(manifestInput, source);
  const decode = (name: keyof typeof ARRAY_KINDS): DecodedArray | undefined => {
    const spec = manifest.arrays[name];
    if (!spec) return undefined;
    const bytes = files[spec.file];
    if (!bytes) throw new Error(`Model file '${spec.file}' (arrays.${name}) is missing`);
    return decodeArray(name, spec, bytes);
  };
  const templateLabels = decode('templateLabels');
  if (!(templateLabels instanceof Uint8Array || templateLabels instanceof Int16Array)) {
    throw new Error('arrays.templateLabels must decode to uint8 or int16 label indices (no scale)');
  }
  let maxIdx = 0;
  for (let i = 0; i < templateLabels.length; i++)
    if (templateLabels[i] > maxIdx) maxIdx = templateLabels[i];
  if (maxIdx >= manifest.labels.length) {
    throw new Error(
      `templateLabels holds label index ${maxIdx}, but the label table has ${manifest.labels.length} labels`,
    );
  }
  const arrays: ModelArrays = {
    templateLabels,
    shapeComponents: asFloat32('shapeComponents', decode('shapeComponents')),
    regionalBasis: asFloat32('regionalBasis', decode('regionalBasis')),
  };
  const prior = decode('msLesionPrior');
  if (prior) arrays.msLesionPrior = asFloat32('msLesionPrior', prior);
  const territories = decode('territories');
  if (territories) {
    if (!(territories instanceof Uint8Array))
      throw new Error('arrays.territories must be uint8 without scale');
    arrays.territories = territories;
  }
  const logFrequency = decode('strokeLogFrequency');
  if (logFrequency) {
    if (!(logFrequency instanceof Uint8Array))
      throw new Error('arrays.strokeLogFrequency must be uint8 without scale');
    arrays.strokeLogFrequency = logFrequency;
  }
  const depth = decode('corticalDepth');
  if (depth) arrays.corticalDepth = asFloat32('corticalDepth', depth);
  const localMask = decode('localFieldMask');
  if (localMask) {
    if (localMask.length !== gridFromSpec(manifest.velocityGrid).count)
      throw new Error('arrays.localFieldMask must have one value per velocity-grid node');
    arrays.localFieldMask = asFloat32('localFieldMask', localMask);
  }
  return {
    manifest,
    labels: buildLabelTable(manifest.labels),
    grid: gridFromSpec(manifest.grid),
    velocityGrid: gridFromSpec(manifest.velocityGrid),
    arrays,
  };
}

/** Arrays the shape-model sampler reads (others in `arrays` are ignored by this engine). */
const ARRAY_KINDS = {
  templateLabels: true,
  shapeComponents: true,
  regionalBasis: true,
  msLesionPrior: true,
  territories: true,
  strokeLogFrequency: true,
  corticalDepth: true,
  localFieldMask: true,
} as const;

function asFloat32(name: string, a: DecodedArray | undefined): Float32Array {
  if (!a) throw new Error(`arrays.${name} is missing`);
  if (a instanceof Float32Array) return a;
  // An integer array without scale: treat the stored integers as the values.
  return Float32Array.from(a);
}

async function fetchOk(fetchFn: FetchFn, url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetchFn(url);
  } catch (e) {
    throw new Error(`Could not fetch ${url}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!res.ok)
    throw new Error(`Could not fetch ${url}: HTTP ${res.status} ${res.statusText}`.trim());
  return res;
}

async function fetchJson(fetchFn: FetchFn, url: string): Promise<unknown> {
  const res = await fetchOk(fetchFn, url);
  const text = await res.text();
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${url} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function fetchBytes(fetchFn: FetchFn, url: string): Promise<Uint8Array> {
  const res = await fetchOk(fetchFn, url);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Batch export in the browser: N subjects with covariates drawn from chosen ranges, sampled one
 * after another in the engine's worker lane `batch` (the page stays responsive), written as a
 * BIDS derivative dataset in one zip (fflate). File names, columns and sidecar keys follow the
 * Python dataset writer (brainsynth/datasets/bids.py, runner.py):
 *
 *   dataset_description.json   DatasetType "derivative", GeneratedBy brainsynth + version
 *   README, participants.tsv / participants.json, dseg.tsv (index, name)
 *   sub-XXXXX/anat/sub-XXXXX_<contrast>.nii.gz + .json (T1c: sub-XXXXX_ce-gadolinium_T1w), sub-XXXXX_dseg.nii.gz + .json
 *
 * `batchSubjects` (who is sampled) and `buildBidsZip` (the files) are pure; `BatchExport`
 * runs a batch with progress and Cancel, its state in stores/batchStore.ts.
 */
import { zipSync, type Zippable } from 'fflate';
import { mulberry32 } from '../engine/rng';
import type { Conditions, LabelInfo, SampledVolume } from '../engine/types';
import { controlSpec, isEnumProperty, type ConditionValues, type ConditionsSchema } from './schema';
import { createBatchStore, type BatchStore } from './stores/batchStore';

/** The most subjects one browser batch makes (each is a 2 mm volume held until zipped). */
export const MAX_BATCH = 50;
export const DEFAULT_BATCH = 10;
/** The worker lane of batch samples (never supersedes a view's request). */
export const BATCH_LANE = 'batch';
/** BIDS version the dataset declares (bids.py BIDS_VERSION). */
export const BIDS_VERSION = '1.9.0';
/** Pathology choice meaning "every pathology of the schema in turn". */
export const MIXED = 'mixed';

export interface BatchSpec {
  count: number;
  ageMin: number;
  ageMax: number;
  /** Share of female subjects, 0–1 (exactly round(share · count) are female). */
  femaleShare: number;
  /** A pathology id of the schema, or MIXED. Parameters are the schema's defaults. */
  pathology: string;
  contrast: string;
  /** Seed of the batch: subject i's covariates and seed depend on it and i only. */
  seed: number;
}

export interface BatchSubject {
  /** sub-00001 … (index from 1, five digits as in bids.py). */
  participantId: string;
  conditions: ConditionValues;
  seed: number;
}

export function participantId(index: number): string {
  return `sub-${String(index + 1).padStart(5, '0')}`;
}

function enumOf(schema: ConditionsSchema, name: string): string[] {
  const p = schema.properties[name];
  return p && isEnumProperty(p) ? p.enum : [];
}

/** Everything wrong with a batch spec, in words (empty: fine). */
export function batchProblems(spec: BatchSpec, schema: ConditionsSchema): string[] {
  const out: string[] = [];
  if (!Number.isInteger(spec.count) || spec.count < 1 || spec.count > MAX_BATCH)
    out.push(`Subjects must be a whole number from 1 to ${MAX_BATCH}`);
  const ageProp = schema.properties.age;
  if (ageProp && !isEnumProperty(ageProp)) {
    const a = controlSpec('age', ageProp);
    if (a.kind === 'number') {
      for (const [label, v] of [
        ['Youngest age', spec.ageMin],
        ['Oldest age', spec.ageMax],
      ] as const)
        if (!Number.isFinite(v) || v < a.min || v > a.max)
          out.push(`${label} must be between ${a.min} and ${a.max} years`);
    }
  }
  if (Number.isFinite(spec.ageMin) && Number.isFinite(spec.ageMax) && spec.ageMin > spec.ageMax)
    out.push('Youngest age must not be above the oldest');
  if (!Number.isFinite(spec.femaleShare) || spec.femaleShare < 0 || spec.femaleShare > 1)
    out.push('Share of women must be between 0 and 100 %');
  if (spec.pathology !== MIXED && !enumOf(schema, 'pathology').includes(spec.pathology))
    out.push(`Unknown pathology "${spec.pathology}"`);
  if (!enumOf(schema, 'contrast').includes(spec.contrast))
    out.push(`Unknown contrast "${spec.contrast}"`);
  if (!Number.isInteger(spec.seed) || spec.seed < 0 || spec.seed > 0xffffffff)
    out.push('Seed must be a whole number from 0 to 4294967295');
  return out;
}

/**
 * The subjects of a batch: ages uniform in [ageMin, ageMax] (whole years), exactly
 * round(femaleShare · count) women in random order, the pathology (MIXED: the schema's
 * pathologies in turn), each with its own seed. Deterministic in the spec.
 */
export function batchSubjects(
  spec: BatchSpec,
  schema: ConditionsSchema,
  defaults: ConditionValues,
): BatchSubject[] {
  const rng = mulberry32(spec.seed);
  const n = spec.count;
  const women = Math.round(spec.femaleShare * n);
  const sexes: string[] = Array.from({ length: n }, (_, i) => (i < women ? 'female' : 'male'));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [sexes[i], sexes[j]] = [sexes[j], sexes[i]];
  }
  const pathologies = spec.pathology === MIXED ? enumOf(schema, 'pathology') : [spec.pathology];
  return Array.from({ length: n }, (_, i) => {
    const age = Math.round(spec.ageMin + rng() * (spec.ageMax - spec.ageMin));
    const seed = Math.floor(rng() * 0x100000000) >>> 0;
    return {
      participantId: participantId(i),
      seed,
      conditions: {
        ...defaults,
        age,
        sex: sexes[i],
        pathology: pathologies[i % pathologies.length],
        contrast: spec.contrast,
      },
    };
  });
}

/** One sampled subject, ready to be written. */
export interface BatchEntry {
  participantId: string;
  index: number;
  seed: number;
  conditions: Conditions;
  contrast: string;
  /** .nii.gz bytes (the engine's toNifti). */
  image: Uint8Array;
  labels: Uint8Array;
  /** The engine's sidecar of the volume (sidecar.ts keys). */
  sidecar: Record<string, unknown>;
  icvMl: number | null;
  lesionMl: number;
}

export interface DatasetInfo {
  name: string;
  model: { id: string; version: string };
  softwareVersion: string;
  labels: LabelInfo[];
  spec: BatchSpec;
}

/** participants.json: the columns bids.py describes (PARTICIPANT_COLUMNS). */
export const PARTICIPANT_COLUMNS: Record<string, Record<string, unknown>> = {
  participant_id: { Description: 'subject label (sub-<index from 1>)' },
  age: { Description: 'age asked of the model', Units: 'year' },
  sex: { Description: 'sex asked of the model', Levels: { female: 'F', male: 'M' } },
  pathology: { Description: 'pathology asked of the model' },
  seed: { Description: "the engine's seed (derived from the batch seed and the index)" },
  icv_ml: { Description: 'measured intracranial volume of the label map', Units: 'mL' },
  lesion_ml: {
    Description: 'measured volume of all pathology labels (700-799: MS lesions, tumour, infarct)',
    Units: 'mL',
  },
};

function cell(v: unknown): string {
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'number')
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return String(v);
}

/** participants.tsv text (columns of PARTICIPANT_COLUMNS, one row per subject). */
export function participantsTsv(entries: BatchEntry[]): string {
  const cols = Object.keys(PARTICIPANT_COLUMNS);
  const rows = entries.map((e) =>
    [
      e.participantId,
      e.conditions.age,
      e.conditions.sex,
      e.conditions.pathology,
      e.seed,
      e.icvMl,
      e.lesionMl,
    ].map(cell),
  );
  return [cols, ...rows].map((r) => r.join('\t')).join('\n') + '\n';
}

/**
 * BIDS name (without extension) of a contrast's image, as brainsynth/datasets/bids.py
 * `image_name`: `<pid>_<contrast>`, except the post-contrast T1, which BIDS writes as a T1w with
 * the contrast-enhancement entity: `<pid>_ce-gadolinium_T1w`.
 */
export function bidsImageStem(participantId: string, contrast: string): string {
  return contrast === 'T1c' ? `${participantId}_ce-gadolinium_T1w` : `${participantId}_${contrast}`;
}

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v, null, 1) + '\n');
const text = (s: string) => new TextEncoder().encode(s);

/** The BIDS sidecar of one file: the keys runner.py writes, from the engine's sidecar. */
function bidsSidecar(e: BatchEntry, kind: 'image' | 'labels'): Record<string, unknown> {
  const s = e.sidecar;
  const head =
    kind === 'image'
      ? { Description: `synthetic ${e.contrast}`, SkullStripped: false }
      : { Description: 'label map: FreeSurfer label values, pathology 700-799' };
  return {
    ...head,
    Conditions: e.conditions,
    Seed: e.seed,
    SubjectIndex: e.index,
    ModelId: s.modelId,
    ModelVersion: s.modelVersion,
    SoftwareVersion: s.softwareVersion,
    Generator: s.generator,
    Sampler: s.sampler,
    Implementation: s.implementation,
    ResolutionMm: s.resolutionMm,
    RegionalVolumesMl: s.regionalVolumesMl,
    Pathology: s.pathology,
    IntendedUse: s.intendedUse,
  };
}

/** Every file of the dataset, path → bytes (paths inside the zip's top folder). */
export function bidsFiles(entries: BatchEntry[], info: DatasetInfo): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  files['dataset_description.json'] = json({
    Name: info.name,
    BIDSVersion: BIDS_VERSION,
    DatasetType: 'derivative',
    License: 'CC0',
    GeneratedBy: [
      {
        Name: 'brainsynth',
        Version: info.softwareVersion,
        Description: `synthetic brains from model ${info.model.id} ${info.model.version}, made in the browser (batch export)`,
      },
    ],
    HowToAcknowledge: 'Synthetic data for research and teaching. Not for diagnosis.',
  });
  files.README = text(
    `# ${info.name}\n\nSynthetic brain MRI generated in the browser by brainsynth ` +
      `${info.softwareVersion} from model ${info.model.id} ${info.model.version}. ` +
      `Batch: ${JSON.stringify(info.spec)}.\nResearch and teaching use only; not for diagnosis.\n`,
  );
  files['participants.tsv'] = text(participantsTsv(entries));
  files['participants.json'] = json(PARTICIPANT_COLUMNS);
  const labels = [...new Map(info.labels.map((l) => [l.value, l.name])).entries()].sort(
    (a, b) => a[0] - b[0],
  );
  files['dseg.tsv'] = text('index\tname\n' + labels.map(([v, n]) => `${v}\t${n}\n`).join(''));
  for (const e of entries) {
    const base = `${e.participantId}/anat/${e.participantId}`;
    const image = bidsImageStem(e.participantId, e.contrast);
    files[`${e.participantId}/anat/${image}.nii.gz`] = e.image;
    files[`${e.participantId}/anat/${image}.json`] = json(bidsSidecar(e, 'image'));
    files[`${base}_dseg.nii.gz`] = e.labels;
    files[`${base}_dseg.json`] = json(bidsSidecar(e, 'labels'));
  }
  return files;
}

/** The zip: every file under one folder `<name>/` (stored: the NIfTIs are gzipped already). */
export function buildBidsZip(entries: BatchEntry[], info: DatasetInfo): Uint8Array {
  const tree: Zippable = {};
  for (const [path, bytes] of Object.entries(bidsFiles(entries, info)))
    tree[`${info.name}/${path}`] = [bytes, { level: 0 }];
  return zipSync(tree);
}

/** Measured volumes of a sampled volume for participants.tsv. */
export function measuredVolumes(
  vol: SampledVolume,
  pathologyRange: [number, number],
): { icvMl: number | null; lesionMl: number } {
  const voxelMl = (vol.spacing[0] * vol.spacing[1] * vol.spacing[2]) / 1000;
  let lesion = 0;
  const [lo, hi] = pathologyRange;
  for (let i = 0; i < vol.labels.length; i++) {
    const l = vol.labels[i];
    if (l >= lo && l <= hi) lesion++;
  }
  const icv = vol.metadata.regionalVolumesMl?.icv;
  return {
    icvMl: Number.isFinite(icv) ? icv : null,
    lesionMl: Number((lesion * voxelMl).toFixed(3)),
  };
}

export interface BatchDeps {
  /** Sample in a worker lane (controller.sampleIn). */
  sampleIn(lane: string, values: ConditionValues, seed: number): Promise<SampledVolume>;
  toNifti(vol: SampledVolume, kind: 'image' | 'labels'): Uint8Array;
  sidecar(vol: SampledVolume): Record<string, unknown>;
  /** The loaded model's schema, defaults, labels, label ranges; null before it is loaded. */
  model(): {
    schema: ConditionsSchema;
    defaults: ConditionValues;
    id: string;
    version: string;
    labels: LabelInfo[];
    pathologyRange: [number, number];
  } | null;
  save(blob: Blob, name: string): void;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs one batch at a time; its state is `store` (progress, phase, error, the file made). */
export class BatchExport {
  readonly store: BatchStore = createBatchStore();
  private run = 0;
  /** The last zip made (its bytes, for a second download without sampling again). */
  private lastZip: { blob: Blob; name: string } | null = null;

  constructor(private readonly deps: BatchDeps) {}

  /** Start a batch; refused (with every reason) when the spec is wrong or one is running. */
  async start(spec: BatchSpec): Promise<void> {
    const model = this.deps.model();
    const st = this.store.getState();
    if (st.phase === 'running') return;
    if (!model) {
      this.store.setState({ phase: 'failed', error: 'The model is not loaded yet.' });
      return;
    }
    const problems = batchProblems(spec, model.schema);
    if (problems.length > 0) {
      this.store.setState({ phase: 'idle', problems, error: null });
      return;
    }
    const id = ++this.run;
    const subjects = batchSubjects(spec, model.schema, model.defaults);
    this.lastZip = null;
    this.store.setState({
      phase: 'running',
      total: subjects.length,
      done: 0,
      problems: [],
      error: null,
      fileName: null,
      subjects: subjects.map((s) => ({
        participantId: s.participantId,
        age: Number(s.conditions.age),
        sex: String(s.conditions.sex),
        pathology: String(s.conditions.pathology),
        seed: s.seed,
      })),
    });
    const entries: BatchEntry[] = [];
    try {
      for (const [index, s] of subjects.entries()) {
        const vol = await this.deps.sampleIn(BATCH_LANE, s.conditions, s.seed);
        if (id !== this.run) return; // cancelled (or replaced) meanwhile
        entries.push({
          participantId: s.participantId,
          index,
          seed: s.seed,
          conditions: vol.metadata.conditions,
          contrast: spec.contrast,
          image: this.deps.toNifti(vol, 'image'),
          labels: this.deps.toNifti(vol, 'labels'),
          sidecar: this.deps.sidecar(vol),
          ...measuredVolumes(vol, model.pathologyRange),
        });
        this.store.setState({ done: index + 1 });
        // let the page paint the progress between subjects
        await new Promise((r) => setTimeout(r, 0));
        if (id !== this.run) return;
      }
      const name = `brainsynth-batch-${spec.seed}`;
      const zip = buildBidsZip(entries, {
        name,
        model: { id: model.id, version: model.version },
        softwareVersion: String(entries[0]?.sidecar.softwareVersion ?? 'unknown'),
        labels: model.labels,
        spec,
      });
      const fileName = `${name}.zip`;
      this.lastZip = {
        blob: new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }),
        name: fileName,
      };
      this.store.setState({ phase: 'done', fileName, bytes: zip.byteLength });
      this.download();
    } catch (err) {
      if (id !== this.run) return;
      this.store.setState({ phase: 'failed', error: `Batch export failed: ${message(err)}` });
    }
  }

  /** Stop the running batch: the subject being sampled is dropped, nothing is saved. */
  cancel(): void {
    if (this.store.getState().phase !== 'running') return;
    this.run++;
    this.store.setState({ phase: 'cancelled' });
  }

  /** Save the last zip again. */
  download(): void {
    if (this.lastZip) this.deps.save(this.lastZip.blob, this.lastZip.name);
  }

  snapshot() {
    const s = this.store.getState();
    return {
      phase: s.phase,
      total: s.total,
      done: s.done,
      problems: [...s.problems],
      error: s.error,
      fileName: s.fileName,
      bytes: s.bytes,
      subjects: s.subjects.map((x) => ({ ...x })),
    };
  }
}

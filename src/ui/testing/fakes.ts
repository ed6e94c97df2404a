/**
 * Test doubles for the UI: a small conditions schema, a fake engine (deterministic volumes, no
 * tfjs) and a fake viewer (no WebGL). Used by unit tests only.
 */
import {
  BackendError,
  type BackendHealth,
  type DatasetStatus,
  type JobStatus,
  type SubmitJobInput,
} from '../../backend';
import { fakeJob } from '../../backend/testing';
import { DEFAULT_LANE } from '../../engine/protocol';
import type { Conditions, LabelInfo, SampledVolume, SamplerName } from '../../engine/types';
import type { CursorInfo, UserVolume, Vec3, ViewerLike } from '../../viewer/types';
import type { BackendClientLike } from '../backendApi';
import type { EngineApi, EngineClientLike, ModelManifest, ParsedNifti } from '../engineApi';
import type { ConditionsSchema } from '../schema';

export const smallSchema: ConditionsSchema = {
  type: 'object',
  required: ['age', 'sex', 'pathology'],
  'x-order': ['age', 'sex', 'pathology', 'adSeverity', 'msLesionLoadMl', 'contrast'],
  properties: {
    contrast: { title: 'Contrast', type: 'string', enum: ['T1w', 'T2w'], default: 'T1w' },
    age: {
      title: 'Age',
      type: 'number',
      minimum: 20,
      maximum: 90,
      default: 45,
      'x-unit': 'years',
      'x-step': 1,
    },
    sex: { title: 'Sex', type: 'string', enum: ['female', 'male'], default: 'female' },
    pathology: {
      title: 'Pathology',
      type: 'string',
      enum: ['none', 'alzheimers', 'ms', 'glioma'],
      default: 'none',
      'x-enumTitles': {
        none: 'None (healthy)',
        alzheimers: "Alzheimer's disease",
        ms: 'Multiple sclerosis',
        glioma: 'Glioma',
      },
    },
    adSeverity: {
      title: 'AD severity',
      type: 'number',
      minimum: 0,
      maximum: 1,
      default: 0.5,
      'x-step': 0.05,
      'x-showWhen': { pathology: 'alzheimers' },
    },
    msLesionLoadMl: {
      title: 'MS lesion load',
      type: 'number',
      minimum: 0.5,
      maximum: 40,
      default: 8,
      'x-step': 0.5,
      'x-unit': 'mL',
      'x-showWhen': { pathology: 'ms' },
    },
  },
};

export const smallLabels: LabelInfo[] = [
  { index: 0, value: 0, name: 'Unknown', rgb: [0, 0, 0], group: 'background' },
  { index: 1, value: 2, name: 'Left-Cerebral-White-Matter', rgb: [245, 245, 245], group: 'wm' },
  { index: 2, value: 4, name: 'Left-Lateral-Ventricle', rgb: [120, 18, 134], group: 'csf' },
  { index: 3, value: 701, name: 'MS-lesion', rgb: [255, 200, 0], group: 'pathology' },
];

export const smallManifest: ModelManifest = {
  id: 'fake-model',
  version: '0.0.1',
  conditionsSchema: smallSchema,
  labels: smallLabels,
  labelRanges: { intracranial: [1, 499], extraCerebral: [500, 599], pathology: [700, 799] },
};

type Props = ConditionsSchema['properties'];

function defaults(schema: ConditionsSchema): Conditions {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(schema.properties as Props))
    if (p.default !== undefined) out[k] = p.default;
  return out as unknown as Conditions;
}

/** Minimal schema validation in the spirit of the engine's: refuse, never clamp. */
export function fakeValidate(schema: ConditionsSchema, input: unknown) {
  const errors: string[] = [];
  const v = input as Record<string, unknown>;
  for (const [k, val] of Object.entries(v)) {
    const p = (schema.properties as Props)[k];
    if (!p) errors.push(`${k}: unknown property`);
    else if ('enum' in p) {
      if (!p.enum.includes(val as string)) errors.push(`${k} must be one of ${p.enum.join(', ')}`);
    } else if (typeof val !== 'number' || !Number.isFinite(val))
      errors.push(`${k} must be a number`);
    else if (val < p.minimum) errors.push(`${k} must be >= ${p.minimum}`);
    else if (val > p.maximum) errors.push(`${k} must be <= ${p.maximum}`);
  }
  return errors.length
    ? { ok: false as const, errors }
    : { ok: true as const, value: v as unknown as Conditions };
}

export function fakeFromSearchParams(schema: ConditionsSchema, params: URLSearchParams) {
  const given: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(schema.properties as Props)) {
    const raw = params.get(k);
    if (raw === null) continue;
    given[k] = 'enum' in p ? raw : Number(raw);
  }
  const res = fakeValidate(schema, given);
  if (!res.ok) return res;
  return { ok: true as const, value: { ...defaults(schema), ...given } as unknown as Conditions };
}

export function fakeVolume(
  conditions: Conditions,
  seed: number,
  sampleMs = 12,
  sampler: SamplerName = 'student',
): SampledVolume {
  const dims: [number, number, number] = [4, 3, 2];
  const n = 24;
  const image = new Float32Array(n).map((_, i) => i + seed);
  const labels = new Int16Array(n).map((_, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? 2 : 4));
  if (conditions.pathology === 'ms') labels[5] = 701;
  return {
    image,
    labels,
    dims,
    spacing: [2, 2, 2],
    affine: [
      [2, 0, 0, -4],
      [0, 2, 0, -3],
      [0, 0, 2, -2],
      [0, 0, 0, 1],
    ],
    metadata: {
      conditions,
      seed,
      modelId: 'fake-model',
      modelVersion: '0.0.1',
      softwareVersion: '0.1.0',
      backend: 'cpu',
      sampler,
      sampleMs,
      regionalVolumesMl: { 'lateral-ventricles': 10 + conditions.age / 10, ICV: 1400 },
      pathology: {},
    },
  };
}

export class SupersededFake extends Error {
  constructor() {
    super('superseded');
    this.name = 'SupersededError';
  }
}

export interface SampleCall {
  conditions: Conditions;
  seed: number;
  sampler?: SamplerName;
  lane?: string;
}

export interface FakeEngine extends EngineApi {
  calls: SampleCall[];
  client: FakeClient | null;
}

export class FakeClient implements EngineClientLike {
  manifest = smallManifest;
  backend = 'cpu' as const;
  backendReason = 'forced by ?backend=cpu';
  calls: SampleCall[] = [];
  /** Seeds hinted with prefetch(), in order. */
  prefetches: number[] = [];
  /** When set, sample() waits for resolveNext() instead of resolving at once. */
  manual = false;
  failNext: Error | null = null;
  private pending: {
    lane: string;
    resolve: (v: SampledVolume) => void;
    reject: (e: unknown) => void;
    vol: SampledVolume;
  }[] = [];

  sample(
    conditions: Conditions,
    seed: number,
    sampler?: SamplerName,
    lane: string = DEFAULT_LANE,
  ): Promise<SampledVolume> {
    this.calls.push({ conditions, seed, sampler, lane });
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = null;
      return Promise.reject(e);
    }
    const vol = fakeVolume(conditions, seed, 12, sampler ?? 'student');
    if (!this.manual) return Promise.resolve(vol);
    // like the engine: a newer request supersedes the older pending ones of its lane
    for (const p of this.pending) if (p.lane === lane) p.reject(new SupersededFake());
    this.pending = this.pending.filter((p) => p.lane !== lane);
    return new Promise((resolve, reject) => {
      this.pending.push({ lane, resolve, reject, vol });
    });
  }

  prefetch(seed: number): void {
    this.prefetches.push(seed);
  }

  /** Requests waiting in manual mode, oldest first. */
  get pendingLanes(): string[] {
    return this.pending.map((p) => p.lane);
  }

  /** Answer the oldest waiting request (of `lane`, when given). */
  resolveNext(lane?: string): void {
    const i = this.pending.findIndex((p) => lane === undefined || p.lane === lane);
    if (i < 0) return;
    const [p] = this.pending.splice(i, 1);
    p.resolve(p.vol);
  }
}

export function createFakeEngine(
  opts: { failCreate?: Error; manifest?: ModelManifest } = {},
): FakeEngine {
  const engine: FakeEngine = {
    calls: [],
    client: null,
    async createClient() {
      if (opts.failCreate) throw opts.failCreate;
      engine.client = new FakeClient();
      if (opts.manifest) engine.client.manifest = opts.manifest;
      engine.calls = engine.client.calls;
      return engine.client;
    },
    isSuperseded: (err) => err instanceof SupersededFake,
    toNifti: (vol, kind) => new Uint8Array([0x1f, 0x8b, kind === 'image' ? 1 : 2, vol.dims[0]]),
    sidecar: (vol) => ({ seed: vol.metadata.seed, conditions: vol.metadata.conditions }),
    parseNifti: (bytes): ParsedNifti => {
      if (bytes.length < 352) throw new Error('not a NIfTI file (too short)');
      return {
        dims: [2, 2, 2],
        affine: [
          [1, 0, 0, 0],
          [0, 1, 0, 0],
          [0, 0, 1, 0],
          [0, 0, 0, 1],
        ],
        data: new Float32Array(8),
      };
    },
    validateConditions: fakeValidate,
    defaultsFromSchema: defaults,
    conditionsFromSearchParams: fakeFromSearchParams,
  };
  return engine;
}

export class FakeViewer implements ViewerLike {
  shown: SampledVolume[] = [];
  userShown: string[] = [];
  overlay = true;
  opacity = 0.4;
  radiological = false;
  disposed = false;
  cursorCb: ((c: CursorInfo) => void) | null = null;
  /** The window each shown volume would open with (showVolume's `window`, evaluated). */
  openingWindows: ([number, number] | null)[] = [];
  async showVolume(
    vol: SampledVolume,
    _labels?: unknown,
    window?: () => [number, number] | null,
  ): Promise<void> {
    this.shown.push(vol);
    this.openingWindows.push(window ? window() : null);
  }
  async showUserVolume(_vol: UserVolume, name: string): Promise<void> {
    this.userShown.push(name);
  }
  setOverlayVisible(on: boolean) {
    this.overlay = on;
  }
  setOverlayOpacity(o: number) {
    this.opacity = o;
  }
  setRadiological(r: boolean) {
    this.radiological = r;
  }
  window: [number, number] | null = null;
  setWindow(min: number, max: number) {
    this.window = [min, max];
  }
  movedTo: [number, number, number][] = [];
  moveTo(mm: [number, number, number]) {
    this.movedTo.push(mm);
  }
  onCursor(cb: (c: CursorInfo) => void) {
    this.cursorCb = cb;
  }
  viewState() {
    const v = this.shown.at(-1);
    return {
      crosshairMm: [0, 0, 0] as [number, number, number],
      window: this.window,
      radiological: this.radiological,
      dims: v ? v.dims : null,
      spacing: v ? v.spacing : null,
      brainOnly3D: this.brainOnly3D,
      renderTile: null,
    };
  }
  /** The Place-mode callback (onPick); a test calls `pick(start, end)` as a click would. */
  pickCb: ((start: Vec3 | null, end: Vec3 | null) => void) | null = null;
  onPick(cb: ((start: Vec3 | null, end: Vec3 | null) => void) | null) {
    this.pickCb = cb;
  }
  pick(start: Vec3 | null, end: Vec3 | null = start) {
    this.pickCb?.(start, end);
  }
  brainOnly3D = false;
  extraCerebral: [number, number] | null = null;
  setBrainOnly3D(on: boolean, extraCerebral: [number, number]) {
    this.brainOnly3D = on;
    this.extraCerebral = extraCerebral;
  }
  screenshot() {
    return 'data:image/png;base64,';
  }
  /** The viewers this one drives (linkWith). */
  linked: ViewerLike[] = [];
  linkWith(others: ViewerLike[]) {
    this.linked = others;
  }
  dispose() {
    this.disposed = true;
  }
}

/** A deterministic seed source: 1000, 1001, … */
export function seedCounter(start = 1000): () => number {
  let s = start;
  return () => s++;
}

export const flush = () => new Promise((r) => setTimeout(r, 0));

// ---------------------------------------------------------------- full-size backend

export { fakeJob } from '../../backend/testing';

/** Bytes the fake parser below recognises as the 1 mm image / label map. */
export const FULL_IMAGE_BYTES = new Uint8Array([0x1f, 0x8b, 1, 1]);
export const FULL_LABELS_BYTES = new Uint8Array([0x1f, 0x8b, 2, 2]);

/** A 1 mm-like volume (8×6×4, spacing 1) for the fake engine's parseNifti. */
export function parseFullSizeFake(bytes: Uint8Array): ParsedNifti {
  const dims = [8, 6, 4];
  const n = 8 * 6 * 4;
  const affine = [
    [1, 0, 0, -4],
    [0, 1, 0, -3],
    [0, 0, 1, -2],
    [0, 0, 0, 1],
  ];
  if (bytes[2] === 1) return { dims, affine, data: new Float32Array(n).fill(0.5) };
  if (bytes[2] === 2) return { dims, affine, data: new Int16Array(n).fill(2) };
  throw new Error('not a NIfTI file (fake)');
}

/**
 * A scripted backend: health, submit and watch answer from the fields below; `manual` makes
 * watchJob wait for finish(). Every call is recorded.
 */
export class FakeBackendClient implements BackendClientLike {
  health_: BackendHealth | Error = {
    status: 'ok',
    version: '0.1.0',
    device: 'cpu',
    queue_depth: 0,
    running: 0,
    max_running: 1,
    models: 1,
    uptime_s: 1,
  };
  submitError: Error | null = null;
  /** States reported while watching, before the final one. */
  progress: JobStatus[] = [
    fakeJob({ state: 'running', progress: 0.05, message: 'anatomy', queue_position: null }),
    fakeJob({ state: 'running', progress: 0.6, message: 'contrast', queue_position: null }),
  ];
  final: JobStatus = fakeJob({
    state: 'succeeded',
    progress: 1,
    message: 'done: 1 volume(s)',
    queue_position: null,
    results: (
      [
        { name: 'brainsynth_seed-0000000123_T1w.nii.gz', kind: 'image', contrast: 'T1w' },
        { name: 'brainsynth_seed-0000000123_dseg.nii.gz', kind: 'labels', contrast: null },
        { name: 'brainsynth_seed-0000000123.json', kind: 'sidecar', contrast: null },
      ] as const
    ).map((r) => ({ ...r, size: 4, seed: 123, url: `/api/v1/jobs/job-1/files/${r.name}` })),
  });
  sidecar: object = {
    conditions: { age: 45, sex: 'female', pathology: 'none', contrast: 'T1w' },
    seed: 123,
    modelId: 'fake-model',
    modelVersion: '0.0.1',
    generationSeconds: 9.5,
    regionalVolumesMl: { 'lateral-ventricles': 10.2 },
    pathology: { type: 'none' },
  };
  manual = false;
  calls: { fn: string; args: unknown[] }[] = [];
  private release: (() => void) | null = null;

  constructor(readonly baseUrl = 'http://127.0.0.1:8000') {}

  async health(): Promise<BackendHealth> {
    this.calls.push({ fn: 'health', args: [] });
    if (this.health_ instanceof Error) throw this.health_;
    return this.health_;
  }

  async submitJob(input: SubmitJobInput): Promise<JobStatus> {
    this.calls.push({ fn: 'submitJob', args: [input] });
    if (this.submitError) throw this.submitError;
    return fakeJob();
  }

  async watchJob(
    id: string,
    onProgress: (job: JobStatus) => void,
    signal?: AbortSignal,
  ): Promise<JobStatus> {
    this.calls.push({ fn: 'watchJob', args: [id] });
    for (const j of this.progress) onProgress(j);
    if (this.manual) {
      await new Promise<void>((resolve, reject) => {
        this.release = resolve;
        signal?.addEventListener('abort', () => reject(new BackendError('aborted', 'cancelled')));
      });
    }
    onProgress(this.final);
    return this.final;
  }

  /** Let a manual watchJob finish. */
  finish(): void {
    this.release?.();
  }

  async downloadFile(job: JobStatus, name: string): Promise<Uint8Array> {
    this.calls.push({ fn: 'downloadFile', args: [job.id, name] });
    if (name.endsWith('_dseg.nii.gz')) return FULL_LABELS_BYTES;
    if (name.endsWith('.nii.gz')) return FULL_IMAGE_BYTES;
    return new TextEncoder().encode(JSON.stringify(this.sidecar));
  }

  async cancelJob(id: string): Promise<JobStatus> {
    this.calls.push({ fn: 'cancelJob', args: [id] });
    return fakeJob({ id, state: 'cancelled' });
  }

  /** Datasets: submit answers `datasetStates[0]`, each status call the next one (the last repeats). */
  datasetError: Error | null = null;
  datasetStates: DatasetStatus[] = [
    fakeDataset({ state: 'queued' }),
    fakeDataset({ state: 'running', done: 1, progress: 0.5, rate_per_h: 400, eta_s: 9 }),
    fakeDataset({ state: 'succeeded', done: 2, progress: 1, qa_report_url: '/qa/report.html' }),
  ];
  private datasetCalls = 0;

  private nextDataset(): DatasetStatus {
    const i = Math.min(this.datasetCalls++, this.datasetStates.length - 1);
    return this.datasetStates[i];
  }

  async submitDataset(spec: unknown): Promise<DatasetStatus> {
    this.calls.push({ fn: 'submitDataset', args: [spec] });
    if (this.datasetError) throw this.datasetError;
    return this.nextDataset();
  }

  async datasetStatus(id: string): Promise<DatasetStatus> {
    this.calls.push({ fn: 'datasetStatus', args: [id] });
    return this.nextDataset();
  }

  async cancelDataset(id: string): Promise<DatasetStatus> {
    this.calls.push({ fn: 'cancelDataset', args: [id] });
    return fakeDataset({ id, state: 'cancelled' });
  }

  called(fn: string) {
    return this.calls.filter((c) => c.fn === fn);
  }
}

/** A dataset status as the server answers it (defaults: a queued 2-subject dataset). */
export function fakeDataset(over: Partial<DatasetStatus> = {}): DatasetStatus {
  const id = over.id ?? 'ds-1';
  return {
    id,
    state: 'queued',
    message: '',
    count: 2,
    done: 0,
    progress: 0,
    rate_per_h: null,
    eta_s: null,
    created_at: '2026-12-02T00:00:00Z',
    started_at: null,
    finished_at: null,
    attempts: 0,
    estimated_bytes: 1000,
    spec: { count: 2, seed: 1 },
    url: `/api/v1/datasets/${id}`,
    events_url: `/api/v1/datasets/${id}/events`,
    subjects_url: `/api/v1/datasets/${id}/subjects`,
    qa_report_url: null,
    ...over,
  };
}

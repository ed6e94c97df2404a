/**
 * The app's glue, outside React: owns the three stores, the engine client and the viewer.
 * Components read stores and call these methods; they hold no logic of their own.
 *
 *   URL ─▶ conditionsStore ──(commit)──▶ engine.sample ─▶ engineStore.volume ─▶ viewer
 *              ▲                                                                  │
 *          controls                                             cursor ─▶ viewerStore
 */
import type { Conditions, SampledVolume, SamplerName } from '../engine/types';
import type { CursorInfo, ViewerLike } from '../viewer/types';
import type { BackendFactory } from './backendApi';
import { resolveBackendUrl, type BackendUrlChoice } from './backendUrl';
import { fileName, saveBlob, type DownloadKind } from './downloads';
import type { BackendChoice, EngineApi, EngineClientLike } from './engineApi';
import { FullSizeController } from './fullSize';
import type { BackendStore } from './stores/backendStore';
import { effectiveValues, type ConditionsSchema } from './schema';
import { createConditionsStore, randomSeed, type ConditionsStore } from './stores/conditionsStore';
import { createEngineStore, type EngineStore } from './stores/engineStore';
import { createViewerStore, type ViewerStore } from './stores/viewerStore';
import { readUrl, writeUrl } from './url';

/** Largest file accepted by "Open NIfTI…" (bytes). */
export const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

export interface AppDeps {
  engine: EngineApi;
  modelUrl: string;
  createViewer: (canvas: HTMLCanvasElement) => Promise<ViewerLike>;
  /** Defaults to window.location / window.history. */
  location?: { search: string; pathname: string; hash: string };
  history?: Pick<History, 'replaceState'>;
  randomSeed?: () => number;
  saveBlob?: (blob: Blob, name: string) => void;
  /** The optional full-size backend's client factory; without it "Full size" does nothing. */
  backend?: BackendFactory;
  /** Build-time backend URL (VITE_BACKEND_URL); `?backend_url=` overrides it. */
  backendUrl?: string;
}

export interface VolumeSummary {
  dims: number[];
  spacing: number[];
  affine: number[][];
  seed: number;
  conditions: Conditions;
  modelId: string;
  modelVersion: string;
  backend: string;
  /** Which anatomy sampler made it: 'student' (distilled) or 'exact'. */
  sampler: string;
  sampleMs: number;
  regionalVolumesMl: Record<string, number>;
  /** Sorted distinct label values present in the label map. */
  labelsPresent: number[];
  pathology: Record<string, unknown>;
}

const summaries = new WeakMap<SampledVolume, VolumeSummary>();

export function summarize(vol: SampledVolume): VolumeSummary {
  let s = summaries.get(vol);
  if (s) return s;
  const present = new Set<number>();
  const labels = vol.labels;
  for (let i = 0; i < labels.length; i++) present.add(labels[i]);
  const m = vol.metadata;
  s = {
    dims: [...vol.dims],
    spacing: [...vol.spacing],
    affine: vol.affine.map((row) => [...row]),
    seed: m.seed,
    conditions: m.conditions,
    modelId: m.modelId,
    modelVersion: m.modelVersion,
    backend: m.backend,
    sampler: m.sampler ?? 'exact',
    sampleMs: m.sampleMs,
    regionalVolumesMl: m.regionalVolumesMl,
    labelsPresent: [...present].sort((a, b) => a - b),
    pathology: m.pathology,
  };
  summaries.set(vol, s);
  return s;
}

/** Pathology labels (MODEL_FORMAT §4) live in 700–799. */
export function isLesionLabel(value: number): boolean {
  return value >= 700 && value <= 799;
}

/** Centre (RAS mm) of the pathology-labelled voxels, or null when there are none. */
export function lesionCentroidMm(vol: SampledVolume): [number, number, number] | null {
  const [nx, ny] = vol.dims;
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sz = 0;
  const labels = vol.labels;
  for (let i = 0; i < labels.length; i++) {
    if (!isLesionLabel(labels[i])) continue;
    n++;
    sx += i % nx;
    sy += Math.floor(i / nx) % ny;
    sz += Math.floor(i / (nx * ny));
  }
  if (n === 0) return null;
  const v = [sx / n, sy / n, sz / n];
  const a = vol.affine;
  return [0, 1, 2].map((r) => a[r][0] * v[0] + a[r][1] * v[1] + a[r][2] * v[2] + a[r][3]) as [
    number,
    number,
    number,
  ];
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function backendFromSearch(search: string): BackendChoice {
  const b = new URLSearchParams(search).get('backend');
  return b === 'webgpu' || b === 'webgl' || b === 'wasm' || b === 'cpu' ? b : 'auto';
}

export class AppController {
  readonly conditions: ConditionsStore;
  readonly engine: EngineStore;
  readonly viewer: ViewerStore;
  /** The 1 mm workflow ("Full size"); its state is `backend`. */
  readonly fullSize: FullSizeController;
  private readonly backendUrl: BackendUrlChoice;
  private client: EngineClientLike | null = null;
  private viewerInst: ViewerLike | null = null;
  private backendChoice: BackendChoice = 'auto';
  private backendExplicit = false;
  /** `?sampler=`: null = the model's default. */
  private sampler: SamplerName | null = null;
  private requestId = 0;
  /** Number of volumes the viewer has put on screen (e2e waits on it). */
  rendered = 0;
  private unsubscribers: (() => void)[] = [];
  private shownPathology: string | null = null;

  constructor(private readonly deps: AppDeps) {
    this.conditions = createConditionsStore(deps.randomSeed ?? randomSeed);
    this.engine = createEngineStore();
    this.viewer = createViewerStore();
    this.backendUrl = resolveBackendUrl(this.location.search, deps.backendUrl);
    this.fullSize = new FullSizeController(this.backendUrl.url, deps.backend, {
      currentRequest: () => {
        const manifest = this.engine.getState().manifest;
        if (!manifest) return null;
        return {
          modelId: manifest.id,
          conditions: this.currentConditions(),
          seed: this.conditions.getState().seed,
        };
      },
      parseNifti: (bytes) => this.deps.engine.parseNifti(bytes),
      display: (vol) => this.display(vol),
      displayBrowser: () => this.showGenerated(),
      save: (blob, name) => (this.deps.saveBlob ?? saveBlob)(blob, name),
    });
  }

  get backend(): BackendStore {
    return this.fullSize.store;
  }

  private get location() {
    return this.deps.location ?? window.location;
  }

  get schema(): ConditionsSchema | null {
    return this.engine.getState().manifest?.conditionsSchema ?? null;
  }

  async start(): Promise<void> {
    const search = this.location.search;
    this.backendChoice = backendFromSearch(search);
    this.engine.setState({ status: 'loading', error: null });
    // is a full-size backend there? (in parallel with the model; never blocks the app)
    void this.fullSize.check();
    try {
      this.client = await this.deps.engine.createClient({
        modelUrl: this.deps.modelUrl,
        backend: this.backendChoice,
      });
    } catch (err) {
      this.engine.setState({
        status: 'error',
        error: `Could not start the sampler: ${message(err)}`,
      });
      return;
    }
    const manifest = this.client.manifest;
    const url = readUrl(
      search,
      manifest.conditionsSchema,
      this.deps.engine,
      this.deps.randomSeed ?? randomSeed,
    );
    this.backendExplicit = url.backendExplicit;
    this.sampler = url.sampler;
    this.conditions
      .getState()
      .init(url.conditions, url.seed, [...url.errors, ...this.backendUrl.errors]);
    this.engine.setState({
      manifest,
      backend: this.client.backend,
      backendReason: this.client.backendReason,
      status: 'ready',
    });
    this.unsubscribers.push(
      this.conditions.subscribe((s, prev) => {
        if (s.conditions !== prev.conditions || s.seed !== prev.seed) {
          this.syncUrl();
          void this.requestSample();
        }
      }),
    );
    this.syncUrl();
    await this.requestSample();
  }

  private syncUrl(): void {
    const schema = this.schema;
    if (!schema) return;
    const { conditions, seed } = this.conditions.getState();
    const q = writeUrl(schema, conditions, seed, {
      backend: this.backendExplicit ? this.backendChoice : null,
      backendUrl: this.backendUrl.source === 'param' ? this.backendUrl.url : null,
      sampler: this.sampler,
    });
    const loc = this.location;
    try {
      (this.deps.history ?? window.history).replaceState(
        null,
        '',
        `${loc.pathname}${q}${loc.hash}`,
      );
    } catch {
      // replaceState can throw in sandboxed frames; the URL is a convenience, not state.
    }
  }

  /** Effective conditions for the engine: only the properties relevant to the pathology. */
  currentConditions(): Conditions {
    const schema = this.schema;
    const { conditions } = this.conditions.getState();
    return (schema ? effectiveValues(schema, conditions) : conditions) as unknown as Conditions;
  }

  async requestSample(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const id = ++this.requestId;
    const seed = this.conditions.getState().seed;
    const conditions = this.currentConditions();
    this.engine.setState({ status: 'sampling' });
    const t0 = performance.now();
    let vol: SampledVolume;
    try {
      vol = await client.sample(conditions, seed, this.sampler ?? undefined);
    } catch (err) {
      if (this.deps.engine.isSuperseded(err) || id !== this.requestId) return;
      this.engine.setState({ status: 'error', error: `Sampling failed: ${message(err)}` });
      return;
    }
    if (id !== this.requestId) return;
    const ms = Number.isFinite(vol.metadata?.sampleMs)
      ? vol.metadata.sampleMs
      : performance.now() - t0;
    this.engine.setState((s) => ({
      volume: vol,
      lastSampleMs: ms,
      error: null,
      samples: s.samples + 1,
    }));
    this.viewer.setState({ userFile: null });
    await this.render(vol);
    if (id === this.requestId) this.engine.setState({ status: 'ready' });
  }

  private async render(vol: SampledVolume): Promise<void> {
    const v = this.viewerInst;
    const manifest = this.engine.getState().manifest;
    if (!v || !manifest) return;
    try {
      await v.showVolume(vol, manifest.labels);
      this.backend.getState().show('browser');
      // A new kind of pathology: bring its lesion into view (otherwise the crosshair stays put).
      const kind = vol.metadata.conditions.pathology;
      if (kind !== this.shownPathology) {
        this.shownPathology = kind;
        const c = lesionCentroidMm(vol);
        if (c) v.moveTo(c);
      }
      this.rendered++;
    } catch (err) {
      this.engine.setState({ error: `Display failed: ${message(err)}` });
    }
  }

  /** Create the viewer on a canvas; returns a synchronous dispose for React effects. */
  attachViewer(canvas: HTMLCanvasElement): () => void {
    let disposed = false;
    let inst: ViewerLike | null = null;
    const unsub = this.viewer.subscribe((s, prev) => {
      if (!inst) return;
      if (s.overlay !== prev.overlay) inst.setOverlayVisible(s.overlay);
      if (s.opacity !== prev.opacity) inst.setOverlayOpacity(s.opacity);
      if (s.radiological !== prev.radiological) inst.setRadiological(s.radiological);
    });
    this.deps
      .createViewer(canvas)
      .then(async (v) => {
        if (disposed) {
          v.dispose();
          return;
        }
        inst = v;
        this.viewerInst = v;
        this.shownPathology = null;
        const s = this.viewer.getState();
        v.setOverlayVisible(s.overlay);
        v.setOverlayOpacity(s.opacity);
        v.setRadiological(s.radiological);
        v.onCursor((cursor: CursorInfo) => this.viewer.setState({ cursor }));
        const full = this.backend.getState();
        const vol = this.engine.getState().volume;
        if (full.showing === 'full-size' && full.result) await this.display(full.result.volume);
        else if (vol) await this.render(vol);
      })
      .catch((err) => {
        if (!disposed)
          this.engine.setState({ error: `The 3D viewer could not start: ${message(err)}` });
      });
    return () => {
      disposed = true;
      unsub();
      if (inst) {
        if (this.viewerInst === inst) this.viewerInst = null;
        inst.dispose();
      }
    };
  }

  download(kind: DownloadKind): void {
    const vol = this.engine.getState().volume;
    if (!vol) return;
    const save = this.deps.saveBlob ?? saveBlob;
    const name = fileName(vol, kind);
    if (kind === 'sidecar') {
      const json = JSON.stringify(this.deps.engine.sidecar(vol), null, 2);
      save(new Blob([json], { type: 'application/json' }), name);
    } else {
      const bytes = this.deps.engine.toNifti(vol, kind);
      save(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/gzip' }), name);
    }
  }

  /** Open a user's .nii/.nii.gz; anything unusable gives a visible error and changes nothing. */
  async openFile(file: File): Promise<void> {
    try {
      if (file.size > MAX_UPLOAD_BYTES)
        throw new Error(`file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB`);
      const bytes = new Uint8Array(await file.arrayBuffer());
      const parsed = this.deps.engine.parseNifti(bytes);
      if (!this.viewerInst) throw new Error('the viewer is not ready');
      await this.viewerInst.showUserVolume(parsed, file.name);
      this.viewer.setState({ userFile: file.name, fileError: null, cursor: null });
    } catch (err) {
      this.viewer.setState({ fileError: `Could not open "${file.name}": ${message(err)}` });
    }
  }

  dismissFileError(): void {
    this.viewer.setState({ fileError: null });
  }

  /** Show a volume that is not the browser's sample (the 1 mm result); errors propagate. */
  private async display(vol: SampledVolume): Promise<void> {
    const v = this.viewerInst;
    const manifest = this.engine.getState().manifest;
    if (!v || !manifest) throw new Error('the viewer is not ready');
    await v.showVolume(vol, manifest.labels);
    this.viewer.setState({ userFile: null });
    this.rendered++;
  }

  /** Return from an uploaded file (or the 1 mm result) to the browser's generated volume. */
  async showGenerated(): Promise<void> {
    const vol = this.engine.getState().volume;
    this.viewer.setState({ userFile: null });
    if (vol) await this.render(vol);
  }

  /** Move the crosshair to the centre of the current lesion(s), if any. */
  focusLesion(): void {
    const vol = this.engine.getState().volume;
    const c = vol ? lesionCentroidMm(vol) : null;
    if (c && this.viewerInst && !this.viewer.getState().userFile) this.viewerInst.moveTo(c);
  }

  screenshot(): string {
    return this.viewerInst?.screenshot() ?? '';
  }

  /** Small, stable snapshot for end-to-end tests (window.__brainsynth.state). */
  snapshot() {
    const e = this.engine.getState();
    const c = this.conditions.getState();
    const v = this.viewer.getState();
    return {
      status: e.status,
      backend: e.backend,
      backendReason: e.backendReason,
      lastSampleMs: e.lastSampleMs,
      samples: e.samples,
      rendered: this.rendered,
      error: e.error,
      model: e.manifest ? { id: e.manifest.id, version: e.manifest.version } : null,
      conditions: this.currentConditions(),
      seed: c.seed,
      keepSubject: c.keepSubject,
      errors: [...c.errors],
      viewer: {
        overlay: v.overlay,
        opacity: v.opacity,
        radiological: v.radiological,
        cursor: v.cursor,
        userFile: v.userFile,
        fileError: v.fileError,
        view: this.viewerInst?.viewState() ?? null,
      },
      volume: e.volume ? summarize(e.volume) : null,
      fullSize: this.fullSizeSnapshot(),
    };
  }

  private fullSizeSnapshot() {
    const b = this.backend.getState();
    const r = b.result;
    return {
      url: b.url,
      availability: b.availability,
      device: b.device,
      reason: b.reason,
      phase: b.phase,
      jobId: b.jobId,
      progress: b.progress,
      stage: b.stage,
      error: b.error,
      showing: b.showing,
      result: r
        ? {
            jobId: r.jobId,
            seconds: r.seconds,
            generationSeconds: r.generationSeconds,
            timings: r.timings,
            device: r.device,
            files: {
              image: r.files.image.name,
              labels: r.files.labels.name,
              sidecar: r.files.sidecar.name,
            },
            volume: summarize(r.volume),
          }
        : null,
    };
  }

  dispose(): void {
    for (const u of this.unsubscribers) u();
    this.unsubscribers = [];
    this.fullSize.dispose();
    this.client?.dispose?.();
  }
}

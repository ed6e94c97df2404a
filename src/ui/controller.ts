/**
 * The app's glue, outside React: owns the engine client and N views (view.ts: each its own
 * conditions / engine / viewer stores and viewer handle, sampling in its own worker lane).
 * Components read the stores of their view and call these methods; they hold no logic.
 *
 *   URL ─▶ conditionsStore ──(commit)──▶ engine.sample(lane) ─▶ engineStore.volume ─▶ viewer
 *              ▲                                                                      │
 *          controls                                                 cursor ─▶ viewerStore
 *
 * The app shows one view (MAIN_VIEW: it owns the URL and "Full size"); `addView` makes more.
 */
import type { Conditions, SampledVolume, SamplerName } from '../engine/types';
import type { CursorInfo, Vec3, ViewerLike } from '../viewer/types';
import type { BackendFactory } from './backendApi';
import { resolveBackendUrl, type BackendUrlChoice } from './backendUrl';
import { fileName, saveBlob, type DownloadKind } from './downloads';
import type { BackendChoice, EngineApi, EngineClientLike, ModelManifest } from './engineApi';
import { DatasetOrder } from './datasetOrder';
import { BatchExport } from './batchExport';
import { FullSizeController } from './fullSize';
import { lesionFocusMm } from './lesionFocus';
import { placeValues } from './place';
import type { BackendStore } from './stores/backendStore';
import {
  conditionValues,
  effectiveValues,
  readConditionsSchema,
  type ConditionValues,
  type ConditionsSchema,
} from './schema';
import { randomSeed, type ConditionsStore } from './stores/conditionsStore';
import type { EngineState, EngineStore } from './stores/engineStore';
import type { ViewerStore } from './stores/viewerStore';
import {
  labelsChecksum,
  modelMismatch,
  modelTag,
  parseRecipe,
  recipeOf,
  recipeSearch,
  type Recipe,
} from './recipe';
import { prepareUpload, type PreparedUpload } from './upload';
import { readUrl, writeUrl } from './url';
import { BRAIN_PRESET, windowPresets, type WindowPreset } from './windowPresets';
import { MAIN_VIEW, ViewSession } from './view';

/** Largest file accepted by "Open NIfTI…" (bytes). */
export const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

/** The worker lane of the blinded reading session's samples (review/). */
export const REVIEW_LANE = 'review';

export interface AppDeps {
  engine: EngineApi;
  /** The model's folder, or how to find it (the catalogue's default: catalogue.ts). */
  modelUrl: string | (() => Promise<string>);
  createViewer: (canvas: HTMLCanvasElement) => Promise<ViewerLike>;
  /**
   * Decode + prepare a user's NIfTI (upload.ts). main.tsx passes the worker (uploadDecoder.ts);
   * the default runs on this thread with `engine.parseNifti` (unit tests).
   */
  decodeUpload?: (bytes: ArrayBuffer) => Promise<PreparedUpload>;
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
  /** FNV-1a of the label map (recipe.ts): equal for the same brain. */
  labelsChecksum: string;
  /** Centroid (RAS mm) of every label value present, keyed by value. */
  labelCentroidsMm: Record<string, number[]>;
  pathology: Record<string, unknown>;
}

/** An empty label range (a model without extra-cerebral labels). */
const NO_RANGE: [number, number] = [1, 0];

const summaries = new WeakMap<SampledVolume, VolumeSummary>();
const presetCache = new WeakMap<SampledVolume, WindowPreset[]>();

/** A volume's window/level presets (windowPresets.ts), computed once per volume. */
function presetsOf(volume: SampledVolume, manifest: ModelManifest): WindowPreset[] {
  let p = presetCache.get(volume);
  if (!p) {
    const range = manifest.labelRanges.intracranial;
    const contrast = String(volume.metadata.conditions.contrast ?? '');
    p = windowPresets(volume.image, volume.labels, contrast, range);
    presetCache.set(volume, p);
  }
  return p;
}

/**
 * The window a generated volume opens with (a new contrast or grid; the viewer keeps the user's
 * window otherwise): the brain's 1st-99th percentile (the "Brain" preset), as a radiologist
 * windows a T1 - NiiVue's robust range over the whole field of view is set by the head and the
 * background and saturates the bright central white matter. Lazy: computed only when used.
 */
function brainWindow(
  volume: SampledVolume,
  manifest: ModelManifest,
): () => [number, number] | null {
  return () => {
    const p = presetsOf(volume, manifest).find((w) => w.name === BRAIN_PRESET);
    return p ? [p.min, p.max] : null;
  };
}

export function summarize(vol: SampledVolume): VolumeSummary {
  let s = summaries.get(vol);
  if (s) return s;
  const present = new Set<number>();
  const labels = vol.labels;
  const [nx, ny] = vol.dims;
  // per label value: voxel count and sums of i, j, k (label values are int16)
  const sums = new Map<number, [number, number, number, number]>();
  for (let v = 0; v < labels.length; v++) {
    const l = labels[v];
    let acc = sums.get(l);
    if (!acc) {
      acc = [0, 0, 0, 0];
      sums.set(l, acc);
      present.add(l);
    }
    acc[0]++;
    acc[1] += v % nx;
    acc[2] += Math.floor(v / nx) % ny;
    acc[3] += Math.floor(v / (nx * ny));
  }
  const centroids: Record<string, number[]> = {};
  const A = vol.affine;
  for (const [l, [n, i, j, k]] of sums) {
    const ijk = [i / n, j / n, k / n];
    centroids[String(l)] = [0, 1, 2].map((r) =>
      Number((A[r][0] * ijk[0] + A[r][1] * ijk[1] + A[r][2] * ijk[2] + A[r][3]).toFixed(2)),
    );
  }
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
    labelsChecksum: labelsChecksum(labels),
    labelCentroidsMm: centroids,
    pathology: m.pathology,
  };
  summaries.set(vol, s);
  return s;
}

/** Benchmark hook (bench/app.ts): a named timestamp when the page defines `__brainsynthPerf`. */
function perfMark(name: string): void {
  const perf = (globalThis as { __brainsynthPerf?: { marks?: [string, number][] } })
    .__brainsynthPerf;
  perf?.marks?.push([name, performance.now()]);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function backendFromSearch(search: string): BackendChoice {
  const b = new URLSearchParams(search).get('backend');
  return b === 'webgpu' || b === 'webgl' || b === 'wasm' || b === 'cpu' ? b : 'auto';
}

export class AppController {
  /** The views, in creation order; the first is MAIN_VIEW. */
  private readonly viewMap = new Map<string, ViewSession>();
  /** The view the app starts with: it owns the URL and the 1 mm workflow. */
  readonly main: ViewSession;
  /** The 1 mm workflow ("Full size") of the main view; its state is `backend`. */
  readonly fullSize: FullSizeController;
  /** Ordering a dataset from the backend (docs/DATASETS.md). */
  readonly datasets: DatasetOrder;
  /** Batch export in the browser: N subjects as a BIDS zip (batchExport.ts). */
  readonly batch: BatchExport;
  private readonly backendUrl: BackendUrlChoice;
  private client: EngineClientLike | null = null;
  private backendChoice: BackendChoice = 'auto';
  private backendExplicit = false;
  /** How long the last upload took to decode (worker) and to show (viewer), ms. */
  private lastUploadMs: { start: number; decode: number; show: number } | null = null;
  /** `?sampler=`: null = the model's default. */
  private sampler: SamplerName | null = null;
  private nextViewId = 1;
  /** Whether the views' viewers move together (crosshair, pan/zoom, 3D angle). */
  private viewersLinked = false;
  /** Whether the viewers were last left linked (so unlinking has something to undo). */
  private linkApplied = false;
  /** The model's folder once start() resolved it (teaching panels read its tables). */
  modelUrl: string | null = null;

  constructor(private readonly deps: AppDeps) {
    this.main = this.createView(MAIN_VIEW);
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
    this.datasets = new DatasetOrder(this.fullSize.backendClient);
    this.batch = new BatchExport({
      sampleIn: (lane, values, seed) => this.sampleIn(lane, values, seed),
      toNifti: (vol, kind) => this.deps.engine.toNifti(vol, kind),
      sidecar: (vol) => ({ ...this.deps.engine.sidecar(vol) }),
      model: () => {
        const m = this.client?.manifest;
        const schema = this.schema;
        if (!m || !schema) return null;
        return {
          schema,
          defaults: conditionValues(this.deps.engine.defaultsFromSchema(schema)),
          id: m.id,
          version: m.version,
          labels: m.labels,
          pathologyRange: m.labelRanges.pathology,
        };
      },
      save: (blob, name) => (this.deps.saveBlob ?? saveBlob)(blob, name),
    });
  }

  /** The main view's stores (what the one-view app shows). */
  get conditions(): ConditionsStore {
    return this.main.conditions;
  }

  get engine(): EngineStore {
    return this.main.engine;
  }

  get viewer(): ViewerStore {
    return this.main.viewer;
  }

  /** Number of volumes the main view's viewer has put on screen (e2e waits on it). */
  get rendered(): number {
    return this.main.rendered;
  }

  get backend(): BackendStore {
    return this.fullSize.store;
  }

  /** Every view, main first. */
  get views(): ViewSession[] {
    return [...this.viewMap.values()];
  }

  view(id: string): ViewSession | undefined {
    return this.viewMap.get(id);
  }

  private get location() {
    return this.deps.location ?? window.location;
  }

  get schema(): ConditionsSchema | null {
    return this.engine.getState().schema;
  }

  private createView(id: string): ViewSession {
    const view = new ViewSession(id, this.deps.randomSeed ?? randomSeed);
    this.viewMap.set(id, view);
    return view;
  }

  /** Resample a view whenever its committed conditions or seed change. */
  private follow(view: ViewSession, onChange?: () => void): void {
    view.unsubscribers.push(
      view.conditions.subscribe((s, prev) => {
        if (s.conditions !== prev.conditions || s.seed !== prev.seed) {
          onChange?.();
          void this.requestSample(view);
        }
      }),
    );
  }

  /** The engine's shared state, as every view's engine store carries it. */
  private engineShared(): Partial<EngineState> {
    const main = this.main.engine.getState();
    return {
      manifest: main.manifest,
      schema: main.schema,
      backend: main.backend,
      backendReason: main.backendReason,
    };
  }

  async start(): Promise<void> {
    const search = this.location.search;
    this.backendChoice = backendFromSearch(search);
    this.engine.setState({ status: 'loading', error: null });
    // Is a full-size backend there? Asked at once only when one was named (?backend_url= or
    // VITE_BACKEND_URL): probing the default address on every load would log a refused
    // connection in the console of everyone without a backend. Otherwise the Full size panel
    // asks when it is used ("Check for a backend" or the Full size button).
    if (this.backendUrl.source !== 'default') void this.fullSize.check();
    let schema: ConditionsSchema;
    try {
      const modelUrl =
        typeof this.deps.modelUrl === 'string' ? this.deps.modelUrl : await this.deps.modelUrl();
      this.modelUrl = modelUrl;
      this.client = await this.deps.engine.createClient({
        modelUrl,
        backend: this.backendChoice,
      });
      schema = readConditionsSchema(this.client.manifest.conditionsSchema);
    } catch (err) {
      this.engine.setState({
        status: 'error',
        error: `Could not start the sampler: ${message(err)}`,
      });
      return;
    }
    const manifest = this.client.manifest;
    const url = readUrl(search, schema, this.deps.engine, this.deps.randomSeed ?? randomSeed);
    this.backendExplicit = url.backendExplicit;
    this.sampler = url.sampler;
    const linkModel = url.model && modelMismatch(url.model, manifest, 'link');
    this.conditions
      .getState()
      .init(url.conditions, url.seed, [
        ...url.errors,
        ...this.backendUrl.errors,
        ...(linkModel ? [linkModel] : []),
      ]);
    this.engine.setState({
      manifest,
      schema,
      backend: this.client.backend,
      backendReason: this.client.backendReason,
      status: 'ready',
    });
    if (url.review) this.viewer.getState().setReview(true);
    this.main.unsubscribers.push(
      this.viewer.subscribe((s, prev) => {
        if (s.review !== prev.review) this.syncUrl();
      }),
    );
    this.follow(this.main, () => this.syncUrl());
    this.syncUrl();
    await this.requestSample(this.main);
  }

  /**
   * A further view (e.g. for comparing conditions side by side): a copy of `from`'s conditions
   * and seed (default: the main view's), sampling at once in its own lane. Call after start().
   */
  addView(from: ViewSession = this.main): ViewSession {
    if (!this.client) throw new Error('the engine is not ready');
    const view = this.createView(`view-${this.nextViewId++}`);
    const src = from.conditions.getState();
    view.conditions.getState().init(src.conditions, src.seed);
    view.conditions.getState().setKeepSubject(src.keepSubject);
    view.engine.setState({ ...this.engineShared(), status: 'ready' });
    this.follow(view);
    void this.requestSample(view);
    return view;
  }

  /**
   * A view that never samples: it shows volumes put into its engine store (e.g. a difference
   * map computed from two other views) with `showGenerated(view)`. Call after start().
   */
  addStaticView(): ViewSession {
    if (!this.client) throw new Error('the engine is not ready');
    const view = this.createView(`view-${this.nextViewId++}`);
    view.engine.setState({ ...this.engineShared(), status: 'ready' });
    return view;
  }

  /**
   * Sample `values` (schema values, checked like any view's) with `seed` in `lane`, without
   * touching any view: for frames computed ahead (time-lapse). A newer request of the same lane
   * supersedes this one (the engine's isSuperseded tells).
   */
  async sampleIn(lane: string, values: ConditionValues, seed: number): Promise<SampledVolume> {
    const client = this.client;
    const schema = this.schema;
    if (!client || !schema) throw new Error('the engine is not ready');
    const res = this.deps.engine.validateConditions(schema, effectiveValues(schema, values));
    if (!res.ok) throw new Error(`Invalid conditions: ${res.errors.join('; ')}`);
    return client.sample(res.value, seed, this.sampler ?? undefined, lane);
  }

  /** Whether an error is the engine's "a newer request replaced this one". */
  isSuperseded(err: unknown): boolean {
    return this.deps.engine.isSuperseded(err);
  }

  /** Put a volume (not the view's own sample, e.g. a time-lapse frame) on a view's viewer. */
  async showFrame(vol: SampledVolume, view: ViewSession = this.main): Promise<void> {
    const v = view.viewerInst;
    const manifest = view.engine.getState().manifest;
    if (!v || !manifest) return;
    await v.showVolume(vol, manifest.labels, brainWindow(vol, manifest));
    view.rendered++;
  }

  /** Close a view that addView made (the main view stays). */
  removeView(view: ViewSession): void {
    if (view === this.main || this.viewMap.get(view.id) !== view) return;
    this.viewMap.delete(view.id);
    view.requestId++; // its request in flight is no longer wanted
    view.dispose();
    this.relink();
  }

  /** Link (or unlink) the views' viewers: moving one moves the others. */
  linkViewers(linked: boolean): void {
    this.viewersLinked = linked;
    this.relink();
  }

  private relink(): void {
    if (!this.viewersLinked && !this.linkApplied) return; // never linked: leave viewers alone
    this.linkApplied = this.viewersLinked;
    const viewers = this.views.flatMap((v) => (v.viewerInst ? [v.viewerInst] : []));
    for (const v of viewers) v.linkWith?.(this.viewersLinked ? viewers.filter((o) => o !== v) : []);
  }

  private syncUrl(): void {
    const schema = this.schema;
    if (!schema) return;
    const { conditions, seed } = this.conditions.getState();
    const q = writeUrl(schema, conditions, seed, {
      backend: this.backendExplicit ? this.backendChoice : null,
      backendUrl: this.backendUrl.source === 'param' ? this.backendUrl.url : null,
      sampler: this.sampler,
      review: this.viewer.getState().review,
      model: this.client ? modelTag(this.client.manifest) : null,
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

  /**
   * A view's effective conditions for the engine: only the properties relevant to the
   * pathology, checked by the engine's validator (the store only ever commits valid values,
   * so a failure here is a bug, reported as an Error).
   */
  currentConditions(view: ViewSession = this.main): Conditions {
    const schema = this.schema;
    if (!schema) throw new Error('the model is not loaded');
    const values = effectiveValues(schema, view.conditions.getState().conditions);
    const res = this.deps.engine.validateConditions(schema, values);
    if (!res.ok) throw new Error(`Invalid conditions: ${res.errors.join('; ')}`);
    return res.value;
  }

  async requestSample(view: ViewSession = this.main): Promise<void> {
    const client = this.client;
    if (!client) return;
    const id = ++view.requestId;
    const seed = view.conditions.getState().seed;
    view.viewerInst?.expectVolume?.();
    view.engine.setState({ status: 'sampling' });
    const t0 = performance.now();
    let vol: SampledVolume;
    try {
      const conditions = this.currentConditions(view);
      vol = await client.sample(conditions, seed, this.sampler ?? undefined, view.lane);
    } catch (err) {
      if (this.deps.engine.isSuperseded(err) || id !== view.requestId) return;
      view.engine.setState({ status: 'error', error: `Sampling failed: ${message(err)}` });
      return;
    }
    if (id !== view.requestId) return;
    if (view === this.main) perfMark('received');
    const ms = Number.isFinite(vol.metadata?.sampleMs)
      ? vol.metadata.sampleMs
      : performance.now() - t0;
    view.viewer.setState({ userFile: null });
    // The brain is drawn first and then published to the store: the panels that read the volume
    // (summary, regional volumes, window presets) re-render after the viewer's swap, not before.
    await this.render(vol, view, () =>
      view.engine.setState((s) => ({
        volume: vol,
        lastSampleMs: ms,
        error: null,
        samples: s.samples + 1,
      })),
    );
    if (id === view.requestId) {
      view.engine.setState({ status: 'ready' });
      // The seed "New subject" will hand out next: the worker prepares its seed-only fields
      // while the user looks (main view only, while it is the one view sampling: the seed cache
      // holds two seeds, and other views' seeds must stay in it).
      if (view === this.main && this.viewMap.size === 1) client.prefetch?.(view.seeds.peek());
    }
  }

  /** Show `vol` on the view's viewer; `publish` (the store update) runs once it is drawn. */
  private async render(vol: SampledVolume, view: ViewSession, publish?: () => void): Promise<void> {
    const v = view.viewerInst;
    const manifest = view.engine.getState().manifest;
    if (!v || !manifest) {
      publish?.();
      return;
    }
    try {
      this.applyBrainOnly(view, v);
      try {
        await v.showVolume(vol, manifest.labels, brainWindow(vol, manifest));
      } finally {
        publish?.();
      }
      if (view === this.main) this.backend.getState().show('browser');
      // A new kind of pathology: bring its lesion into view (otherwise the crosshair stays put).
      const kind = vol.metadata.conditions.pathology;
      if (kind !== view.shownPathology) {
        view.shownPathology = kind;
        const c = lesionFocusMm(vol, manifest.labelRanges.pathology);
        if (c) v.moveTo(c);
      }
      view.rendered++;
    } catch (err) {
      view.engine.setState({ error: `Display failed: ${message(err)}` });
    }
  }

  /** Create a view's viewer on a canvas; returns a synchronous dispose for React effects. */
  attachViewer(canvas: HTMLCanvasElement, view: ViewSession = this.main): () => void {
    let disposed = false;
    let inst: ViewerLike | null = null;
    const unsub = view.viewer.subscribe((s, prev) => {
      if (!inst) return;
      if (s.overlay !== prev.overlay) inst.setOverlayVisible(s.overlay);
      if (s.opacity !== prev.opacity) inst.setOverlayOpacity(s.opacity);
      if (s.radiological !== prev.radiological) inst.setRadiological(s.radiological);
      if (s.brainOnly3D !== prev.brainOnly3D) this.applyBrainOnly(view, inst);
      if (s.placeMode !== prev.placeMode) this.applyPlaceMode(view, inst);
    });
    this.deps
      .createViewer(canvas)
      .then(async (v) => {
        if (disposed) {
          v.dispose();
          return;
        }
        inst = v;
        view.viewerInst = v;
        view.shownPathology = null;
        this.relink();
        const s = view.viewer.getState();
        v.setOverlayVisible(s.overlay);
        v.setOverlayOpacity(s.opacity);
        v.setRadiological(s.radiological);
        this.applyBrainOnly(view, v);
        this.applyPlaceMode(view, v);
        v.onCursor((cursor: CursorInfo) => view.viewer.setState({ cursor }));
        const full = this.backend.getState();
        const vol = view.engine.getState().volume;
        if (view === this.main && full.showing === 'full-size' && full.result)
          await this.display(full.result.volume);
        else if (vol) await this.render(vol, view);
      })
      .catch((err) => {
        if (!disposed)
          view.engine.setState({ error: `The 3D viewer could not start: ${message(err)}` });
      });
    return () => {
      disposed = true;
      unsub();
      if (inst) {
        if (view.viewerInst === inst) view.viewerInst = null;
        inst.dispose();
        this.relink();
      }
    };
  }

  private applyBrainOnly(view: ViewSession, v: ViewerLike): void {
    const manifest = view.engine.getState().manifest;
    if (manifest)
      v.setBrainOnly3D?.(
        view.viewer.getState().brainOnly3D,
        manifest.labelRanges.extraCerebral ?? NO_RANGE,
      );
  }

  private applyPlaceMode(view: ViewSession, v: ViewerLike): void {
    v.onPick?.(
      view.viewer.getState().placeMode ? (start, end) => this.place(start, end, view) : null,
    );
  }

  /**
   * Place the current pathology's lesion where the user clicked (place.ts): the values go
   * through the schema and the engine's validator like any other, are committed together and
   * so sampled once; a refused click changes nothing and says why.
   */
  place(start: Vec3 | null, end: Vec3 | null, view: ViewSession = this.main): boolean {
    const schema = this.schema;
    const store = view.conditions.getState();
    const refuse = (text: string) => {
      view.viewer.setState({ placeMessage: { ok: false, text } });
      return false;
    };
    if (!schema) return refuse('The model is not loaded yet.');
    if (view.viewer.getState().userFile)
      return refuse('Placing needs the generated brain on screen (not an uploaded file).');
    if (!start) return refuse('Click inside an image slice (not the 3D render) to place it.');
    const r = placeValues(schema, store.conditions, start, end);
    if (!r.ok) return refuse(r.error);
    const next = effectiveValues(schema, { ...store.conditions, ...r.values });
    const res = this.deps.engine.validateConditions(schema, next);
    if (!res.ok) return refuse(`Not placed: ${res.errors.join('; ')}`);
    store.setConditions(r.values);
    view.viewer.setState({ placeMessage: { ok: true, text: r.summary } });
    return true;
  }

  download(kind: DownloadKind, view: ViewSession = this.main): void {
    const vol = view.engine.getState().volume;
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
  async openFile(file: File, view: ViewSession = this.main): Promise<void> {
    try {
      if (file.size > MAX_UPLOAD_BYTES)
        throw new Error(`file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB`);
      view.viewer.setState({ openingFile: file.name, fileError: null });
      const bytes = await file.arrayBuffer();
      const decode =
        this.deps.decodeUpload ??
        (async (b: ArrayBuffer) => prepareUpload(this.deps.engine.parseNifti(new Uint8Array(b))));
      const t0 = performance.now();
      const upload = await decode(bytes);
      const t1 = performance.now();
      if (!view.viewerInst) throw new Error('the viewer is not ready');
      await view.viewerInst.showUserVolume(upload, file.name);
      this.lastUploadMs = { start: t0, decode: t1 - t0, show: performance.now() - t1 };
      view.viewer.setState({
        userFile: file.name,
        userFileNotes: upload.notes,
        openingFile: null,
        fileError: null,
        cursor: null,
      });
    } catch (err) {
      view.viewer.setState({
        openingFile: null,
        fileError: `Could not open "${file.name}": ${message(err)}`,
      });
    }
  }

  dismissFileError(view: ViewSession = this.main): void {
    view.viewer.setState({ fileError: null });
  }

  /** Show a volume that is not the browser's sample (the 1 mm result); errors propagate. */
  private async display(vol: SampledVolume): Promise<void> {
    const view = this.main;
    const v = view.viewerInst;
    const manifest = view.engine.getState().manifest;
    if (!v || !manifest) throw new Error('the viewer is not ready');
    await v.showVolume(vol, manifest.labels, brainWindow(vol, manifest));
    view.viewer.setState({ userFile: null });
    view.rendered++;
  }

  /** Return from an uploaded file (or the 1 mm result) to the view's generated volume. */
  async showGenerated(view: ViewSession = this.main): Promise<void> {
    const vol = view.engine.getState().volume;
    view.viewer.setState({ userFile: null });
    if (vol) await this.render(vol, view);
  }

  /** Move the view's crosshair into its largest lesion (lesionFocus.ts), if any. */
  focusLesion(view: ViewSession = this.main): void {
    const { volume, manifest } = view.engine.getState();
    const c = volume && manifest ? lesionFocusMm(volume, manifest.labelRanges.pathology) : null;
    if (c && view.viewerInst && !view.viewer.getState().userFile) view.viewerInst.moveTo(c);
  }

  /** Window/level presets (windowPresets.ts) for the view's generated volume and contrast. */
  windowPresets(view: ViewSession = this.main): WindowPreset[] {
    const { volume, manifest } = view.engine.getState();
    return volume && manifest ? presetsOf(volume, manifest) : [];
  }

  /** Apply a window/level preset by name to the view's generated volume. */
  applyWindowPreset(name: string, view: ViewSession = this.main): void {
    const p = this.windowPresets(view).find((w) => w.name === name);
    if (p && view.viewerInst && !view.viewer.getState().userFile)
      view.viewerInst.setWindow?.(p.min, p.max);
  }

  /** The recipe (recipe.ts) of the volume the view generated last; null before the first. */
  recipe(view: ViewSession = this.main): Recipe | null {
    const vol = view.engine.getState().volume;
    return vol ? recipeOf(vol) : null;
  }

  /**
   * Apply a pasted recipe to the main view: its values go through the URL's checks (each
   * refused one is named), another model version is reported. Returns false when the text
   * is no recipe at all (then nothing changes but the message).
   */
  applyRecipe(text: string): boolean {
    const schema = this.schema;
    const manifest = this.client?.manifest;
    const store = this.conditions.getState();
    if (!schema || !manifest) return false;
    const parsed = parseRecipe(text);
    if (!parsed.ok) {
      store.init(store.conditions, store.seed, [`Recipe refused: ${parsed.error}`]);
      return false;
    }
    const r = parsed.recipe;
    const url = readUrl(recipeSearch(r), schema, this.deps.engine, () => store.seed);
    const mismatch = modelMismatch(r.model, manifest, 'recipe');
    this.sampler = url.sampler;
    store.init(url.conditions, url.seed, [
      ...url.errors.map((e) => `Recipe: ${e}`),
      ...(mismatch ? [mismatch] : []),
    ]);
    this.syncUrl();
    return true;
  }

  /**
   * For the blinded reading session (review/): sample a healthy brain of the given
   * conditions (on top of the schema's defaults, validated) in its own worker lane, shown
   * nowhere; the model's id + version; decode a user's NIfTI (off the main thread in the app);
   * a viewer on a canvas of its own.
   */
  async sampleOffView(values: Record<string, unknown>, seed: number): Promise<SampledVolume> {
    const client = this.client;
    const schema = this.schema;
    if (!client || !schema) throw new Error('the model is not loaded yet');
    const base = this.deps.engine.defaultsFromSchema(schema);
    const res = this.deps.engine.validateConditions(
      schema,
      effectiveValues(schema, { ...base, ...values, pathology: 'none' } as ConditionValues),
    );
    if (!res.ok) throw new Error(`Invalid conditions: ${res.errors.join('; ')}`);
    return client.sample(res.value, seed, this.sampler ?? undefined, REVIEW_LANE);
  }

  modelInfo(): { id: string; version: string } | null {
    const m = this.client?.manifest;
    return m ? { id: m.id, version: m.version } : null;
  }

  decodeFile(bytes: ArrayBuffer): Promise<PreparedUpload> {
    const decode =
      this.deps.decodeUpload ??
      (async (b: ArrayBuffer) => prepareUpload(this.deps.engine.parseNifti(new Uint8Array(b))));
    return decode(bytes);
  }

  createViewerOn(canvas: HTMLCanvasElement): Promise<ViewerLike> {
    return this.deps.createViewer(canvas);
  }

  saveFile(blob: Blob, name: string): void {
    (this.deps.saveBlob ?? saveBlob)(blob, name);
  }

  screenshot(view: ViewSession = this.main): string {
    return view.viewerInst?.screenshot() ?? '';
  }

  /** Where a position (mm) lies on the main view's axial slice, in canvas CSS px (e2e). */
  canvasPoint(mm: Vec3, view: ViewSession = this.main): [number, number] | null {
    return view.viewerInst?.canvasPoint?.(mm) ?? null;
  }

  /** Small, stable snapshot of the main view for end-to-end tests (window.__brainsynth.state). */
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
      conditions: this.schema ? effectiveValues(this.schema, c.conditions) : c.conditions,
      seed: c.seed,
      keepSubject: c.keepSubject,
      errors: [...c.errors],
      viewer: {
        overlay: v.overlay,
        opacity: v.opacity,
        radiological: v.radiological,
        review: v.review,
        cursor: v.cursor,
        userFile: v.userFile,
        userFileNotes: [...v.userFileNotes],
        openingFile: v.openingFile,
        lastUploadMs: this.lastUploadMs,
        fileError: v.fileError,
        brainOnly3D: v.brainOnly3D,
        placeMode: v.placeMode,
        placeMessage: v.placeMessage,
        view: this.main.viewerInst?.viewState() ?? null,
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
    for (const view of this.viewMap.values()) for (const u of view.unsubscribers.splice(0)) u();
    this.fullSize.dispose();
    this.datasets.dispose();
    this.batch.cancel();
    this.client?.dispose?.();
  }
}

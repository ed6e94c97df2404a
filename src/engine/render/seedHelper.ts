/**
 * The seed helper: a second worker that computes the seed-only work of a sample (the four fields
 * of render/seedCache.ts and step 7b's cube-map table, sampler/folding.ts) while the engine
 * worker runs the anatomy. On a new subject that is ~60 % of the CPU-side sample's work, and it
 * needs nothing but the seed and a few model parameters, so on two cores the two halves overlap.
 * The results are the same numbers (the same functions run in the helper) and land in the same
 * caches; a sample only waits for them just before it needs them (table: folding; fields:
 * contrast). Without a helper (Node, tests) or when it fails, everything is computed in place as
 * before.
 *
 * Protocol (one job per seed): in {id, seed, spec, folding?}; out {id, kind: 'table', table}
 * (only with folding) then {id, kind: 'fields', fields}, or {id, kind: 'error', message}.
 * Buffers are transferred, not copied.
 */
import type { Model } from '../model/loadModel';
import type { Grid } from '../model/grid';
import { warpLattice } from '../kernels/warp';
import {
  cubeTable,
  hasFoldingTable,
  insertFoldingTable,
  type FoldingParams,
} from '../sampler/folding';
import {
  computeSeedFields,
  computeSeedFieldsHelperPart,
  computeSeedFieldsOwnPart,
  hasSeedFields,
  noiseSplit,
  insertSeedFields,
  seedFieldSpec,
  type SeedFieldSpec,
  type SeedFields,
} from './seedCache';

export interface SeedJobRequest {
  type?: 'seed';
  id: number;
  seed: number;
  spec: SeedFieldSpec;
  folding?: FoldingParams;
  /**
   * A shared job: the helper draws noiseReal[0, realFrom) only and no noiseImag (the sample's
   * thread draws the rest meanwhile: `SeedWork.own`).
   */
  realFrom?: number;
}

/** A model's constants for warp slabs, sent once per model (`key`) before its first slab. */
export interface WarpModelRequest {
  type: 'warpModel';
  key: number;
  grid: Grid;
  vgrid: Grid;
  templatePadded: Int32Array;
}

/** Output slices [k0, k1) of `warpLattice` for displacement u and axes (kernels/warp.ts). */
export interface WarpSlabRequest {
  type: 'warp';
  id: number;
  key: number;
  u: Float32Array;
  axes: [Float32Array, Float32Array, Float32Array];
  k0: number;
  k1: number;
}

export type HelperRequest = SeedJobRequest | WarpModelRequest | WarpSlabRequest;

export type SeedJobResponse =
  | { id: number; kind: 'table'; table: Float64Array }
  | { id: number; kind: 'fields'; fields: SeedFields }
  | { id: number; kind: 'warp'; labelIndex: Int32Array; templateIndex: Int32Array }
  | { id: number; kind: 'error'; message: string };

/** The helper worker's model constants for warp slabs, by key. */
const warpModels = new Map<number, WarpModelRequest>();

/** The helper worker's handling of any request (seedHelperWorker.ts calls this). */
export function runHelperRequest(
  req: HelperRequest,
  post: (msg: SeedJobResponse, transfer: Transferable[]) => void,
): void {
  if (req.type === 'warpModel') {
    warpModels.clear(); // one model at a time
    warpModels.set(req.key, req);
    return;
  }
  if (req.type === 'warp') {
    try {
      const m = warpModels.get(req.key);
      if (!m) throw new Error('warp slab for an unknown model');
      const w = warpLattice(req.u, m.vgrid, m.grid, req.axes, m.templatePadded, req);
      post({ id: req.id, kind: 'warp', labelIndex: w.labelIndex, templateIndex: w.templateIndex }, [
        w.labelIndex.buffer,
        w.templateIndex.buffer,
      ]);
    } catch (e) {
      post({ id: req.id, kind: 'error', message: e instanceof Error ? e.message : String(e) }, []);
    }
    return;
  }
  runSeedJob(req, post);
}

/** The helper worker's work for one job (the worker entry, seedHelperWorker.ts, calls this). */
export function runSeedJob(
  req: SeedJobRequest,
  post: (msg: SeedJobResponse, transfer: Transferable[]) => void,
): void {
  try {
    if (req.folding) {
      const table = cubeTable(req.seed, req.folding);
      post({ id: req.id, kind: 'table', table }, [table.buffer]);
    }
    const fields =
      req.realFrom === undefined
        ? computeSeedFields(req.spec, req.seed)
        : computeSeedFieldsHelperPart(req.spec, req.seed, req.realFrom);
    post({ id: req.id, kind: 'fields', fields }, [
      fields.texture.buffer,
      fields.bias.buffer,
      fields.noiseReal.buffer,
      fields.noiseImag.buffer,
    ]);
  } catch (e) {
    post({ id: req.id, kind: 'error', message: e instanceof Error ? e.message : String(e) }, []);
  }
}

/** What a sample waits on: each promise resolves (never rejects) once its result is cached. */
export interface SeedWork {
  table: Promise<void>;
  fields: Promise<void>;
  /**
   * This thread's share of a shared job (part of the Rician noise), computed now; a no-op for a
   * job the helper does alone. Call it before awaiting `fields`.
   */
  own(): void;
}

/** The minimal Worker surface the client uses (a real Worker, or a fake in tests). */
export interface SeedWorkerLike {
  postMessage(msg: HelperRequest): void;
  onmessage: ((e: MessageEvent<SeedJobResponse>) => void) | null;
  onerror: ((e: ErrorEvent) => void) | null;
  terminate(): void;
}

interface Job {
  model: Model;
  seed: number;
  folding?: FoldingParams;
  work: SeedWork;
  resolveTable: () => void;
  resolveFields: () => void;
  /** A shared job: where the helper's noiseReal stops. */
  realFrom?: number;
  /** This thread's share, once computed. */
  own?: { noiseReal: Float32Array; noiseImag: Float32Array };
}

/**
 * The fraction of noiseReal a shared job leaves to the sample's thread (besides all of
 * noiseImag): the two threads' work for a new subject is then about equal (measured in Node:
 * the helper's table + texture + bias ≈ 110 ms, the sample's warp + folding + horns ≈ 85 ms,
 * one noise volume ≈ 50 ms).
 */
let ownShareOfReal = 0.25;
/** Whether a sample's job is shared with its thread (default) or done by the helper alone. */
let shareJobs = true;

/** Tune the shared job (tests, A/B): share or not, and the sample thread's part of noiseReal. */
export function setSeedJobSharing(share: boolean, shareOfReal = 0.25): void {
  shareJobs = share;
  ownShareOfReal = shareOfReal;
}

let makeWorker: (() => SeedWorkerLike) | null = null;
let worker: SeedWorkerLike | null = null;
let nextId = 1;
const jobs = new Map<number, Job>();
const bySeed = new WeakMap<Model, Map<number, Job>>();

/**
 * Install (or with null remove) the helper: `make` creates the worker on first use. The engine
 * worker installs one (worker.ts); without it `requestSeedWork` returns null.
 */
export function setSeedHelper(make: (() => SeedWorkerLike) | null): void {
  worker?.terminate();
  worker = null;
  sentWarpModel = null;
  makeWorker = make;
  for (const job of jobs.values()) finish(job); // waiting samples compute in place
  jobs.clear();
  for (const slab of warpJobs.values()) slab.resolve(null);
  warpJobs.clear();
  warpModelKeys = new WeakMap();
}

const warpJobs = new Map<
  number,
  { resolve: (r: { labelIndex: Int32Array; templateIndex: Int32Array } | null) => void }
>();
let warpModelKeys = new WeakMap<Model, number>();
let sentWarpModel: number | null = null;

/**
 * Whether the helper is free for a warp slab: installed, and no seed job running (a new
 * subject's seed work is the longer half there; a slab would only queue behind it).
 */
export function helperIdle(): boolean {
  return makeWorker !== null && jobs.size === 0 && warpJobs.size === 0;
}

/**
 * Output slices [k0, k1) of `warpLattice(u, …)` computed by the helper; null when there is no
 * helper or it failed (the caller computes them itself). `u` and `axes` are copied.
 */
export function requestWarpSlab(
  model: Model,
  u: Float32Array,
  axes: [Float32Array, Float32Array, Float32Array],
  templatePadded: Int32Array,
  k0: number,
  k1: number,
): Promise<{ labelIndex: Int32Array; templateIndex: Int32Array } | null> | null {
  const w = helperWorker();
  if (!w) return null;
  let key = warpModelKeys.get(model);
  if (key === undefined) warpModelKeys.set(model, (key = nextId++));
  if (sentWarpModel !== key) {
    (w as unknown as { postMessage(m: HelperRequest): void }).postMessage({
      type: 'warpModel',
      key,
      grid: model.grid,
      vgrid: model.velocityGrid,
      templatePadded,
    });
    sentWarpModel = key;
  }
  const id = nextId++;
  return new Promise((resolve) => {
    warpJobs.set(id, { resolve });
    (w as unknown as { postMessage(m: HelperRequest): void }).postMessage({
      type: 'warp',
      id,
      key,
      u,
      axes,
      k0,
      k1,
    });
  });
}

function finish(job: Job, id?: number): void {
  job.resolveTable();
  job.resolveFields();
  if (id !== undefined) jobs.delete(id);
  const m = bySeed.get(job.model);
  if (m?.get(job.seed) === job) m.delete(job.seed);
}

function onMessage(e: MessageEvent<SeedJobResponse>): void {
  const msg = e.data;
  const slab = warpJobs.get(msg.id);
  if (slab) {
    warpJobs.delete(msg.id);
    if (msg.kind === 'warp') slab.resolve(msg);
    else slab.resolve(null);
    return;
  }
  const job = jobs.get(msg.id);
  if (!job) return;
  try {
    if (msg.kind === 'table') {
      if (job.folding) insertFoldingTable(job.model, job.seed, job.folding, msg.table);
      job.resolveTable();
      return;
    }
    if (msg.kind === 'fields') {
      if (job.realFrom === undefined) insertSeedFields(job.model, msg.fields);
      else if (job.own) {
        // the helper's part of noiseReal into this thread's array, which has the rest
        const real = job.own.noiseReal;
        real.set(msg.fields.noiseReal.subarray(0, job.realFrom));
        insertSeedFields(job.model, {
          ...msg.fields,
          noiseReal: real,
          noiseImag: job.own.noiseImag,
        });
      }
      // (a shared job whose sample never took its share: dropped, computed again when needed)
    }
  } catch {
    // a wrong-sized result: ignored, the sample computes it in place
  }
  finish(job, msg.id);
}

function helperWorker(): SeedWorkerLike | null {
  if (worker || !makeWorker) return worker;
  try {
    worker = makeWorker();
  } catch {
    makeWorker = null; // no workers here: compute in place from now on
    return null;
  }
  worker.onmessage = onMessage;
  worker.onerror = () => {
    // the helper is broken: release every waiting sample, and stop using it
    const w = worker;
    worker = null;
    makeWorker = null;
    w?.terminate();
    for (const [id, job] of jobs) finish(job, id);
    for (const slab of warpJobs.values()) slab.resolve(null);
    warpJobs.clear();
  };
  return worker;
}

/** Whether a helper is installed (it may not have started yet). */
export function hasSeedHelper(): boolean {
  return makeWorker !== null;
}

/** Start the helper worker now (the engine worker does at start-up, so it is warm for the first sample). */
export function startSeedHelper(): void {
  helperWorker();
}

/**
 * Start (or join) the helper's job for `seed` unless its results are cached already. Returns
 * null when there is nothing to wait for (no helper, or everything cached).
 */
export function requestSeedWork(
  model: Model,
  seed: number,
  options: { share?: boolean } = {},
): SeedWork | null {
  const folding =
    model.manifest.folding && model.arrays.corticalDepth ? model.manifest.folding : undefined;
  const needTable = folding !== undefined && !hasFoldingTable(model, seed);
  const needFields = !hasSeedFields(model, seed);
  const running = bySeed.get(model)?.get(seed);
  if (running) return running.work;
  if (!needTable && !needFields) return null;
  const w = helperWorker();
  if (!w) return null;
  let resolveTable = () => {};
  let resolveFields = () => {};
  const n = model.grid.count;
  const realFrom =
    options.share && shareJobs && needFields ? noiseSplit(n, ownShareOfReal) : undefined;
  const job: Job = {
    model,
    seed,
    folding: needTable ? folding : undefined,
    work: {
      table: new Promise<void>((r) => (resolveTable = r)),
      fields: new Promise<void>((r) => (resolveFields = r)),
      own: () => {
        if (job.realFrom !== undefined && !job.own)
          job.own = computeSeedFieldsOwnPart(n, seed, job.realFrom);
      },
    },
    resolveTable: () => resolveTable(),
    resolveFields: () => resolveFields(),
    realFrom,
  };
  const work = job.work;
  if (!needTable) resolveTable();
  const id = nextId++;
  jobs.set(id, job);
  let m = bySeed.get(model);
  if (!m) bySeed.set(model, (m = new Map()));
  m.set(seed, job);
  w.postMessage({ id, seed, spec: seedFieldSpec(model), folding: job.folding, realFrom });
  return work;
}

/** Jobs in flight (tests). */
export function seedJobsInFlight(): number {
  return jobs.size;
}

/**
 * Backend store: the optional full-size backend (where it is, whether it answers, which
 * device) and the one full-size request the app makes at a time.
 *
 * availability: unknown (not checked yet) → ready | absent; busy after a 429 (queue full),
 *   back to ready on the next answer that is not a 429.
 * phase: idle → submitting → queued → running → downloading → done
 *        ↘ failed (error says why) · cancelled
 * showing: which volume the viewer shows — the browser's 2 mm sample or the 1 mm result.
 */
import { createStore } from 'zustand/vanilla';
import type { JobStatus } from '../../backend';
import type { Conditions, SampledVolume } from '../../engine/types';

export type BackendAvailability = 'unknown' | 'absent' | 'ready' | 'busy';
export type FullSizePhase =
  'idle' | 'submitting' | 'queued' | 'running' | 'downloading' | 'done' | 'failed' | 'cancelled';
export type Showing = 'browser' | 'full-size';

export interface ResultFileBytes {
  /** The server's file name. */
  name: string;
  bytes: Uint8Array;
}

export interface FullSizeResult {
  jobId: string;
  /** The 1 mm volume as the viewer shows it. */
  volume: SampledVolume;
  files: { image: ResultFileBytes; labels: ResultFileBytes; sidecar: ResultFileBytes };
  conditions: Conditions;
  seed: number;
  contrast: string;
  /** Device that generated it ('cpu' or the GPU's name). */
  device: string | null;
  /** Click → on screen, seconds. */
  seconds: number;
  /** The server's own generation time (sidecar), seconds, when it reports one. */
  generationSeconds: number | null;
  /** Where the time went, seconds: job (submit → succeeded), download, parse, display. */
  timings: { jobS: number; downloadS: number; parseS: number; displayS: number };
}

export interface BackendState {
  url: string;
  availability: BackendAvailability;
  /** From /health: 'cpu' or the CUDA device's name. */
  device: string | null;
  version: string | null;
  /** Why the backend is absent or busy (the client's message). */
  reason: string | null;
  phase: FullSizePhase;
  jobId: string | null;
  /** The job's progress, 0..1 (never goes back within one job). */
  progress: number;
  /** What the backend is doing ("anatomy", "contrast", …) or what the app does next. */
  stage: string;
  error: string | null;
  result: FullSizeResult | null;
  showing: Showing;

  setUrl(url: string): void;
  setReady(device: string, version: string): void;
  setAbsent(reason: string): void;
  setBusy(reason: string): void;
  start(): void;
  update(job: Pick<JobStatus, 'id' | 'state' | 'progress' | 'message' | 'queue_position'>): void;
  setStage(stage: string): void;
  /** The job succeeded: its files are being fetched and opened. */
  downloading(stage: string): void;
  fail(error: string): void;
  cancelled(): void;
  /** The result is on screen. */
  done(result: FullSizeResult): void;
  show(showing: Showing): void;
}

export type BackendStore = ReturnType<typeof createBackendStore>;

export const ACTIVE_PHASES: readonly FullSizePhase[] = [
  'submitting',
  'queued',
  'running',
  'downloading',
];

export function isActive(phase: FullSizePhase): boolean {
  return ACTIVE_PHASES.includes(phase);
}

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

export function createBackendStore(url: string) {
  return createStore<BackendState>()((set, get) => ({
    url,
    availability: 'unknown',
    device: null,
    version: null,
    reason: null,
    phase: 'idle',
    jobId: null,
    progress: 0,
    stage: '',
    error: null,
    result: null,
    showing: 'browser',

    setUrl: (next) =>
      set({ url: next, availability: 'unknown', device: null, version: null, reason: null }),
    setReady: (device, version) => set({ availability: 'ready', device, version, reason: null }),
    setAbsent: (reason) => set({ availability: 'absent', reason }),
    setBusy: (reason) => set({ availability: 'busy', reason }),
    start: () =>
      set({ phase: 'submitting', jobId: null, progress: 0, stage: 'submitting', error: null }),
    update: (job) => {
      const s = get();
      const sameJob = s.jobId === job.id;
      const phase = job.state === 'queued' ? 'queued' : job.state === 'running' ? 'running' : null;
      const stage =
        job.state === 'queued'
          ? `queued${job.queue_position ? ` (position ${job.queue_position})` : ''}`
          : job.message;
      set({
        jobId: job.id,
        progress: Math.max(sameJob ? s.progress : 0, clamp01(job.progress)),
        stage,
        ...(phase ? { phase } : {}),
        availability: 'ready', // it answered and took the job
      });
    },
    setStage: (stage) => set({ stage }),
    downloading: (stage) => set({ phase: 'downloading', stage, progress: 1 }),
    fail: (error) => set({ phase: 'failed', error, stage: '' }),
    cancelled: () => set({ phase: 'cancelled', stage: '', error: null }),
    done: (result) =>
      set({
        phase: 'done',
        result,
        progress: 1,
        stage: '',
        error: null,
        jobId: result.jobId,
        showing: 'full-size',
      }),
    show: (showing) => set({ showing }),
  }));
}

/**
 * Time-lapse store: one subject (the main view's conditions and seed) stepped along one
 * condition: age from youngest to oldest, or the current pathology's severity/load. Frames are
 * computed ahead in their own worker lane and cached; playback shows cached frames only.
 * The logic (computing, the play loop) is in teach/timelapse.ts; this is its state.
 */
import { createStore } from 'zustand/vanilla';
import {
  isEnumProperty,
  stepDecimals,
  type ConditionValues,
  type ConditionsSchema,
} from '../schema';

export type TimelapseTrack = 'age' | 'disease';
/** idle: nothing computed; computing: frames arriving; ready: all cached; error: see `error`. */
export type TimelapseStatus = 'idle' | 'computing' | 'ready' | 'error';

/** Playback speeds offered (frames per second). */
export const TIMELAPSE_SPEEDS = [2, 5, 10, 15, 20, 30] as const;
/** Age steps offered (years between frames). */
export const AGE_STEPS = [2, 5, 10] as const;
/** Frames of a disease track (from the parameter's minimum to its maximum). */
export const DISEASE_FRAMES = 11;

export interface TimelapseState {
  /** Whether the time-lapse drives the main viewer (false: the viewer shows the main sample). */
  active: boolean;
  track: TimelapseTrack;
  /** Years between age frames. */
  ageStep: number;
  status: TimelapseStatus;
  error: string | null;
  /** The stepped condition's name ('age', 'adSeverity', …), its title, unit and decimals. */
  param: { name: string; title: string; unit: string; decimals: number } | null;
  /** The stepped condition's value of each frame. */
  values: number[];
  /** Which frames are cached (computed). */
  cached: boolean[];
  /** Frame on screen (index into values). */
  index: number;
  playing: boolean;
  loop: boolean;
  /** Target frames per second. */
  speed: number;
  /** Frames per second actually shown during the last playback (null before any). */
  measuredFps: number | null;
  /** Frames shown since the time-lapse opened (tests wait on it). */
  shown: number;
  /** Average time to compute one frame, ms. */
  frameMs: number | null;
  /** Frames drawn once into pictures for fast playback so far (null: not preparing). */
  preparing: number | null;
  /** Playback shows the prepared pictures (true) or draws each volume in the viewer (false). */
  pictures: boolean;
}

export type TimelapseStore = ReturnType<typeof createTimelapseStore>;

export function createTimelapseStore() {
  return createStore<TimelapseState>()(() => ({
    active: false,
    track: 'age',
    ageStep: 5,
    status: 'idle',
    error: null,
    param: null,
    values: [],
    cached: [],
    index: 0,
    playing: false,
    loop: true,
    speed: 10,
    measuredFps: null,
    shown: 0,
    frameMs: null,
    preparing: null,
    pictures: false,
  }));
}

export interface TrackPlan {
  param: NonNullable<TimelapseState['param']>;
  values: number[];
}

function range(min: number, max: number, step: number, decimals: number): number[] {
  const out: number[] = [];
  const n = Math.floor((max - min) / step + 1e-9);
  for (let i = 0; i <= n; i++) out.push(Number((min + i * step).toFixed(decimals)));
  if (out[out.length - 1] < max) out.push(max);
  return out;
}

/**
 * The frames of a track for these conditions: the values of the stepped condition. Age: the
 * schema's range by `ageStep`. Disease: the first number condition shown only for the current
 * pathology (AD severity, MS lesion load, tumour radius, …), minimum to maximum in
 * DISEASE_FRAMES frames. An Error says why there is no track (e.g. a healthy brain).
 */
export function planTrack(
  schema: ConditionsSchema,
  values: ConditionValues,
  track: TimelapseTrack,
  ageStep: number,
): TrackPlan {
  if (track === 'age') {
    const p = schema.properties.age;
    if (!p || isEnumProperty(p)) throw new Error('this model has no numeric "age" condition');
    return {
      param: { name: 'age', title: p.title ?? 'Age', unit: p['x-unit'] ?? '', decimals: 0 },
      values: range(p.minimum, p.maximum, ageStep, 0),
    };
  }
  const pathology = values.pathology;
  for (const [name, p] of Object.entries(schema.properties)) {
    if (isEnumProperty(p)) continue;
    const when = p['x-showWhen'];
    if (!when || when.pathology !== pathology) continue;
    const step = (p.maximum - p.minimum) / (DISEASE_FRAMES - 1);
    const decimals = Math.max(stepDecimals(p['x-step'] ?? step), 1);
    return {
      param: { name, title: p.title ?? name, unit: p['x-unit'] ?? '', decimals },
      values: range(p.minimum, p.maximum, step, decimals),
    };
  }
  throw new Error(
    pathology === 'none' || pathology === undefined
      ? 'choose a pathology first: a healthy brain has no disease to progress'
      : `the pathology "${String(pathology)}" has no severity or load to step`,
  );
}

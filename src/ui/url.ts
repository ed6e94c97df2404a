/**
 * URL <-> state. `?age=72&sex=female&pathology=alzheimers&adSeverity=0.6&seed=123&backend=cpu`
 * initialises the app; the URL is kept in sync with the state so a view can be shared.
 * `sampler=student|exact` picks the anatomy sampler (default: the model's distilled student).
 * Invalid values are REFUSED (listed to the user, defaults used), never clamped.
 */
import type { SamplerName } from '../engine/types';
import { BACKEND_CHOICES, SAMPLER_CHOICES, type BackendChoice, type EngineApi } from './engineApi';
import {
  conditionValues,
  effectiveValues,
  type ConditionValues,
  type ConditionsSchema,
} from './schema';
import { MAX_SEED } from './stores/conditionsStore';

/** Parameters that are not conditions. */
export const APP_PARAMS = ['seed', 'backend', 'backend_url', 'sampler'] as const;

export interface UrlState {
  conditions: ConditionValues;
  seed: number;
  backend: BackendChoice;
  /** Whether the URL named a backend (then it is kept in the URL). */
  backendExplicit: boolean;
  /** The sampler the URL asked for; null = the model's default. */
  sampler: SamplerName | null;
  errors: string[];
}

export function parseSeed(raw: string): number | null {
  if (!/^\d+$/.test(raw.trim())) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 && n <= MAX_SEED ? n : null;
}

export function readUrl(
  search: string,
  schema: ConditionsSchema,
  engine: Pick<EngineApi, 'defaultsFromSchema' | 'conditionsFromSearchParams'>,
  newSeed: () => number,
): UrlState {
  const params = new URLSearchParams(search);
  const errors: string[] = [];
  const defaults = conditionValues(engine.defaultsFromSchema(schema));

  const condParams = new URLSearchParams();
  for (const [k, v] of params)
    if (!(APP_PARAMS as readonly string[]).includes(k)) condParams.append(k, v);

  let conditions: ConditionValues = { ...defaults };
  if ([...condParams.keys()].length > 0) {
    const res = engine.conditionsFromSearchParams(schema, condParams);
    if (res.ok) conditions = { ...defaults, ...conditionValues(res.value) };
    else errors.push(...res.errors);
  }

  let seed: number | null = null;
  const rawSeed = params.get('seed');
  if (rawSeed !== null) {
    seed = parseSeed(rawSeed);
    if (seed === null)
      errors.push(`seed: "${rawSeed}" is not an integer between 0 and ${MAX_SEED}`);
  }

  let backend: BackendChoice = 'auto';
  const rawBackend = params.get('backend');
  if (rawBackend !== null) {
    const known = BACKEND_CHOICES.find((b) => b === rawBackend);
    if (known) backend = known;
    else errors.push(`backend: "${rawBackend}" is not one of ${BACKEND_CHOICES.join(', ')}`);
  }

  let sampler: SamplerName | null = null;
  const rawSampler = params.get('sampler');
  if (rawSampler !== null) {
    const known = SAMPLER_CHOICES.find((s) => s === rawSampler);
    if (known) sampler = known;
    else errors.push(`sampler: "${rawSampler}" is not one of ${SAMPLER_CHOICES.join(', ')}`);
  }

  return {
    conditions,
    seed: seed ?? newSeed(),
    backend,
    backendExplicit: rawBackend !== null && backend === rawBackend,
    sampler,
    errors,
  };
}

/** The parameters of `writeUrl` that are not conditions; null or absent = left out. */
export interface AppParams {
  backend?: BackendChoice | null;
  backendUrl?: string | null;
  sampler?: SamplerName | null;
}

/** Query string (with leading '?') for the current state: relevant conditions, seed, app. */
export function writeUrl(
  schema: ConditionsSchema,
  conditions: ConditionValues,
  seed: number,
  app: AppParams = {},
): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(effectiveValues(schema, conditions)))
    params.set(k, String(v));
  params.set('seed', String(seed));
  if (app.backend) params.set('backend', app.backend);
  if (app.backendUrl) params.set('backend_url', app.backendUrl);
  if (app.sampler) params.set('sampler', app.sampler);
  return `?${params.toString()}`;
}

/**
 * URL <-> state. `?age=72&sex=female&pathology=alzheimers&adSeverity=0.6&seed=123&backend=cpu`
 * initialises the app; the URL is kept in sync with the state so a view can be shared.
 * Invalid values are REFUSED (listed to the user, defaults used), never clamped.
 */
import { BACKEND_CHOICES, type BackendChoice, type EngineApi } from './engineApi';
import { effectiveValues, type ConditionValues, type ConditionsSchema } from './schema';
import { MAX_SEED } from './stores/conditionsStore';

/** Parameters that are not conditions. */
export const APP_PARAMS = ['seed', 'backend', 'backend_url'] as const;

export interface UrlState {
  conditions: ConditionValues;
  seed: number;
  backend: BackendChoice;
  /** Whether the URL named a backend (then it is kept in the URL). */
  backendExplicit: boolean;
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
  const defaults = engine.defaultsFromSchema(schema) as unknown as ConditionValues;

  const condParams = new URLSearchParams();
  for (const [k, v] of params)
    if (!(APP_PARAMS as readonly string[]).includes(k)) condParams.append(k, v);

  let conditions: ConditionValues = { ...defaults };
  if ([...condParams.keys()].length > 0) {
    const res = engine.conditionsFromSearchParams(schema, condParams);
    if (res.ok) conditions = { ...defaults, ...(res.value as unknown as ConditionValues) };
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
    if ((BACKEND_CHOICES as string[]).includes(rawBackend)) backend = rawBackend as BackendChoice;
    else errors.push(`backend: "${rawBackend}" is not one of ${BACKEND_CHOICES.join(', ')}`);
  }

  return {
    conditions,
    seed: seed ?? newSeed(),
    backend,
    backendExplicit: rawBackend !== null && backend === rawBackend,
    errors,
  };
}

/** Query string (with leading '?') for the current state: relevant conditions, seed, backend. */
export function writeUrl(
  schema: ConditionsSchema,
  conditions: ConditionValues,
  seed: number,
  backend: BackendChoice | null,
  backendUrl: string | null = null,
): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(effectiveValues(schema, conditions)))
    params.set(k, String(v));
  params.set('seed', String(seed));
  if (backend) params.set('backend', backend);
  if (backendUrl) params.set('backend_url', backendUrl);
  return `?${params.toString()}`;
}

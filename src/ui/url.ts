/**
 * URL <-> state. `?age=72&sex=female&pathology=alzheimers&adSeverity=0.6&seed=123&backend=cpu`
 * initialises the app; the URL is kept in sync with the state so a view can be shared.
 * `sampler=student|exact` picks the anatomy sampler (default: the model's distilled student);
 * `model=id@version` names the model the link was made with (another one is reported).
 * Invalid values are REFUSED one by one (listed to the user, that parameter's default used; the
 * valid ones are kept), never clamped. Unknown or wrongly cased parameters are named too.
 */
import type { SamplerName } from '../engine/types';
import { BACKEND_CHOICES, SAMPLER_CHOICES, type BackendChoice, type EngineApi } from './engineApi';
import {
  conditionValues,
  effectiveValues,
  type ConditionValues,
  type ConditionsSchema,
} from './schema';
import { parseModelTag } from './recipe';
import { MAX_SEED } from './stores/conditionsStore';

/** Parameters that are not conditions. */
export const APP_PARAMS = ['seed', 'backend', 'backend_url', 'sampler', 'model', 'review'] as const;

export interface UrlState {
  conditions: ConditionValues;
  seed: number;
  backend: BackendChoice;
  /** Whether the URL named a backend (then it is kept in the URL). */
  backendExplicit: boolean;
  /** The sampler the URL asked for; null = the model's default. */
  sampler: SamplerName | null;
  /** `model=id@version`: the model the link was made with (compared with the loaded one). */
  model: { id: string; version: string } | null;
  /** `review=1`: open in review mode (radiological, label overlay off). */
  review: boolean;
  /** Refused values and unknown parameters, as messages for the user. */
  errors: string[];
  /** Condition parameters whose value was refused (their defaults are used). */
  refused: string[];
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

  const condNames = Object.keys(schema.properties);
  errors.push(...unknownParams(params, [...condNames, ...APP_PARAMS]));

  // Each condition is judged on its own: a refused value (age=300) falls back to its default
  // and every valid one (pathology=glioma) is kept.
  const given = new Map<string, string>();
  for (const [k, v] of params) if (condNames.includes(k) && !given.has(k)) given.set(k, v);
  const refused: string[] = [];
  let conditions: ConditionValues = { ...defaults };
  for (let round = 0; given.size > 0 && round <= condNames.length; round++) {
    const res = engine.conditionsFromSearchParams(schema, new URLSearchParams([...given]));
    if (res.ok) {
      conditions = { ...defaults, ...conditionValues(res.value) };
      break;
    }
    const blamed = new Map<string, string[]>();
    for (const e of res.errors) {
      const name = blamedParam(e, [...given.keys()]);
      if (name) blamed.set(name, [...(blamed.get(name) ?? []), e]);
    }
    if (blamed.size === 0) {
      // an error that names no single parameter: refuse them all (the defaults are used)
      errors.push(...res.errors.map((e) => `${e}; the defaults are used`));
      refused.push(...given.keys());
      break;
    }
    for (const [name, reasons] of blamed) {
      const def = defaults[name];
      const fallback = def === undefined ? '' : ` (the default ${String(def)} is used)`;
      errors.push(`${name}=${given.get(name) ?? ''} refused: ${reasons.join('; ')}${fallback}`);
      refused.push(name);
      given.delete(name);
    }
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

  let model: UrlState['model'] = null;
  const rawModel = params.get('model');
  if (rawModel !== null) {
    model = parseModelTag(rawModel);
    if (!model) errors.push(`model: "${rawModel}" is not of the form id@version`);
  }

  let review = false;
  const rawReview = params.get('review');
  if (rawReview !== null) {
    if (rawReview === '1' || rawReview === 'true') review = true;
    else if (rawReview !== '0' && rawReview !== 'false')
      errors.push(`review: "${rawReview}" is not 1 or 0`);
  }

  return {
    conditions,
    seed: seed ?? newSeed(),
    backend,
    backendExplicit: rawBackend !== null && backend === rawBackend,
    sampler,
    model,
    review,
    errors,
    refused,
  };
}

/** The parameter an error message is about: engine messages start with its name. */
function blamedParam(error: string, names: string[]): string | null {
  const m = /^([A-Za-z_]\w*)/.exec(error);
  return m && names.includes(m[1]) ? m[1] : null;
}

/** Notices for parameters the app does not know, with the right spelling when only case differs. */
export function unknownParams(params: URLSearchParams, known: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const k of params.keys()) {
    if (known.includes(k) || seen.has(k)) continue;
    seen.add(k);
    const match = known.find((n) => n.toLowerCase() === k.toLowerCase());
    out.push(
      match
        ? `Unknown parameter "${k}" ignored: did you mean "${match}"? (names are case-sensitive)`
        : `Unknown parameter "${k}" ignored (known: ${known.join(', ')})`,
    );
  }
  return out;
}

/** The parameters of `writeUrl` that are not conditions; null or absent = left out. */
export interface AppParams {
  backend?: BackendChoice | null;
  backendUrl?: string | null;
  sampler?: SamplerName | null;
  /** The loaded model as "id@version" (recipe.ts modelTag). */
  model?: string | null;
  /** Review mode on: `review=1`. */
  review?: boolean;
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
  if (app.review) params.set('review', '1');
  if (app.model) params.set('model', app.model);
  // '@' is allowed in a query (RFC 3986): model=id@version stays readable
  return `?${params.toString().replace(/%40/g, '@')}`;
}

/**
 * A recipe: the JSON that reproduces a generated volume — its conditions, seed, sampler and the
 * model (id + version) that made it. Made from the volume on screen (its metadata, not the
 * controls, so it names what was generated), applied through the same checks as the URL
 * (url.ts `readUrl`: each refused value is named). A recipe from another model version is
 * applied, with a notice that the same seed may then give a different brain.
 */
import type { SampledVolume, SamplerName } from '../engine/types';
import { SAMPLER_CHOICES } from './engineApi';

export const RECIPE_FORMAT = 'brainsynth-recipe';
export const RECIPE_VERSION = 1;

export interface Recipe {
  format: typeof RECIPE_FORMAT;
  formatVersion: typeof RECIPE_VERSION;
  model: { id: string; version: string };
  seed: number;
  sampler: SamplerName;
  conditions: Record<string, number | string | boolean>;
}

/** The recipe of a generated volume. */
export function recipeOf(vol: Pick<SampledVolume, 'metadata'>): Recipe {
  const m = vol.metadata;
  const conditions: Record<string, number | string | boolean> = {};
  for (const [k, v] of Object.entries(m.conditions as unknown as Record<string, unknown>))
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') conditions[k] = v;
  return {
    format: RECIPE_FORMAT,
    formatVersion: RECIPE_VERSION,
    model: { id: m.modelId, version: m.modelVersion },
    seed: m.seed,
    sampler: m.sampler ?? 'exact',
    conditions,
  };
}

export function recipeJson(r: Recipe): string {
  return JSON.stringify(r, null, 2);
}

export type ParsedRecipe = { ok: true; recipe: Recipe } | { ok: false; error: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse a pasted recipe; its structure is checked here, its conditions by the schema later. */
export function parseRecipe(text: string): ParsedRecipe {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (!isRecord(j)) return { ok: false, error: 'a recipe is a JSON object' };
  if (j.format !== RECIPE_FORMAT)
    return { ok: false, error: `"format" must be "${RECIPE_FORMAT}"` };
  if (j.formatVersion !== RECIPE_VERSION)
    return {
      ok: false,
      error: `recipe format version ${String(j.formatVersion)} is not supported (this app reads ${RECIPE_VERSION})`,
    };
  const model = j.model;
  if (!isRecord(model) || typeof model.id !== 'string' || typeof model.version !== 'string')
    return { ok: false, error: '"model" must be {"id": string, "version": string}' };
  if (typeof j.seed !== 'number' || !Number.isSafeInteger(j.seed))
    return { ok: false, error: '"seed" must be an integer' };
  const sampler = SAMPLER_CHOICES.find((s) => s === j.sampler);
  if (!sampler)
    return { ok: false, error: `"sampler" must be one of ${SAMPLER_CHOICES.join(', ')}` };
  if (!isRecord(j.conditions)) return { ok: false, error: '"conditions" must be an object' };
  const conditions: Record<string, number | string | boolean> = {};
  for (const [k, v] of Object.entries(j.conditions)) {
    if (typeof v !== 'number' && typeof v !== 'string' && typeof v !== 'boolean')
      return { ok: false, error: `conditions.${k} must be a number, string or boolean` };
    conditions[k] = v;
  }
  return {
    ok: true,
    recipe: {
      format: RECIPE_FORMAT,
      formatVersion: RECIPE_VERSION,
      model: { id: model.id, version: model.version },
      seed: j.seed,
      sampler,
      conditions,
    },
  };
}

/** The recipe as a query string, to go through the URL's checks (readUrl). */
export function recipeSearch(r: Recipe): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(r.conditions)) p.set(k, String(v));
  p.set('seed', String(r.seed));
  p.set('sampler', r.sampler);
  return `?${p.toString()}`;
}

/** "id@version", the form of the URL's `model=` parameter. */
export function modelTag(m: { id: string; version: string }): string {
  return `${m.id}@${m.version}`;
}

export function parseModelTag(tag: string): { id: string; version: string } | null {
  const at = tag.lastIndexOf('@');
  if (at <= 0 || at === tag.length - 1) return null;
  return { id: tag.slice(0, at), version: tag.slice(at + 1) };
}

/** A notice when `wanted` is not the loaded model, else null. */
export function modelMismatch(
  wanted: { id: string; version: string },
  loaded: { id: string; version: string },
  what: 'recipe' | 'link',
): string | null {
  if (wanted.id === loaded.id && wanted.version === loaded.version) return null;
  const change =
    wanted.id === loaded.id
      ? `version ${wanted.version}; this app runs version ${loaded.version}`
      : `model ${modelTag(wanted)}; this app runs ${modelTag(loaded)}`;
  return `This ${what} was made with ${change}: the same conditions and seed may give a different brain.`;
}

/** FNV-1a (32 bit) of the label values: a short fingerprint to compare two volumes. */
export function labelsChecksum(labels: ArrayLike<number>): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i] & 0xffff;
    h = Math.imul(h ^ (v & 0xff), 0x01000193);
    h = Math.imul(h ^ (v >>> 8), 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

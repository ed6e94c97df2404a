/**
 * Generation conditions, validated against the conditions JSON Schema that travels in the model
 * manifest (`manifest.conditionsSchema` = brainsynth/schema/conditions.schema.json, the single
 * source of truth). Out-of-range values are rejected with a message, never clamped.
 */
import { compileSchema, formatAjvErrors } from './jsonSchema';
import type { JsonSchema } from './model/manifest';
import type { Conditions } from './types';

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

interface PropertySchema {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  'x-showWhen'?: Record<string, unknown>;
}

function properties(schema: JsonSchema): Record<string, PropertySchema> {
  const props = schema.properties;
  if (typeof props !== 'object' || props === null) {
    throw new Error('The conditions schema has no "properties" object');
  }
  return props as Record<string, PropertySchema>;
}

/** Whether a property applies given the other values (`x-showWhen`: {pathology: "ms"}). */
export function isRelevant(prop: PropertySchema, values: Record<string, unknown>): boolean {
  const when = prop['x-showWhen'];
  if (!when) return true;
  return Object.entries(when).every(([k, v]) =>
    Array.isArray(v) ? v.includes(values[k]) : values[k] === v,
  );
}

/** Every property's default, as the schema states it (the UI's initial state). */
export function defaultsFromSchema(schema: JsonSchema): Conditions {
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(properties(schema))) {
    if (prop.default !== undefined) out[name] = prop.default;
  }
  return out as unknown as Conditions;
}

/**
 * Validate `input` against the schema. On success `value` is a fresh object: the input plus
 * the schema default of every property that applies (x-showWhen) but was not given — e.g. an
 * MS request without msLesionLoadMl gets the default load.
 */
export function validateConditions(
  schema: JsonSchema,
  input: unknown,
): ValidationResult<Conditions> {
  const validate = compileSchema(schema);
  if (!validate(input)) {
    return { ok: false, errors: formatAjvErrors(validate.errors, 'conditions') };
  }
  const values = { ...(input as Record<string, unknown>) };
  for (const [name, prop] of Object.entries(properties(schema))) {
    if (values[name] === undefined && prop.default !== undefined && isRelevant(prop, values)) {
      values[name] = prop.default;
    }
  }
  return { ok: true, value: values as unknown as Conditions };
}

// A plain decimal number: no hex, no "Infinity", no empty string, no trailing junk
// (Number('') is 0 and Number(' 1 ') is 1, parseFloat('12abc') is 12 — all wrong here).
const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Conditions from a URL query (?age=70&sex=male&pathology=ms). Parameters that are not
 * properties of the schema (seed, backend, …) are ignored; missing ones take their defaults.
 * A value that does not parse ('abc' for a number) is an error, not NaN.
 */
export function conditionsFromSearchParams(
  schema: JsonSchema,
  params: URLSearchParams,
): ValidationResult<Conditions> {
  const props = properties(schema);
  const errors: string[] = [];
  const given: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(props)) {
    const raw = params.get(name);
    if (raw === null) continue;
    const types = Array.isArray(prop.type) ? prop.type : [prop.type];
    if (types.includes('number') || types.includes('integer')) {
      const s = raw.trim();
      if (!NUMBER_RE.test(s)) {
        errors.push(`${name} must be a number (got '${raw}')`);
        continue;
      }
      given[name] = Number(s);
    } else if (types.includes('boolean')) {
      if (raw !== 'true' && raw !== 'false') {
        errors.push(`${name} must be true or false (got '${raw}')`);
        continue;
      }
      given[name] = raw === 'true';
    } else {
      given[name] = raw;
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  // Required properties (age, sex, …) fall back to their defaults: a bare URL is a valid request.
  const merged: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(props)) {
    if (given[name] !== undefined) merged[name] = given[name];
    else if (prop.default !== undefined) merged[name] = prop.default;
  }
  // Drop defaults of properties that do not apply (x-showWhen) so the result is minimal.
  for (const [name, prop] of Object.entries(props)) {
    if (given[name] === undefined && !isRelevant(prop, merged)) delete merged[name];
  }
  return validateConditions(schema, merged);
}

/** The inverse of conditionsFromSearchParams: only the properties that apply. */
export function conditionsToSearchParams(schema: JsonSchema, c: Conditions): URLSearchParams {
  const params = new URLSearchParams();
  const values = c as unknown as Record<string, unknown>;
  for (const [name, prop] of Object.entries(properties(schema))) {
    const v = values[name];
    if (v !== undefined && isRelevant(prop, values)) params.set(name, String(v));
  }
  return params;
}

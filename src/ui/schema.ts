/**
 * Reading the conditions JSON Schema (manifest.conditionsSchema) for building controls.
 * The schema is the single source of truth: titles, units, ranges, steps, defaults,
 * enum titles, visibility (`x-showWhen`) and order (`x-order`) all come from it. Which
 * properties apply is the engine's rule (`isRelevant`), not a copy of it.
 */
import { isRelevant } from '../engine/conditions';
import type { JsonSchema } from '../engine/model/manifest';
import type { Conditions } from '../engine/types';

export interface NumberProperty {
  type: 'number' | 'integer';
  title?: string;
  description?: string;
  minimum: number;
  maximum: number;
  default?: number;
  'x-unit'?: string;
  'x-step'?: number;
  'x-showWhen'?: Record<string, unknown>;
}

export interface EnumProperty {
  type: 'string';
  title?: string;
  description?: string;
  enum: string[];
  default?: string;
  'x-enumTitles'?: Record<string, string>;
  'x-showWhen'?: Record<string, unknown>;
}

export type SchemaProperty = NumberProperty | EnumProperty;

export interface ConditionsSchema {
  title?: string;
  type?: 'object';
  required?: string[];
  properties: Record<string, SchemaProperty>;
  'x-order'?: string[];
  [key: string]: unknown;
}

export type ConditionValues = Record<string, number | string | undefined>;

/** Validated engine conditions as the schema-driven UI's plain record (a shallow copy). */
export function conditionValues(c: Conditions): ConditionValues {
  return { ...c };
}

export interface NumberControlSpec {
  kind: 'number';
  name: string;
  title: string;
  unit?: string;
  min: number;
  max: number;
  step: number;
  integer: boolean;
}

export interface EnumControlSpec {
  kind: 'enum';
  name: string;
  title: string;
  options: { value: string; title: string }[];
}

export type ControlSpec = NumberControlSpec | EnumControlSpec;

export function isEnumProperty(p: SchemaProperty): p is EnumProperty {
  return Array.isArray((p as EnumProperty).enum);
}

/** Property names in display order: `x-order` first, then any others in declaration order. */
export function orderedNames(schema: ConditionsSchema): string[] {
  const all = Object.keys(schema.properties);
  const order = (schema['x-order'] ?? []).filter((n) => n in schema.properties);
  return [...order, ...all.filter((n) => !order.includes(n))];
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isSchemaProperty(p: unknown): p is SchemaProperty {
  if (!isRecord(p)) return false;
  if (p.type === 'string')
    return Array.isArray(p.enum) && p.enum.every((v) => typeof v === 'string');
  return (
    (p.type === 'number' || p.type === 'integer') &&
    typeof p.minimum === 'number' &&
    typeof p.maximum === 'number'
  );
}

/**
 * The manifest's conditions schema, checked to be one the UI can build controls for: every
 * property an enum of strings or a bounded number. The result keeps every keyword of the
 * original (the engine validates requests against it); a schema the UI cannot show is an
 * Error naming the property.
 */
export function readConditionsSchema(json: JsonSchema): ConditionsSchema {
  const props = json.properties;
  if (!isRecord(props)) throw new Error('the conditions schema has no "properties" object');
  const properties: Record<string, SchemaProperty> = {};
  for (const [name, p] of Object.entries(props)) {
    if (!isSchemaProperty(p))
      throw new Error(
        `the conditions schema's property "${name}" is neither a string enum nor a number with minimum and maximum`,
      );
    properties[name] = p;
  }
  for (const key of ['required', 'x-order']) {
    const list = json[key];
    if (list !== undefined && !(Array.isArray(list) && list.every((n) => typeof n === 'string')))
      throw new Error(`the conditions schema's "${key}" is not a list of property names`);
  }
  if (json.title !== undefined && typeof json.title !== 'string')
    throw new Error('the conditions schema\'s "title" is not a string');
  const out: ConditionsSchema = { properties };
  for (const [key, value] of Object.entries(json)) if (key !== 'properties') out[key] = value;
  return out;
}

export function controlSpec(name: string, prop: SchemaProperty): ControlSpec {
  const title = prop.title ?? name;
  if (isEnumProperty(prop)) {
    const titles = prop['x-enumTitles'] ?? {};
    return {
      kind: 'enum',
      name,
      title,
      options: prop.enum.map((value) => ({ value, title: titles[value] ?? value })),
    };
  }
  const integer = prop.type === 'integer';
  const step = prop['x-step'] ?? (integer ? 1 : (prop.maximum - prop.minimum) / 100);
  return {
    kind: 'number',
    name,
    title,
    unit: prop['x-unit'],
    min: prop.minimum,
    max: prop.maximum,
    step,
    integer,
  };
}

/** Control specs for the properties visible with the given values, in schema order. */
export function visibleControls(schema: ConditionsSchema, values: ConditionValues): ControlSpec[] {
  return orderedNames(schema)
    .filter((n) => isRelevant(schema.properties[n], values))
    .map((n) => controlSpec(n, schema.properties[n]));
}

/** Only the properties that apply to these values (hidden ones dropped), schema order. */
export function effectiveValues(
  schema: ConditionsSchema,
  values: ConditionValues,
): ConditionValues {
  const out: ConditionValues = {};
  for (const name of orderedNames(schema)) {
    const v = values[name];
    if (v !== undefined && isRelevant(schema.properties[name], values)) out[name] = v;
  }
  return out;
}

/** Number of decimals implied by a step (0.05 → 2), for display and rounding. */
export function stepDecimals(step: number): number {
  if (!Number.isFinite(step) || step <= 0) return 2;
  const s = String(step);
  if (s.includes('e-')) return Number(s.split('e-')[1]);
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** Check a typed number against its control (range + integer); returns a reason or null. */
export function numberProblem(spec: NumberControlSpec, value: number): string | null {
  if (!Number.isFinite(value)) return `${spec.title}: not a number`;
  if (value < spec.min || value > spec.max)
    return `${spec.title} must be between ${spec.min} and ${spec.max}${spec.unit ? ` (${spec.unit})` : ''}`;
  if (spec.integer && !Number.isInteger(value)) return `${spec.title} must be a whole number`;
  return null;
}

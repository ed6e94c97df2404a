/**
 * One shared Ajv (JSON Schema draft 2020-12) instance and a formatter that turns Ajv's error
 * objects into sentences a user can act on ("age must be <= 90").
 */
import Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv';

// strict: false — the conditions schema carries UI hints as custom `x-*` keywords (x-unit,
// x-step, x-showWhen, …), which strict mode would reject as unknown keywords.
// allErrors: report every problem at once, so the UI / API caller can fix them all in one go.
const ajv = new Ajv2020({ strict: false, allErrors: true });

const byObject = new WeakMap<object, ValidateFunction>();
const byText = new Map<string, ValidateFunction>();

/**
 * Compile (once per schema) and return the validator. Two models can carry equal schemas as
 * different objects (and Ajv refuses a second schema with the same $id), so compiled validators
 * are shared by content; a changed schema under a known $id replaces the old one.
 */
export function compileSchema(schema: object): ValidateFunction {
  const hit = byObject.get(schema);
  if (hit) return hit;
  const text = JSON.stringify(schema);
  let fn = byText.get(text);
  if (!fn) {
    const id = (schema as { $id?: unknown }).$id;
    if (typeof id === 'string' && ajv.getSchema(id)) ajv.removeSchema(id);
    try {
      fn = ajv.compile(schema);
    } catch (e) {
      throw new Error(`Invalid JSON Schema: ${e instanceof Error ? e.message : String(e)}`);
    }
    byText.set(text, fn);
  }
  byObject.set(schema, fn);
  return fn;
}

/** Human-readable messages for Ajv errors; `root` names the document ("conditions"). */
export function formatAjvErrors(errors: ErrorObject[] | null | undefined, root: string): string[] {
  if (!errors) return [];
  const out: string[] = [];
  for (const e of errors) {
    const path = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : root;
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        out.push(`${joinPath(e.instancePath, String(params.missingProperty), root)} is required`);
        break;
      case 'additionalProperties':
        out.push(`${path} has an unknown property '${String(params.additionalProperty)}'`);
        break;
      case 'enum': {
        const allowed = Array.isArray(params.allowedValues) ? params.allowedValues : [];
        out.push(`${path} must be one of: ${allowed.map((v) => String(v)).join(', ')}`);
        break;
      }
      case 'type':
        out.push(`${path} must be a ${String(params.type)}`);
        break;
      default:
        out.push(`${path} ${e.message ?? 'is invalid'}`);
    }
  }
  // allErrors can report the same sentence twice (e.g. via anyOf branches): keep the first.
  return [...new Set(out)];
}

function joinPath(instancePath: string, prop: string, root: string): string {
  return instancePath ? `${instancePath.slice(1).replace(/\//g, '.')}.${prop}` : prop || root;
}

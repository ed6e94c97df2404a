/**
 * Generates src/engine/generated/conditions.ts from brainsynth/schema/conditions.schema.json
 * (the single source of truth for the conditions): `npm run gen:conditions`; a test fails when
 * the committed file is stale.
 *
 * Our own small generator rather than json-schema-to-typescript: the conditions schema is one
 * flat object of numbers and string enums, and the well-known generator would turn every titled
 * property into its own alias (`type Age = number`, `type ADSeverity = number`, …) and needs a
 * new dependency; here each string enum becomes a named union plus a `const` list of its values
 * (so code can iterate them), and every property keeps its title, unit, range and default as
 * documentation. Anything outside that subset is refused with a clear error, so a schema change
 * the generator cannot express is noticed instead of mistyped.
 */
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';

interface PropertySchema {
  title?: string;
  description?: string;
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  default?: unknown;
  'x-unit'?: string;
  'x-showWhen'?: Record<string, unknown>;
}

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

function propertyType(name: string, p: PropertySchema): { ts: string; alias?: string } {
  if (p.type === 'string' && Array.isArray(p.enum)) {
    if (!p.enum.every((v) => typeof v === 'string'))
      throw new Error(`conditions schema: ${name}.enum must hold strings only`);
    return { ts: pascal(name), alias: pascal(name) };
  }
  if (p.type === 'number' || p.type === 'integer') return { ts: 'number' };
  if (p.type === 'boolean') return { ts: 'boolean' };
  if (p.type === 'string') return { ts: 'string' };
  throw new Error(`conditions schema: property ${name} has a type this generator does not know`);
}

function doc(p: PropertySchema): string {
  const parts: string[] = [];
  if (p.title) parts.push(p.title);
  if (p.description) parts.push(p.description);
  if (p.minimum !== undefined || p.maximum !== undefined)
    parts.push(`range [${p.minimum ?? '−∞'}, ${p.maximum ?? '∞'}]`);
  if (p['x-unit']) parts.push(p['x-unit']);
  if (p.default !== undefined) parts.push(`default ${JSON.stringify(p.default)}`);
  if (p['x-showWhen']) parts.push(`applies when ${JSON.stringify(p['x-showWhen'])}`);
  return `/** ${parts.join('; ').replace(/\*\//g, '* /')} */`;
}

/** The TypeScript source (formatted with the project's Prettier settings). */
export async function conditionsTypesSource(
  schema: Record<string, unknown>,
  /** As it appears in the header: the path relative to the repository root. */
  schemaPath: string,
): Promise<string> {
  if (schema.type !== 'object' || typeof schema.properties !== 'object' || !schema.properties)
    throw new Error('conditions schema: expected an object schema with properties');
  const props = schema.properties as Record<string, PropertySchema>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const order = (schema['x-order'] as string[] | undefined) ?? Object.keys(props);
  const missing = Object.keys(props).filter((n) => !order.includes(n));
  const names = [...order.filter((n) => n in props), ...missing];

  const out: string[] = [
    `// Generated from ${schemaPath} by src/engine/codegen/conditionsTypes.ts`,
    '// (npm run gen:conditions). Do not edit: change the schema and regenerate.',
    '',
  ];
  const fields: string[] = [];
  for (const name of names) {
    const p = props[name];
    const t = propertyType(name, p);
    if (t.alias) {
      const values = `${name}Values`;
      out.push(`/** ${p.title ?? name}: the values of conditions.${name}. */`);
      out.push(`export const ${values} = ${JSON.stringify(p.enum)} as const;`);
      out.push(`export type ${t.alias} = (typeof ${values})[number];`, '');
    }
    fields.push(doc(p), `${name}${required.has(name) ? '' : '?'}: ${t.ts};`);
  }
  const title = typeof schema.title === 'string' ? schema.title : 'Conditions';
  out.push(`/** ${title} (validated against the schema at run time). */`);
  out.push('export type Conditions = {', ...fields, '};', '');
  // The project's .prettierrc, found from this file's folder upwards.
  const options = (await resolveConfig(fileURLToPath(import.meta.url))) ?? {};
  return format(out.join('\n'), { ...options, parser: 'typescript' });
}

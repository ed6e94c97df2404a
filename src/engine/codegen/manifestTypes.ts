/**
 * Generates src/engine/generated/manifest.ts (the `ManifestDocument` type) from
 * brainsynth/schema/manifest.schema.json: `npm run gen:manifest`; a test fails when the
 * committed file is stale. model/manifest.ts names the parts the engine uses.
 *
 * A small generator of our own (as ../codegen/conditionsTypes.ts, same reasons: no new
 * dependency, no alias per titled node, output tailored to the engine). It covers the subset the
 * manifest schema uses — object (properties, required, additionalProperties), array (items,
 * minItems = maxItems ≤ 3 → a tuple: vectors
 * and ranges; a 4×4 affine stays number[][] because code builds it row by row), string / number / integer / boolean, enum, const, anyOf —
 * and refuses anything else with the path of the node, so an unsupported schema change is
 * noticed rather than mistyped. Validation keywords (minimum, pattern, …) stay Ajv's business.
 */
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';

type Node = Record<string, unknown>;

const KNOWN = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'enum',
  'const',
  'anyOf',
  'description',
  'title',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'minLength',
  'pattern',
  '$schema',
  '$id',
]);

const literal = (v: unknown) => JSON.stringify(v);
const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k));
const comment = (text: unknown) =>
  typeof text === 'string' ? `/** ${text.replace(/\*\//g, '* /')} */\n` : '';

function typeOf(node: Node, path: string): string {
  for (const k of Object.keys(node))
    if (!KNOWN.has(k)) throw new Error(`manifest schema: '${k}' at ${path} is not supported`);
  if ('const' in node) return literal(node.const);
  if (Array.isArray(node.enum)) return node.enum.map(literal).join(' | ');
  if (Array.isArray(node.anyOf))
    return node.anyOf.map((n, i) => `(${typeOf(n as Node, `${path}/anyOf/${i}`)})`).join(' | ');
  switch (node.type) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array': {
      const item = node.items ? typeOf(node.items as Node, `${path}/items`) : 'unknown';
      const n = node.minItems;
      if (typeof n === 'number' && n === node.maxItems && n <= 3)
        return `[${Array.from({ length: n }, () => item).join(', ')}]`;
      return `(${item})[]`;
    }
    case 'object':
      return objectType(node, path);
    default:
      throw new Error(`manifest schema: the node at ${path} has no type this generator knows`);
  }
}

function objectType(node: Node, path: string): string {
  const props = (node.properties ?? {}) as Record<string, Node>;
  const required = new Set((node.required as string[] | undefined) ?? []);
  const lines = Object.entries(props).map(
    ([name, p]) =>
      `${comment(p.description)}${key(name)}${required.has(name) ? '' : '?'}: ${typeOf(p, `${path}.${name}`)};`,
  );
  const extra = node.additionalProperties;
  if (typeof extra === 'object' && extra !== null) {
    const t = typeOf(extra as Node, `${path}.*`);
    // Required members given only through additionalProperties are present, with its type.
    for (const name of required) if (!(name in props)) lines.push(`${key(name)}: ${t};`);
    lines.push(`[name: string]: ${t} | undefined;`);
  } else if (lines.length === 0) lines.push('[name: string]: unknown;');
  return `{\n${lines.join('\n')}\n}`;
}

/** The TypeScript source (formatted with the project's Prettier settings). */
export async function manifestTypesSource(schema: Node, schemaPath: string): Promise<string> {
  const out = [
    `// Generated from ${schemaPath} by src/engine/codegen/manifestTypes.ts`,
    '// (npm run gen:manifest). Do not edit: change the schema and regenerate.',
    '',
    comment(schema.description) + `export type ManifestDocument = ${typeOf(schema, '#')};`,
    '',
  ];
  // The project's .prettierrc, found from this file's folder upwards.
  const options = (await resolveConfig(fileURLToPath(import.meta.url))) ?? {};
  return format(out.join('\n'), { ...options, parser: 'typescript' });
}

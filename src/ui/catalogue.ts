/**
 * The model catalogue (`public/models/index.json`): which models the app can load and which
 * one it starts with. The app names no model itself — adding or switching a model is an edit
 * of the catalogue, not of the code.
 *
 *   { "default": "<id>", "models": [{ "id": "<id>", "path": "<id>/" }] }
 *
 * `path` is relative to the catalogue (default `<id>/`, the folder holding manifest.json).
 */

export interface CatalogueEntry {
  id: string;
  /** Folder of the model, relative to the catalogue's URL. */
  path: string;
  title?: string;
}

export interface Catalogue {
  default: string;
  models: CatalogueEntry[];
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Check a parsed index.json; anything unusable is an Error saying what is wrong. */
export function parseCatalogue(json: unknown): Catalogue {
  if (!isRecord(json) || !Array.isArray(json.models))
    throw new Error('the model catalogue has no "models" list');
  const models: CatalogueEntry[] = json.models.map((m, i) => {
    if (!isRecord(m) || typeof m.id !== 'string' || m.id === '')
      throw new Error(`the model catalogue's entry ${i} has no "id"`);
    if (m.path !== undefined && typeof m.path !== 'string')
      throw new Error(`the model catalogue's entry "${m.id}" has a "path" that is not a string`);
    const entry: CatalogueEntry = { id: m.id, path: m.path ?? `${m.id}/` };
    if (typeof m.title === 'string') entry.title = m.title;
    return entry;
  });
  if (models.length === 0) throw new Error('the model catalogue lists no model');
  const def = json.default ?? models[0].id;
  if (typeof def !== 'string' || !models.some((m) => m.id === def))
    throw new Error(`the model catalogue's default "${String(def)}" is not one of its models`);
  return { default: def, models };
}

/**
 * Absolute URL of a model's folder (with a trailing slash); `id` omitted = the default. A
 * relative `catalogueUrl` is taken relative to the page.
 */
export function modelUrlFrom(catalogueUrl: string, catalogue: Catalogue, id?: string): string {
  const want = id ?? catalogue.default;
  const entry = catalogue.models.find((m) => m.id === want);
  if (!entry) throw new Error(`the model catalogue has no model "${want}"`);
  const path = entry.path.endsWith('/') ? entry.path : `${entry.path}/`;
  const page = (globalThis as { location?: { href: string } }).location?.href;
  return new URL(path, new URL(catalogueUrl, page)).href;
}

/** Fetch and check the catalogue, then return the URL of its default model's folder. */
export async function defaultModelUrl(
  catalogueUrl: string,
  fetchFn: (url: string) => Promise<Response> = (u) => globalThis.fetch(u),
): Promise<string> {
  let res: Response;
  try {
    res = await fetchFn(catalogueUrl);
  } catch (err) {
    throw new Error(
      `could not fetch the model catalogue ${catalogueUrl} (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (!res.ok)
    throw new Error(`could not fetch the model catalogue ${catalogueUrl}: HTTP ${res.status}`);
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new Error(`the model catalogue ${catalogueUrl} is not JSON`);
  }
  return modelUrlFrom(catalogueUrl, parseCatalogue(json), undefined);
}

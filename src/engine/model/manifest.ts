/**
 * TypeScript shape of `manifest.json` (docs/MODEL_FORMAT.md §2), generated from its JSON Schema
 * (brainsynth/schema/manifest.schema.json → ../generated/manifest.ts, `npm run gen:manifest`)
 * and named here. Validated at load time by `validateManifest` (Ajv with the same schema, plus
 * the cross-field rules), so the rest of the engine can trust these types.
 */
import type { ManifestDocument } from '../generated/manifest';

export type Vec3 = [number, number, number];

/** A JSON Schema document (the conditions schema travels inside the manifest). */
export type JsonSchema = Record<string, unknown>;

/** The distilled student (docs/MODEL.md "Student"), outside the schema's checked part. */
export interface StudentSpec {
  /** Its tfjs model.json, relative to the model folder. */
  file: string;
  architecture?: {
    /** Per input feature: (raw − offset)/scale, e.g. age: {offset: 55, scale: 35}. */
    featureNormalisation?: Record<string, { offset: number; scale: number }>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export type ModelManifest = ManifestDocument & {
  provenance?: unknown[];
  metrics?: unknown;
  student?: StudentSpec;
};

/** An output or velocity grid: shape [nx, ny, nz], spacing and origin (mm, RAS), affine. */
export type GridSpec = ModelManifest['grid'];
/** One array file: `file`, `dtype`, `shape`, optional `scale` (one or one per component). */
export type ArraySpec = ModelManifest['arrays']['templateLabels'];
export type ArrayDtype = ArraySpec['dtype'];
/** A named region and the FreeSurfer label values it groups. */
export type RegionSpec = ModelManifest['regions'][number];
/** Per-label-index mean and sd of one contrast. */
export type ContrastAppearance = ModelManifest['appearance']['contrasts']['T1w'];

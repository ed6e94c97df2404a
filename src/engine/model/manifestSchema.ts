/**
 * JSON Schema of `manifest.json` (structure only; the cross-field checks — array shapes vs grids,
 * per-label tables vs the label count, … — live in validateManifest.ts because JSON Schema
 * cannot express them). The schema itself is one file shared with Python:
 * brainsynth/schema/manifest.schema.json (the pipeline validates every export against it).
 */
import schema from '../../../brainsynth/schema/manifest.schema.json';

export const manifestSchema: Record<string, unknown> = schema;

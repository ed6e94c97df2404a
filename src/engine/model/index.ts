export { loadModel, modelFromFiles } from './loadModel';
export type { Model, ModelArrays, FetchFn } from './loadModel';
export type { ModelManifest, GridSpec, ArraySpec, RegionSpec, JsonSchema, Vec3 } from './manifest';
export { validateManifest, ManifestError } from './validateManifest';
export { buildLabelTable, PATHOLOGY_LABELS } from './labelTable';
export type { LabelTable } from './labelTable';
export type { Grid } from './grid';
export { isIcvValue, isIntracranialValue, isPathologyValue } from './labelRanges';

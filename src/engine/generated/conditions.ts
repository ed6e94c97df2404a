// Generated from brainsynth/schema/conditions.schema.json by src/engine/codegen/conditionsTypes.ts
// (npm run gen:conditions). Do not edit: change the schema and regenerate.

/** Sex: the values of conditions.sex. */
export const sexValues = ['female', 'male'] as const;
export type Sex = (typeof sexValues)[number];

/** Pathology: the values of conditions.pathology. */
export const pathologyValues = ['none', 'alzheimers', 'ms', 'glioma', 'stroke'] as const;
export type Pathology = (typeof pathologyValues)[number];

/** Stroke territory: the values of conditions.strokeTerritory. */
export const strokeTerritoryValues = ['ACA', 'MCA', 'PCA'] as const;
export type StrokeTerritory = (typeof strokeTerritoryValues)[number];

/** Stroke side: the values of conditions.strokeSide. */
export const strokeSideValues = ['left', 'right'] as const;
export type StrokeSide = (typeof strokeSideValues)[number];

/** Contrast: the values of conditions.contrast. */
export const contrastValues = ['T1w', 'T2w', 'FLAIR', 'T1c'] as const;
export type Contrast = (typeof contrastValues)[number];

/** Generation conditions (validated against the schema at run time). */
export type Conditions = {
  /** Age; range [20, 90]; years; default 45 */
  age: number;
  /** Sex; default "female" */
  sex: Sex;
  /** Pathology; default "none" */
  pathology: Pathology;
  /** AD severity; range [0, 1]; 0 = none, 1 = severe; default 0.5; applies when {"pathology":"alzheimers"} */
  adSeverity?: number;
  /** MS lesion load; range [0.5, 40]; mL; default 8; applies when {"pathology":"ms"} */
  msLesionLoadMl?: number;
  /** Tumour radius; range [5, 30]; mm; default 15; applies when {"pathology":"glioma"} */
  gliomaRadiusMm?: number;
  /** Tumour centre x (R+); range [-60, 60]; mm; default 30; applies when {"pathology":"glioma"} */
  gliomaCenterXMm?: number;
  /** Tumour centre y (A+); range [-90, 60]; mm; default 20; applies when {"pathology":"glioma"} */
  gliomaCenterYMm?: number;
  /** Tumour centre z (S+); range [-30, 70]; mm; default 25; applies when {"pathology":"glioma"} */
  gliomaCenterZMm?: number;
  /** Stroke territory; default "MCA"; applies when {"pathology":"stroke"} */
  strokeTerritory?: StrokeTerritory;
  /** Stroke side; default "left"; applies when {"pathology":"stroke"} */
  strokeSide?: StrokeSide;
  /** Stroke size; range [0.1, 1]; fraction of territory; default 0.4; applies when {"pathology":"stroke"} */
  strokeSize?: number;
  /** Contrast; default "T1w" */
  contrast: Contrast;
};

/**
 * TypeScript shape of `manifest.json` (docs/MODEL_FORMAT.md §2). Validated at load time by
 * `validateManifest`, so the rest of the engine can trust these types.
 */
import type { Contrast, LabelInfo } from '../types';

export type Vec3 = [number, number, number];

/** A JSON Schema document (the conditions schema travels inside the manifest). */
export type JsonSchema = Record<string, unknown>;

export interface GridSpec {
  /** [nx, ny, nz] as in NIfTI dim[1..3]. */
  shape: Vec3;
  /** mm */
  spacing: Vec3;
  /** World (RAS mm) of the centre of voxel (0, 0, 0). */
  origin: Vec3;
  /** voxel → RAS mm, row-major 4×4. */
  affine: number[][];
}

export type ArrayDtype = 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'float32';

export interface ArraySpec {
  file: string;
  dtype: ArrayDtype;
  shape: number[];
  /** One factor for the whole array or one per component (first axis). */
  scale?: number | number[];
}

export interface RegionSpec {
  name: string;
  /** FreeSurfer label values belonging to the region. */
  labels: number[];
}

export interface ContrastAppearance {
  /** Per label index. */
  mean: number[];
  /** Per label index. */
  sd: number[];
}

export interface ModelManifest {
  format: 'brainsynth-model/1';
  id: string;
  version: string;
  kind: string;
  created?: string;
  softwareVersion?: string;
  conditionsSchema: JsonSchema;
  grid: GridSpec;
  velocityGrid: GridSpec;
  labels: LabelInfo[];
  /** Inclusive [first, last] label-value ranges: ICV = intracranial + pathology. */
  labelRanges: {
    intracranial: [number, number];
    extraCerebral?: [number, number];
    pathology: [number, number];
  };
  arrays: {
    templateLabels: ArraySpec;
    shapeComponents: ArraySpec;
    regionalBasis: ArraySpec;
    msLesionPrior?: ArraySpec;
    territories?: ArraySpec;
    [name: string]: ArraySpec | undefined;
  };
  shapeModel: { components: number; sigma: number[]; explainedVariance?: number[] };
  regions: RegionSpec[];
  calibration: {
    ages: number[];
    gains: { female: number[][]; male: number[][] };
    icvMl: { female: number; male: number };
    icvLogSd: number;
    templateIcvMl: number;
    gridCentreMm: Vec3;
  };
  pathology: {
    alzheimers?: { gainsAtSeverity1: number[] };
    ms?: {
      lesionVolumeLogMeanMl: number;
      lesionVolumeLogSdMl: number;
      elongation: number;
      maxLesions: number;
    };
    glioma?: {
      oedemaFactor: number;
      rimFraction?: number;
      necrosisFraction: number;
      massEffectDecayMm: number;
    };
    stroke?: { territoryCodes: Record<string, number>; exVacuoGain: number };
  };
  appearance: {
    contrasts: Record<Contrast, ContrastAppearance>;
    ageSlopePerDecade?: Partial<Record<Contrast, { mean: number[] }>>;
    partialVolumeSigmaVoxels: number;
    textureSigmaVoxels: number;
    biasFieldStrength: number;
    snr: number;
  };
  provenance?: unknown[];
  metrics?: unknown;
  /** The distilled student (docs/MODEL.md "Student"): `file` = its tfjs model.json. */
  student?: {
    file: string;
    architecture?: {
      /** Per input feature: (raw − offset)/scale, e.g. age: {offset: 55, scale: 35}. */
      featureNormalisation?: Record<string, { offset: number; scale: number }>;
      [key: string]: unknown;
    };
    [key: string]: unknown;
  };
}

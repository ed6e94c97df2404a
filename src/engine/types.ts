/**
 * Public types of the engine. The engine is pure TypeScript + tfjs: no DOM, no React.
 * Data flows one way: conditions → engine → volume → viewer.
 */

// Generated from brainsynth/schema/conditions.schema.json (the single source of truth):
// `npm run gen:conditions`; generated/conditions.test.ts fails when the file is stale.
export type {
  Conditions,
  Contrast,
  Pathology,
  Sex,
  StrokeSide,
  StrokeTerritory,
} from './generated/conditions';
import type { Conditions } from './generated/conditions';
import type { ManifestDocument } from './generated/manifest';

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** How the anatomy's deformation was integrated: distilled student or scaling and squaring. */
export type SamplerName = 'student' | 'exact';

/** One label of the model's table (manifest `labels[i]`, generated from the manifest schema). */
export type LabelInfo = ManifestDocument['labels'][number];

/** A generated volume: image + label map on the model's 2 mm RAS+ grid. */
export interface SampledVolume {
  /** NIfTI order (x fastest), length nx*ny*nz. */
  image: Float32Array;
  /** Label VALUES (FreeSurfer numbering; pathology in manifest.labelRanges.pathology), NIfTI order. */
  labels: Int16Array;
  /** [nx, ny, nz] */
  dims: [number, number, number];
  /** [sx, sy, sz] mm */
  spacing: [number, number, number];
  /** voxel → RAS mm, row-major 4×4 */
  affine: number[][];
  metadata: VolumeMetadata;
}

export interface VolumeMetadata {
  conditions: Conditions;
  seed: number;
  modelId: string;
  modelVersion: string;
  softwareVersion: string;
  /** The tfjs backend that made it; 'server' for a volume from the full-size backend. */
  backend: BackendName | 'server';
  /** 'student' (distilled network) or 'exact' (scaling and squaring); absent: not the engine. */
  sampler?: SamplerName;
  sampleMs: number;
  /** Measured regional volumes in mL (regions of the manifest + ICV + pathology labels). */
  regionalVolumesMl: Record<string, number>;
  /** Pathology parameters actually realised (e.g. lesion count, realised load). */
  pathology: Record<string, unknown>;
}

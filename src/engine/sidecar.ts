/**
 * The JSON sidecar written next to every volume. Its keys follow
 * brainsynth/schema/sidecar.schema.json, the one schema for the browser's 2 mm volumes and the
 * teacher's 1 mm / 2 mm ones (sidecar.test.ts validates this writer's output with Ajv).
 */
import type { SampledVolume } from './types';

/** The teacher's wording (brainsynth/teacher/generate.py), shared by both writers. */
export const INTENDED_USE = 'Research and teaching. Not for diagnosis.';

export interface Sidecar {
  conditions: SampledVolume['metadata']['conditions'];
  seed: number;
  modelId: string;
  modelVersion: string;
  softwareVersion: string;
  generator: 'brainsynth.engine' | 'brainsynth.teacher';
  /** The processor: 'cpu', 'gpu' (WebGL/WebGPU); 'unknown' for a backend volume re-saved here. */
  device: 'cpu' | 'gpu' | 'cuda' | 'unknown';
  /** 'tfjs-<backend>' for the engine. */
  implementation: string;
  /** 'student' or 'exact' (how the engine integrated the deformation), or 'teacher'. */
  sampler: 'student' | 'exact' | 'teacher';
  resolutionMm: number;
  contrasts: string[];
  /** The engine simulates no slice thickness. */
  sliceThicknessMm: number | null;
  orientation: 'RAS';
  spacing: [number, number, number];
  dims: [number, number, number];
  affine: number[][];
  units: { spacing: 'mm'; volumes: 'mL' };
  regionalVolumesMl: Record<string, number>;
  pathology: Record<string, unknown>;
  created: string;
  generationSeconds: number;
  intendedUse: string;
}

export function sidecar(volume: SampledVolume, now: Date = new Date()): Sidecar {
  const m = volume.metadata;
  // a volume with no engine sampler came from the full-size backend (types.ts: VolumeMetadata)
  const fromBackend = m.backend === 'server' || m.sampler === undefined;
  const gpu = m.backend === 'webgl' || m.backend === 'webgpu';
  return {
    conditions: m.conditions,
    seed: m.seed,
    modelId: m.modelId,
    modelVersion: m.modelVersion,
    softwareVersion: m.softwareVersion,
    generator: fromBackend ? 'brainsynth.teacher' : 'brainsynth.engine',
    device: fromBackend ? 'unknown' : gpu ? 'gpu' : 'cpu',
    implementation: fromBackend ? 'unknown' : `tfjs-${m.backend}`,
    sampler: m.sampler ?? 'teacher',
    resolutionMm: volume.spacing[0],
    contrasts: [m.conditions.contrast ?? 'T1w'],
    sliceThicknessMm: null,
    orientation: 'RAS',
    spacing: volume.spacing,
    dims: volume.dims,
    affine: volume.affine,
    units: { spacing: 'mm', volumes: 'mL' },
    regionalVolumesMl: m.regionalVolumesMl,
    pathology: m.pathology,
    created: now.toISOString(),
    generationSeconds: Number.isFinite(m.sampleMs) ? Math.round(m.sampleMs) / 1000 : 0,
    intendedUse: INTENDED_USE,
  };
}

/** The JSON sidecar written next to every volume (docs/MODEL_FORMAT.md: conditions, seed, model, volumes). */
import type { SampledVolume } from './types';

export interface Sidecar {
  conditions: SampledVolume['metadata']['conditions'];
  seed: number;
  modelId: string;
  modelVersion: string;
  softwareVersion: string;
  backend: string;
  /** 'student' or 'exact' (how the deformation was integrated), when the engine made it. */
  sampler?: string;
  regionalVolumesMl: Record<string, number>;
  pathology: Record<string, unknown>;
  created: string;
  orientation: 'RAS';
  spacing: [number, number, number];
  dims: [number, number, number];
  affine: number[][];
  units: { spacing: 'mm'; volumes: 'mL' };
  sampleMs: number;
}

export function sidecar(volume: SampledVolume, now: Date = new Date()): Sidecar {
  const m = volume.metadata;
  return {
    conditions: m.conditions,
    seed: m.seed,
    modelId: m.modelId,
    modelVersion: m.modelVersion,
    softwareVersion: m.softwareVersion,
    backend: m.backend,
    sampler: m.sampler,
    regionalVolumesMl: m.regionalVolumesMl,
    pathology: m.pathology,
    created: now.toISOString(),
    orientation: 'RAS',
    spacing: volume.spacing,
    dims: volume.dims,
    affine: volume.affine,
    units: { spacing: 'mm', volumes: 'mL' },
    sampleMs: Math.round(m.sampleMs),
  };
}

/**
 * Difference map of two samples of the same subject: image A − B voxel by voxel. Only defined
 * on the same grid (dims and affine) and for the same seed ("same subject"); otherwise an
 * Error says why (a subtraction of two individuals shows their anatomy, not the change).
 */
import type { SampledVolume } from '../../engine/types';

export function sameGrid(a: SampledVolume, b: SampledVolume): boolean {
  if (a.dims.some((d, i) => d !== b.dims[i])) return false;
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 4; c++) if (Math.abs(a.affine[r][c] - b.affine[r][c]) > 1e-6) return false;
  return true;
}

export interface Difference {
  volume: SampledVolume;
  maxAbs: number;
}

export function differenceVolume(a: SampledVolume, b: SampledVolume): Difference {
  if (a.metadata.seed !== b.metadata.seed)
    throw new Error(
      `A and B are different subjects (seeds ${a.metadata.seed} and ${b.metadata.seed}): use the same seed`,
    );
  if (!sameGrid(a, b)) throw new Error('A and B are on different grids');
  const n = a.image.length;
  const image = new Float32Array(n);
  let maxAbs = 0;
  for (let i = 0; i < n; i++) {
    const d = a.image[i] - b.image[i];
    image[i] = d;
    const m = Math.abs(d);
    if (m > maxAbs) maxAbs = m;
  }
  return {
    volume: {
      ...a,
      image,
      labels: a.labels,
      metadata: { ...a.metadata, sampleMs: 0 },
    },
    maxAbs,
  };
}

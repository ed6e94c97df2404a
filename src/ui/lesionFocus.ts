/**
 * Where "Go to lesion" goes: a voxel of the pathology label's LARGEST connected component
 * (6-connected), the one nearest that component's centre. The centre of all lesion voxels is
 * no good for scattered lesions (MS): it falls between them, often in a ventricle.
 * Plain numerics on the label volume (no DOM); a breadth-first flood fill over one byte mask.
 */
import type { SampledVolume } from '../engine/types';

/** Inclusive [first, last] label values; the manifest's `labelRanges.pathology` for lesions. */
export type LabelRange = readonly [number, number];

/** Whether a label value is a pathology label (the manifest's `labelRanges.pathology`). */
export function isLesionLabel(value: number, range: LabelRange): boolean {
  return value >= range[0] && value <= range[1];
}

export interface LesionComponent {
  /** Voxel index (x + nx·(y + ny·z)) of the chosen focus voxel, inside the component. */
  voxel: [number, number, number];
  /** Number of voxels of the component. */
  size: number;
  /** How many components the lesion label has. */
  components: number;
}

/** The largest 6-connected component of lesion voxels and its focus voxel; null when none. */
export function largestLesionComponent(
  labels: ArrayLike<number>,
  dims: readonly [number, number, number] | readonly number[],
  range: LabelRange,
): LesionComponent | null {
  const [nx, ny, nz] = dims;
  const n = nx * ny * nz;
  // 0 = not lesion, 1 = lesion not yet visited, 2 = visited
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (isLesionLabel(labels[i], range)) mask[i] = 1;
  const queue = new Int32Array(n);
  let best: Int32Array | null = null;
  let bestSize = 0;
  let components = 0;
  for (let seed = 0; seed < n; seed++) {
    if (mask[seed] !== 1) continue;
    components++;
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    mask[seed] = 2;
    while (head < tail) {
      const i = queue[head++];
      const x = i % nx;
      const y = Math.floor(i / nx) % ny;
      const z = Math.floor(i / (nx * ny));
      const visit = (j: number) => {
        if (mask[j] === 1) {
          mask[j] = 2;
          queue[tail++] = j;
        }
      };
      if (x > 0) visit(i - 1);
      if (x < nx - 1) visit(i + 1);
      if (y > 0) visit(i - nx);
      if (y < ny - 1) visit(i + nx);
      if (z > 0) visit(i - nx * ny);
      if (z < nz - 1) visit(i + nx * ny);
    }
    if (tail > bestSize) {
      bestSize = tail;
      best = queue.slice(0, tail);
    }
  }
  if (!best) return null;
  const xyz = (i: number): [number, number, number] => [
    i % nx,
    Math.floor(i / nx) % ny,
    Math.floor(i / (nx * ny)),
  ];
  const c = [0, 0, 0];
  for (const i of best) xyz(i).forEach((v, k) => (c[k] += v / bestSize));
  // the component's own voxel nearest its centre (a ring's centre lies outside the ring)
  let voxel = xyz(best[0]);
  let bestD = Infinity;
  for (const i of best) {
    const p = xyz(i);
    const d = (p[0] - c[0]) ** 2 + (p[1] - c[1]) ** 2 + (p[2] - c[2]) ** 2;
    if (d < bestD) {
      bestD = d;
      voxel = p;
    }
  }
  return { voxel, size: bestSize, components };
}

/** RAS mm of the focus voxel of the largest lesion component, or null when there is none. */
export function lesionFocusMm(
  vol: Pick<SampledVolume, 'labels' | 'dims' | 'affine'>,
  range: LabelRange,
): [number, number, number] | null {
  const comp = largestLesionComponent(vol.labels, vol.dims, range);
  if (!comp) return null;
  const v = comp.voxel;
  const a = vol.affine;
  return [0, 1, 2].map((r) => a[r][0] * v[0] + a[r][1] * v[1] + a[r][2] * v[2] + a[r][3]) as [
    number,
    number,
    number,
  ];
}

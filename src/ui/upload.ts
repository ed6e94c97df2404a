/**
 * A user's own NIfTI, made fit for the viewer (pure numerics, no DOM; runs in the upload worker,
 * uploadWorker.ts, so a large file never freezes the page):
 * - 4D (a series of volumes) and images with no finite voxel are refused with a message;
 * - NaN / infinite voxels are shown as 0, and the banner says how many;
 * - above DISPLAY_MAX_DIM voxels along any axis, or DISPLAY_MAX_VOXELS in all, the image is
 *   downsampled by the smallest whole factor (block mean) and the banner says so. 256 is the
 *   3D texture size every WebGL2 GPU supports (larger ones may fail as a black canvas); 4 M
 *   voxels (≈ 160³, 4× the generated 2 mm grid) keeps the viewer's upload and 3D render short
 *   in software WebGL too (a 512³ file at 256³ blocked the page for ~10 s there).
 */
import type { ParsedNifti } from './engineApi';

export const DISPLAY_MAX_DIM = 256;
export const DISPLAY_MAX_VOXELS = 4 * 1024 * 1024;

export interface PreparedUpload {
  dims: [number, number, number];
  affine: number[][];
  data: Float32Array;
  /** What was done to show it (downsampled, NaN shown as 0, …), for the banner. */
  notes: string[];
}

export function prepareUpload(
  parsed: ParsedNifti,
  maxDim: number = DISPLAY_MAX_DIM,
  maxVoxels: number = DISPLAY_MAX_VOXELS,
): PreparedUpload {
  const all = [...parsed.dims];
  const extra = all.slice(3).reduce((a, b) => a * b, 1);
  if (extra > 1)
    throw new Error(
      `it is a ${all.length}D image (${all.join(' × ')}: ${extra} volumes, e.g. fMRI or diffusion); only 3D images can be opened`,
    );
  const dims = [all[0] ?? 1, all[1] ?? 1, all[2] ?? 1] as [number, number, number];
  const n = dims[0] * dims[1] * dims[2];
  const src = parsed.data;
  const notes: string[] = [];

  let nonFinite = 0;
  for (let i = 0; i < n; i++) if (!Number.isFinite(src[i])) nonFinite++;
  if (nonFinite === n)
    throw new Error(
      `it has no finite values (all ${n} voxels are NaN or infinite): nothing to show`,
    );
  if (nonFinite > 0)
    notes.push(`${nonFinite} NaN/infinite voxel${nonFinite === 1 ? '' : 's'} shown as 0`);

  let f = Math.max(1, ...dims.map((d) => Math.ceil(d / maxDim)));
  const voxelsAt = (k: number) => dims.reduce((a, d) => a * Math.ceil(d / k), 1);
  while (voxelsAt(f) > maxVoxels) f++;
  if (f === 1) {
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = Number.isFinite(src[i]) ? src[i] : 0;
    return { dims, affine: parsed.affine.map((r) => [...r]), data, notes };
  }
  const out = dims.map((d) => Math.ceil(d / f)) as [number, number, number];
  const data = blockMean(src, dims, out, f);
  const off = (f - 1) / 2;
  const affine = parsed.affine.map((row, r) =>
    r < 3
      ? [row[0] * f, row[1] * f, row[2] * f, row[0] * off + row[1] * off + row[2] * off + row[3]]
      : [...row],
  );
  notes.push(
    `downsampled ${f}× for display (${dims.join('×')} → ${out.join('×')}; at most ${maxDim} voxels per axis and ${formatCount(maxVoxels)} in all)`,
  );
  return { dims: out, affine, data, notes };
}

/** Mean of the finite voxels of each f×f×f block (0 when a block has none). */
function blockMean(
  src: ArrayLike<number>,
  [nx, ny, nz]: [number, number, number],
  [mx, my, mz]: [number, number, number],
  f: number,
): Float32Array {
  const sum = new Float64Array(mx * my * mz);
  const count = new Uint32Array(mx * my * mz);
  for (let z = 0; z < nz; z++) {
    const oz = Math.floor(z / f) * mx * my;
    for (let y = 0; y < ny; y++) {
      const oy = oz + Math.floor(y / f) * mx;
      const row = (z * ny + y) * nx;
      for (let x = 0; x < nx; x++) {
        const v = src[row + x];
        if (!Number.isFinite(v)) continue;
        const o = oy + Math.floor(x / f);
        sum[o] += v;
        count[o]++;
      }
    }
  }
  const data = new Float32Array(sum.length);
  for (let i = 0; i < sum.length; i++) data[i] = count[i] ? sum[i] / count[i] : 0;
  return data;
}

function formatCount(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(0)} M` : String(n);
}

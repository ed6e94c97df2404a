import { describe, expect, it } from 'vitest';
import { prepareUpload } from './upload';

const eye = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
];

describe('prepareUpload (a user NIfTI made fit for the viewer)', () => {
  it('refuses a 4D series and an image without a finite value, with a reason', () => {
    const fourD = { dims: [4, 4, 4, 3], affine: eye, data: new Float32Array(192) };
    expect(() => prepareUpload(fourD)).toThrow(/4D image \(4 × 4 × 4 × 3: 3 volumes.*only 3D/);
    const nan = { dims: [4, 4, 4], affine: eye, data: new Float32Array(64).fill(NaN) };
    expect(() => prepareUpload(nan)).toThrow(/no finite values \(all 64 voxels are NaN/);
    // a trailing dimension of 1 is still 3D
    expect(
      prepareUpload({ dims: [2, 2, 2, 1], affine: eye, data: new Float32Array(8) }).dims,
    ).toEqual([2, 2, 2]);
  });

  it('shows NaN voxels as 0 and says how many', () => {
    const data = Float32Array.from([1, NaN, 3, Infinity, 5, 6, 7, 8]);
    const u = prepareUpload({ dims: [2, 2, 2], affine: eye, data });
    expect(Array.from(u.data)).toEqual([1, 0, 3, 0, 5, 6, 7, 8]);
    expect(u.notes).toEqual(['2 NaN/infinite voxels shown as 0']);
  });

  it('downsamples above the stated size by block mean and moves the affine to block centres', () => {
    // 8×4×2 with max 4 per axis → factor 2 → 4×2×1
    const data = Float32Array.from({ length: 64 }, (_, i) => i % 8); // value = x
    const affine = [
      [2, 0, 0, -10],
      [0, 2, 0, -20],
      [0, 0, 2, -30],
      [0, 0, 0, 1],
    ];
    const u = prepareUpload({ dims: [8, 4, 2], affine, data: data }, 4);
    expect(u.dims).toEqual([4, 2, 1]);
    expect(Array.from(u.data.slice(0, 4))).toEqual([0.5, 2.5, 4.5, 6.5]);
    expect(u.affine).toEqual([
      [4, 0, 0, -9],
      [0, 4, 0, -19],
      [0, 0, 4, -29],
      [0, 0, 0, 1],
    ]);
    expect(u.notes[0]).toBe(
      'downsampled 2× for display (8×4×2 → 4×2×1; at most 4 voxels per axis and 4 M in all)',
    );
    // the voxel budget: 8×8×8 within 8 per axis but above 100 voxels → factor 2 (64 voxels)
    const cube = prepareUpload({ dims: [8, 8, 8], affine, data: new Float32Array(512) }, 8, 100);
    expect(cube.dims).toEqual([4, 4, 4]);
    expect(cube.notes[0]).toMatch(/^downsampled 2× .*and 100 in all\)$/);
    // at the limit: untouched
    const same = prepareUpload({ dims: [4, 4, 2], affine, data: new Uint8Array(32) }, 4);
    expect(same.dims).toEqual([4, 4, 2]);
    expect(same.notes).toEqual([]);
  });
});

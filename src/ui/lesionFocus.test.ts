import { describe, expect, it } from 'vitest';
import { largestLesionComponent, lesionFocusMm } from './lesionFocus';

const dims: [number, number, number] = [10, 10, 10];
const idx = (x: number, y: number, z: number) => x + 10 * (y + 10 * z);
const identity = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
];

describe('Go to lesion', () => {
  it('lands in the largest connected component, not between scattered lesions', () => {
    const labels = new Int16Array(1000);
    // a 3x3x3 lesion around (7,7,7) and two single-voxel lesions at the opposite corner
    for (let x = 6; x <= 8; x++)
      for (let y = 6; y <= 8; y++) for (let z = 6; z <= 8; z++) labels[idx(x, y, z)] = 701;
    labels[idx(0, 0, 0)] = 702;
    labels[idx(0, 2, 0)] = 702;
    labels[idx(4, 4, 4)] = 3; // not a lesion label
    const c = largestLesionComponent(labels, dims, [700, 799]);
    expect(c).toEqual({ voxel: [7, 7, 7], size: 27, components: 3 });
    // the centroid of all lesion voxels (about 6.2, 6.3, 6.2) is not where it goes
    const affine = [
      [2, 0, 0, -10],
      [0, 2, 0, -20],
      [0, 0, 2, -30],
    ];
    expect(lesionFocusMm({ labels, dims, affine }, [700, 799])).toEqual([4, -6, -16]);
  });

  it('a ring-shaped lesion: a voxel of the ring, never its empty centre', () => {
    const labels = new Int16Array(1000);
    for (let x = 2; x <= 6; x++)
      for (let y = 2; y <= 6; y++)
        if (x === 2 || x === 6 || y === 2 || y === 6) labels[idx(x, y, 5)] = 701;
    const c = largestLesionComponent(labels, dims, [700, 799])!;
    expect(c.size).toBe(16);
    expect(labels[idx(...c.voxel)]).toBe(701);
  });

  it('diagonal neighbours are separate components (6-connectivity); none → null', () => {
    const labels = new Int16Array(1000);
    labels[idx(1, 1, 1)] = 701;
    labels[idx(2, 2, 1)] = 701;
    expect(largestLesionComponent(labels, dims, [700, 799])?.components).toBe(2);
    expect(
      lesionFocusMm({ labels: new Int16Array(1000), dims, affine: identity }, [700, 799]),
    ).toBeNull();
  });
});

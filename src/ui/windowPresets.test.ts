import { describe, expect, it } from 'vitest';
import { windowPresets } from './windowPresets';

describe('window/level presets', () => {
  // 1000 voxels: 0..999 inside the brain (label 2), one bright scalp voxel outside (label 0)
  const image = Float32Array.from({ length: 1001 }, (_, i) => (i < 1000 ? i : 5000));
  const labels = Int16Array.from({ length: 1001 }, (_, i) => (i < 1000 ? 2 : 0));

  it('per contrast, from percentiles of the intracranial voxels', () => {
    const t1 = windowPresets(image, labels, 'T1w', [1, 499]);
    expect(t1.map((p) => p.name)).toEqual(['Brain', 'Grey/white', 'Full range']);
    expect(t1[0]).toEqual({ name: 'Brain', min: 10, max: 989 });
    expect(t1[2]).toEqual({ name: 'Full range', min: 0, max: 5000 });
    const flair = windowPresets(image, labels, 'FLAIR', [1, 499]);
    expect(flair[1]).toEqual({ name: 'Lesions', min: 500, max: 998 });
    expect(windowPresets(image, labels, 'T2w', [1, 499])[1].name).toBe('CSF');
  });

  it('no intracranial label: only the full range; no finite voxel: nothing', () => {
    expect(windowPresets(image, new Int16Array(1001), 'T1w', [1, 499])).toEqual([
      { name: 'Full range', min: 0, max: 5000 },
    ]);
    expect(windowPresets(Float32Array.from([NaN]), Int16Array.from([2]), 'T1w', [1, 499])).toEqual(
      [],
    );
  });
});

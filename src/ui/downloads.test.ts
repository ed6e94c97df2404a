import { describe, expect, it } from 'vitest';
import type { Conditions } from '../engine/types';
import { fileName } from './downloads';
import { fakeVolume } from './testing/fakes';

describe('download file names', () => {
  it('names image, labels and sidecar after seed and conditions', () => {
    const c = { age: 45, sex: 'female', pathology: 'none', contrast: 'T1w' } as Conditions;
    const vol = fakeVolume(c, 123);
    expect(fileName(vol, 'image')).toBe('brainsynth_123_age45_female_T1w.nii.gz');
    expect(fileName(vol, 'labels')).toBe('brainsynth_123_age45_female_dseg.nii.gz');
    expect(fileName(vol, 'sidecar')).toBe('brainsynth_123_age45_female_T1w.json');
  });

  it('adds the pathology and keeps fractional ages readable', () => {
    const c = { age: 72.5, sex: 'male', pathology: 'alzheimers', contrast: 'FLAIR' } as Conditions;
    expect(fileName(fakeVolume(c, 9), 'image')).toBe(
      'brainsynth_9_age72p5_male_alzheimers_FLAIR.nii.gz',
    );
  });
});

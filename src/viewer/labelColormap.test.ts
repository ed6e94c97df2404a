import { describe, expect, it } from 'vitest';
import { smallLabels } from '../ui/testing/fakes';
import { labelColormap, labelNames } from './labelColormap';

describe('label colormap', () => {
  it('maps label values to colours and names, background transparent', () => {
    const cm = labelColormap(smallLabels);
    expect(cm.I).toEqual([0, 2, 4, 701]);
    expect(cm.A).toEqual([0, 255, 255, 255]);
    expect(cm.labels[3]).toBe('MS-lesion');
    expect([cm.R[2], cm.G[2], cm.B[2]]).toEqual([120, 18, 134]);
  });

  it('adds a transparent 0 when the table has none', () => {
    const cm = labelColormap(smallLabels.slice(1));
    expect(cm.I[0]).toBe(0);
    expect(cm.A[0]).toBe(0);
  });

  it('looks names up by value', () => {
    expect(labelNames(smallLabels).get(4)).toBe('Left-Lateral-Ventricle');
  });

  it('draws hidden values transparent (brain only: extra-cerebral labels)', () => {
    const cm = labelColormap(smallLabels, (v) => v === 4);
    expect(cm.I).toEqual([0, 2, 4, 701]);
    expect(cm.A).toEqual([0, 255, 0, 255]);
  });
});

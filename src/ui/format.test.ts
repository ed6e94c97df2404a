import { describe, expect, it } from 'vitest';
import { formatIntensity } from './format';

describe('formatIntensity', () => {
  it('shows 3 significant digits, whole numbers from 1000 up', () => {
    expect(formatIntensity(0.45678)).toBe('0.457');
    expect(formatIntensity(0.0012345)).toBe('0.00123');
    expect(formatIntensity(12.345)).toBe('12.3');
    expect(formatIntensity(812.6)).toBe('813');
    expect(formatIntensity(1234.5)).toBe('1235');
    expect(formatIntensity(-0.25)).toBe('-0.25');
    expect(formatIntensity(0)).toBe('0');
    expect(formatIntensity(Number.NaN)).toBe('NaN');
  });
});

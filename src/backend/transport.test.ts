import { describe, expect, it } from 'vitest';
import { formatDetail } from './transport';

describe('formatDetail', () => {
  it('joins 422 items with their location, without "body"', () => {
    expect(
      formatDetail([
        { loc: ['body', 'conditions', 'age'], msg: '150 is greater than the maximum of 90' },
        { loc: ['body', 'seed'], msg: 'Input should be a valid integer' },
      ]),
    ).toBe(
      'conditions.age: 150 is greater than the maximum of 90; seed: Input should be a valid integer',
    );
    expect(formatDetail('queue full')).toBe('queue full');
    expect(formatDetail(null)).toBe('');
  });
});

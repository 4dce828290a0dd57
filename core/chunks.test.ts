import { describe, expect, it } from 'vitest';
import { chunks } from './chunks.ts';

describe('chunks', () => {
  it('splits in order, the last run holding the rest', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks([1, 2, 3, 4], 2)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(chunks(['a'], 500)).toEqual([['a']]);
  });

  it('gives no runs for no items', () => {
    expect(chunks([], 3)).toEqual([]);
  });

  it('refuses a size below 1, which would never advance', () => {
    expect(() => chunks([1], 0)).toThrow(/at least 1/);
    expect(() => chunks([1], Number.NaN)).toThrow(/at least 1/);
  });
});

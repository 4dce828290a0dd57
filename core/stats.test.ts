import { describe, expect, it } from 'vitest';
import { median, quantile } from './stats.ts';

describe('quantile and median', () => {
  it('median of an odd-length list is the middle value after sorting', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([5])).toBe(5);
  });

  it('median of an even-length list is the mean of the two middle values', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, 20])).toBe(15);
  });

  it('sorts numerically, not as strings', () => {
    // a string sort would give [10, 100, 9] and a median of 100
    expect(median([10, 9, 100])).toBe(10);
    expect(median([-5, -20, 3])).toBe(-5);
  });

  it('interpolates linearly between ranks', () => {
    const oneToTen = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    // q = 0.9: position 9 * 0.9 = 8.1 -> sorted[8] + 0.1 * (sorted[9] - sorted[8]) = 9 + 0.1 = 9.1
    expect(quantile(oneToTen, 0.9)).toBeCloseTo(9.1, 12);
    // q = 0.25 of [1..5]: position 4 * 0.25 = 1 exactly -> 2
    expect(quantile([5, 4, 3, 2, 1], 0.25)).toBe(2);
    // q = 0.95 of [0, 100]: 95
    expect(quantile([100, 0], 0.95)).toBeCloseTo(95, 12);
  });

  it('q = 0 is the minimum and q = 1 the maximum', () => {
    expect(quantile([7, -1, 3], 0)).toBe(-1);
    expect(quantile([7, -1, 3], 1)).toBe(7);
  });

  it('returns NaN for an empty list', () => {
    expect(quantile([], 0.5)).toBeNaN();
    expect(median([])).toBeNaN();
  });

  it('does not reorder its input', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
});

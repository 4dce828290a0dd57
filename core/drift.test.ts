import { describe, expect, it } from 'vitest';
import { categoryCounts, driftLevel, histogram, jsDistance, proportions, psi } from './drift.ts';

describe('psi', () => {
  it('is 0 for identical distributions (counts of different totals)', () => {
    expect(psi([10, 20, 70], [1, 2, 7])).toBeCloseTo(0, 12);
  });

  it('matches a hand computation', () => {
    // ref (0.5, 0.5), cur (0.8, 0.2), no smoothing:
    // (0.8-0.5) ln(0.8/0.5) + (0.2-0.5) ln(0.2/0.5) = 0.3*0.470004 + (-0.3)(-0.916291) = 0.141001 + 0.274887 = 0.415888
    expect(psi([50, 50], [80, 20], 0)).toBeCloseTo(0.415888, 5);
  });

  it('stays finite with an empty bin, thanks to epsilon (hand-computed)', () => {
    // ref (1, 0) -> (1+e, e)/(1+2e); cur (0.5, 0.5) -> (0.5+e, 0.5+e)/(1+2e), e = 1e-4.
    const e = 1e-4;
    const r = [(1 + e) / (1 + 2 * e), e / (1 + 2 * e)];
    const c = [(0.5 + e) / (1 + 2 * e), (0.5 + e) / (1 + 2 * e)];
    const want = (c[0] - r[0]) * Math.log(c[0] / r[0]) + (c[1] - r[1]) * Math.log(c[1] / r[1]);
    // ~ 0.5*ln(0.5) ... + 0.5*ln(0.5/1e-4): roughly 0.3466 + 4.2586 = 4.605
    expect(want).toBeGreaterThan(4.5);
    expect(psi([10, 0], [5, 5])).toBeCloseTo(want, 9);
    expect(Number.isFinite(psi([10, 0], [5, 5]))).toBe(true);
  });

  it('is symmetric in its arguments', () => {
    expect(psi([1, 2, 3], [3, 2, 1])).toBeCloseTo(psi([3, 2, 1], [1, 2, 3]), 12);
  });

  it('rejects mismatched bins and empty histograms', () => {
    expect(() => psi([1, 2], [1, 2, 3])).toThrow(/bins/);
    expect(() => psi([0, 0], [1, 1])).toThrow(/observation/);
  });
});

describe('jsDistance', () => {
  it('is 0 for equal and 1 for disjoint distributions (empty bins allowed)', () => {
    expect(jsDistance([1, 1], [2, 2])).toBeCloseTo(0, 12);
    expect(jsDistance([1, 0], [0, 1])).toBeCloseTo(1, 12);
  });

  it('matches a hand computation', () => {
    // p = (1, 0), q = (0.5, 0.5): m = (0.75, 0.25)
    // KL(p||m) = log2(1/0.75) = 0.415037; KL(q||m) = 0.5 log2(0.5/0.75) + 0.5 log2(0.5/0.25) = -0.292481 + 0.5 = 0.207519
    // JSD = (0.415037 + 0.207519)/2 = 0.311278; distance = sqrt = 0.557923
    expect(jsDistance([4, 0], [3, 3])).toBeCloseTo(0.557923, 5);
  });
});

describe('histograms', () => {
  it('bins confidences, clamping the ends, skipping NaN', () => {
    expect(histogram([0, 0.05, 0.1, 0.55, 0.999, 1, 1.2, -1, Number.NaN], 10)).toEqual([3, 1, 0, 0, 0, 1, 0, 0, 0, 3]);
  });
  it('counts categories in order and ignores unknown ones', () => {
    expect(categoryCounts(['a', 'b', 'a', 'z'], ['a', 'b', 'c'])).toEqual([2, 1, 0]);
  });
  it('proportions sum to 1', () => {
    expect(proportions([1, 3])).toEqual([0.25, 0.75]);
  });
});

describe('driftLevel', () => {
  it('takes the worse of PSI and JS against the thresholds', () => {
    expect(driftLevel(0.05, 0.05)).toBe('ok');
    expect(driftLevel(0.12, 0.05)).toBe('warn');
    expect(driftLevel(0.05, 0.25)).toBe('alert');
    expect(driftLevel(0.3, 0)).toBe('alert');
  });
});

describe('empty bins, by hand', () => {
  it('psi with an empty bin on the current side (epsilon 0.01)', () => {
    // ref (0.5, 0.5) -> (0.51, 0.51)/1.02 = (0.5, 0.5); cur (1, 0) -> (1.01, 0.01)/1.02 = (0.990196, 0.009804)
    // 0.490196 ln(1.980392) + (-0.490196) ln(0.019608) = 0.334948 + 1.927366 = 2.262314
    expect(psi([5, 5], [8, 0], 0.01)).toBeCloseTo(2.262314, 5);
  });
  it('jsDistance with an empty bin on one side only', () => {
    // p = (0.5, 0.5, 0), q = (0.5, 0.25, 0.25), m = (0.5, 0.375, 0.125)
    // KL(p||m) = 0.5 log2(0.5/0.375) = 0.207519; KL(q||m) = 0.25 log2(0.25/0.375) + 0.25 log2(0.25/0.125) = 0.103759
    // JSD = 0.155639, distance = 0.394511
    expect(jsDistance([2, 2, 0], [2, 1, 1])).toBeCloseTo(0.394511, 5);
  });
});

import { describe, expect, it } from 'vitest';
import { LATENCY_BINS, latencyBin, latencyQuantile } from './latency-bins.ts';
import { quantile } from './stats.ts';
import { seededRandom } from './random.ts';

describe('latency bins', () => {
  it('put values in log-spaced bins, the ends catching the rest, and skip what is not a number', () => {
    expect(latencyBin(0.5)).toBe(0);
    expect(latencyBin(1)).toBe(1);
    expect(latencyBin(10)).toBe(11);
    expect(latencyBin(99_999)).toBe(LATENCY_BINS - 2);
    expect(latencyBin(1e9)).toBe(LATENCY_BINS - 1);
    expect(latencyBin(Number.NaN)).toBeNull();
  });

  it('give quantiles within one bin (about 13%) of the exact ones, and merge by adding counts', () => {
    const random = seededRandom(3);
    const values = Array.from({ length: 5000 }, () => 20 * Math.exp(random() * 4));
    const counts = (vs: number[]) => {
      const c = new Array(LATENCY_BINS).fill(0);
      for (const v of vs) c[latencyBin(v)!]++;
      return c;
    };
    const merged = counts(values.slice(0, 2000)).map((c, i) => c + counts(values.slice(2000))[i]);
    expect(merged).toEqual(counts(values));
    for (const q of [0.5, 0.95]) {
      const exact = quantile(values, q);
      const est = latencyQuantile(merged, q);
      expect(Math.abs(Math.log10(est / exact))).toBeLessThanOrEqual(0.1 / 2 + 1e-9 + 0.05);
    }
  });
});

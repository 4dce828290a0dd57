import { describe, expect, it } from 'vitest';
import { binomialHalfCdf, erfc, mcnemar, pairedCounts, pairedDifference, wilson } from './intervals.ts';

describe('wilson', () => {
  it('matches the textbook values and stays inside [0, 1]', () => {
    // 5/5: [0.566, 1]; 0/10: [0, 0.278]; 8/10: [0.490, 0.943] (Wilson 1927; e.g. Agresti & Coull 1998).
    expect(wilson(5, 5).lo).toBeCloseTo(0.5655, 4);
    expect(wilson(5, 5).hi).toBe(1);
    expect(wilson(0, 10)).toEqual({ lo: 0, hi: expect.closeTo(0.2775, 4) });
    expect(wilson(8, 10).lo).toBeCloseTo(0.4902, 4);
    expect(wilson(8, 10).hi).toBeCloseTo(0.9433, 4);
    expect(wilson(0, 0)).toEqual({ lo: 0, hi: 1 });
  });
  it('narrows as n grows at the same proportion', () => {
    const w = (n: number) => {
      const i = wilson(0.8 * n, n);
      return i.hi - i.lo;
    };
    expect(w(10)).toBeGreaterThan(w(100));
    expect(w(100)).toBeGreaterThan(w(1000));
  });
  it('refuses impossible counts', () => {
    expect(() => wilson(6, 5)).toThrow(RangeError);
  });
});

describe('mcnemar', () => {
  it('is exact (binomial on the discordant pairs) for small counts', () => {
    expect(binomialHalfCdf(0, 6)).toBeCloseTo(1 / 64, 12);
    expect(mcnemar(6, 0)).toMatchObject({ p: expect.closeTo(0.03125, 10), method: 'exact' });
    expect(mcnemar(0, 5).p).toBeCloseTo(0.0625, 10);
    expect(mcnemar(3, 3).p).toBe(1);
    expect(mcnemar(0, 0).p).toBe(1);
  });
  it('uses the continuity-corrected chi-square from 25 discordant pairs on', () => {
    // (|30 - 10| - 1)^2 / 40 = 9.025 -> p = 0.00266
    const t = mcnemar(30, 10);
    expect(t.method).toMatch(/chi-square/);
    expect(t.p).toBeCloseTo(0.00266, 4);
    expect(erfc(0)).toBeCloseTo(1, 6);
    expect(erfc(1.959963984540054 / Math.SQRT2)).toBeCloseTo(0.05, 6);
  });
  it('agrees with the exact test near the switch', () => {
    expect(Math.abs(mcnemar(18, 6).p - mcnemar(19, 6).p)).toBeLessThan(0.02);
  });
});

describe('pairedDifference', () => {
  it('counts the 2 x 2 table', () => {
    expect(pairedCounts([true, true, false, false, true], [true, false, true, false, false])).toEqual({ both: 1, onlyCurrent: 2, onlyCandidate: 1, neither: 1 });
  });
  it("gives Newcombe's hybrid score interval (method 10)", () => {
    // Newcombe (1998) example (a): 12 / 5 / 2 / 21 pairs, difference 0.075. The bounds are what this
    // transcription of method 10 gives (not copied from the paper's table): a guard against edits to the formula.
    const d = pairedDifference({ both: 12, onlyCandidate: 5, onlyCurrent: 2, neither: 21 });
    expect(d.difference).toBeCloseTo(0.075, 10);
    expect(d.lo).toBeCloseTo(-0.0506, 3);
    expect(d.hi).toBeCloseTo(0.1963, 3);
  });
  it('contains 0 when nothing changed, and shows a loss when only losses changed', () => {
    const same = pairedDifference({ both: 550, onlyCandidate: 0, onlyCurrent: 0, neither: 47 });
    expect(same.lo).toBeLessThan(0);
    expect(same.hi).toBeGreaterThan(0);
    const worse = pairedDifference({ both: 500, onlyCandidate: 0, onlyCurrent: 40, neither: 57 });
    expect(worse.hi).toBeLessThan(0);
    expect(worse.difference).toBeCloseTo(-40 / 597, 10);
  });
  it('is symmetric: swapping the models negates the interval', () => {
    const a = pairedDifference({ both: 80, onlyCandidate: 7, onlyCurrent: 3, neither: 10 });
    const b = pairedDifference({ both: 80, onlyCandidate: 3, onlyCurrent: 7, neither: 10 });
    expect(a.lo).toBeCloseTo(-b.hi, 10);
    expect(a.hi).toBeCloseTo(-b.lo, 10);
  });
});

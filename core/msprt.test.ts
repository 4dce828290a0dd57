import { describe, expect, it } from 'vitest';
import { binomialTailAtLeast, msprtHalfWidth, msprtLambda } from './msprt.ts';
import { seededRandom } from './random.ts';

describe('msprtHalfWidth', () => {
  it('is where the mixture likelihood ratio reaches 1/alpha', () => {
    const v = 1e-4;
    const tau = 0.02;
    const h = msprtHalfWidth(v, tau, 0.05);
    expect(msprtLambda(h, 0, v, tau)).toBeCloseTo(20, 6);
    expect(msprtLambda(h * 0.99, 0, v, tau)).toBeLessThan(20);
  });
  it('is wider than a fixed-sample interval (the price of looking at any time) and shrinks with the variance', () => {
    const v = 1e-4;
    expect(msprtHalfWidth(v, 0.02, 0.05)).toBeGreaterThan(1.96 * Math.sqrt(v));
    expect(msprtHalfWidth(v / 4, 0.02, 0.05)).toBeLessThan(msprtHalfWidth(v, 0.02, 0.05));
    expect(msprtHalfWidth(0, 0.02, 0.05)).toBe(0);
    expect(msprtHalfWidth(Infinity, 0.02, 0.05)).toBe(Infinity);
    expect(() => msprtHalfWidth(1, 0.02, 0)).toThrow(RangeError);
  });
  it('keeps its error rate over many looks, where a fixed z at every look does not', () => {
    // Null: two arms with the same mean; 200 looks as data accumulates.
    const rand = seededRandom(11);
    const normal = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
    const runs = 400;
    let msprtFalse = 0;
    let zFalse = 0;
    for (let r = 0; r < runs; r++) {
      let sum = 0;
      let crossedM = false;
      let crossedZ = false;
      for (let n = 1; n <= 200; n++) {
        sum += normal(); // difference of one observation, sd 1
        const d = sum / n;
        const v = 1 / n;
        if (Math.abs(d) > msprtHalfWidth(v, 0.5, 0.05)) crossedM = true;
        if (Math.abs(d) / Math.sqrt(v) > 1.96) crossedZ = true;
      }
      if (crossedM) msprtFalse++;
      if (crossedZ) zFalse++;
    }
    expect(msprtFalse / runs).toBeLessThanOrEqual(0.05);
    expect(zFalse / runs).toBeGreaterThan(0.2);
  });
});

describe('binomialTailAtLeast', () => {
  it('matches small cases worked by hand', () => {
    expect(binomialTailAtLeast(3, 3, 0.05)).toBeCloseTo(0.05 ** 3, 12);
    expect(binomialTailAtLeast(1, 2, 0.5)).toBeCloseTo(0.75, 12);
    expect(binomialTailAtLeast(0, 10, 0.3)).toBe(1);
    expect(binomialTailAtLeast(11, 10, 0.3)).toBe(0);
    // Sum of the whole distribution is 1.
    expect(binomialTailAtLeast(1, 50, 0.2) + 0.8 ** 50).toBeCloseTo(1, 12);
  });
});

import { describe, expect, it } from 'vitest';
import { installWeights } from './install-weight.ts';

describe('installWeights', () => {
  it('counts a typical install in full and caps a flooding one at the cap, per group', () => {
    const items = [
      ...Array.from({ length: 3 }, () => ({ install: 'a', day: 'd1' })),
      ...Array.from({ length: 10_000 }, () => ({ install: 'F', day: 'd1' })),
      ...Array.from({ length: 2 }, () => ({ install: 'f', day: 'd2' })),
    ];
    const w = installWeights(
      items,
      (t) => t.install,
      (t) => t.day,
      50,
    );
    expect(w.slice(0, 3)).toEqual([1, 1, 1]);
    const flood = w.slice(3, 10_003).reduce((a, b) => a + b, 0);
    expect(flood).toBeCloseTo(50, 9);
    // Another day is another group; install ids are case-blind.
    expect(w.slice(10_003)).toEqual([1, 1]);
  });

  it('refuses a cap that is not positive', () => {
    expect(() => installWeights([1], String, undefined, 0)).toThrow(/positive/);
  });
});

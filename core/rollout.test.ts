import { describe, expect, it } from 'vitest';
import { BUCKETS, DEFAULT_HOLDBACK_PERCENT, canaryShare, inRollout, murmur3, rolloutBucket } from './rollout.ts';
import { seededRandom } from './random.ts';

/** A reproducible stream of v4-looking ids (mulberry32), so failures can be replayed. */
function ids(n: number, seed = 42): string[] {
  const rand = seededRandom(seed);
  const hex = (len: number) => Array.from({ length: len }, () => Math.floor(rand() * 16).toString(16)).join('');
  return Array.from({ length: n }, () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`);
}

describe('murmur3', () => {
  it('matches the reference vectors of MurmurHash3_x86_32', () => {
    // Published test vectors (seed 0 unless given).
    expect(murmur3('')).toBe(0);
    expect(murmur3('', 1)).toBe(0x514e28b7);
    expect(murmur3('hello')).toBe(0x248bfa47);
    expect(murmur3('Hello, world!', 1234)).toBe(0xfaf6cdb3);
    expect(murmur3('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723);
  });
});

describe('rollout bucketing', () => {
  const population = ids(100_000);

  it('is deterministic: the same id and rollout always get the same bucket', () => {
    for (const id of population.slice(0, 1000)) expect(rolloutBucket(id, 'r-7')).toBe(rolloutBucket(id, 'r-7'));
  });

  it('is within 1% of uniform over 100,000 ids (every decile, and at 5/10/25/50%)', () => {
    const deciles = new Array(10).fill(0);
    for (const id of population) deciles[Math.floor((rolloutBucket(id, 'rollout-1') / BUCKETS) * 10)]++;
    for (const count of deciles) expect(Math.abs(count / population.length - 0.1)).toBeLessThan(0.01);
    for (const pct of [5, 10, 25, 50]) {
      const share = population.filter((id) => inRollout(id, 'rollout-1', pct)).length / population.length;
      expect(Math.abs(share - pct / 100)).toBeLessThan(0.01);
    }
  });

  it('is monotone in the percentage: raising it never moves a device out', () => {
    const steps = [0, 1, 5, 10, 25, 50, 75, 100];
    for (const id of population.slice(0, 20_000)) {
      let was = false;
      for (const pct of steps) {
        const now = inRollout(id, 'rollout-2', pct);
        if (was) expect(now).toBe(true);
        was = now;
      }
    }
  });

  it('puts nobody in at 0% and everybody at 100%', () => {
    expect(population.slice(0, 5000).some((id) => inRollout(id, 'r', 0))).toBe(false);
    expect(population.slice(0, 5000).every((id) => inRollout(id, 'r', 100))).toBe(true);
  });

  it('reshuffles for a new rollout id', () => {
    const first = population.slice(0, 10_000).filter((id) => inRollout(id, 'a', 10));
    const overlap = first.filter((id) => inRollout(id, 'b', 10)).length / first.length;
    expect(overlap).toBeGreaterThan(0.05);
    expect(overlap).toBeLessThan(0.15); // independent: about 10% of the first group
  });

  it('rejects percentages outside 0..100', () => {
    expect(() => inRollout('x', 'r', 101)).toThrow(RangeError);
    expect(() => inRollout('x', 'r', Number.NaN)).toThrow(RangeError);
  });
});

describe('holdback', () => {
  const population = ids(5000, 7);
  it('keeps the holdback on the control at the last step and changes no earlier step', () => {
    expect(canaryShare(5)).toBe(5);
    expect(canaryShare(50)).toBe(50);
    expect(canaryShare(100)).toBe(100 - DEFAULT_HOLDBACK_PERCENT);
    expect(canaryShare(100, 10)).toBe(90);
    expect(canaryShare(100, 0)).toBe(100);
    expect(() => canaryShare(100, 100)).toThrow(RangeError);
  });
  it('sticky buckets: the holdback is the same devices from the 50% step to promotion', () => {
    const ids = population.slice(0, 5000);
    const held = ids.filter((id) => !inRollout(id, 'r-h', canaryShare(100)));
    expect(held.length / ids.length).toBeGreaterThan(0.03);
    expect(held.length / ids.length).toBeLessThan(0.07);
    // Every held-back device was also outside the canary at 50%.
    expect(held.every((id) => !inRollout(id, 'r-h', canaryShare(50)))).toBe(true);
  });
});

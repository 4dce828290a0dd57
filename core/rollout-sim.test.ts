import { describe, expect, it } from 'vitest';
import { simulateRollout, simulateRollouts } from './rollout-sim.ts';

describe('rollout simulation', () => {
  it('is seeded: the same seed gives the same rollout', () => {
    expect(simulateRollout('worse', 5)).toEqual(simulateRollout('worse', 5));
    expect(simulateRollout('worse', 5)).not.toEqual(simulateRollout('worse', 6));
  });
  it('a broken canary is rolled back at the tick its third failing install reports, at 5%', () => {
    for (const seed of [1, 2, 3]) {
      const r = simulateRollout('broken', seed);
      expect(r.outcome).toBe('rolled_back');
      expect(r.step).toBe(5);
      expect(r.ticks - 1 - r.thirdFailureTick!).toBeLessThanOrEqual(1);
      expect(r.reason).toMatch(/canary fails on devices/);
    }
  });
  it('a 3-point-worse canary is rolled back before 50%', () => {
    const r = simulateRollout('worse', 11);
    expect(r.outcome).toBe('rolled_back');
    expect(r.maxStep).toBeLessThan(50);
    expect(r.reason).toMatch(/correctionRate/);
  });
  it('an equal canary climbs the plan (one step a day at most) and is promoted against the holdback', () => {
    const r = simulateRollout('equal', 21);
    expect(r.outcome).toBe('promoted');
    expect(r.ticks).toBeGreaterThanOrEqual(3 * 24);
    expect(r.reason).toMatch(/against the holdback/);
  });
  it('one flooding install does not roll an equal canary back; the old pooled count would have', () => {
    const r = simulateRollout('flood', 31, undefined);
    expect(r.outcome).not.toBe('rolled_back');
    expect(r.floodIdentifications).toBeGreaterThan(10_000);
    expect(r.pooledWouldRollBack).toBe(true);
  });
  it('summarizes every scenario in one object', () => {
    const out = simulateRollouts({ seed: 3, runs: 1, fleet: { maxDays: 8 } });
    expect(Object.keys(out)).toEqual(expect.arrayContaining(['equal', 'worse3Points', 'broken', 'flood']));
    expect(out.broken.rolledBack).toBe(1);
  });
});

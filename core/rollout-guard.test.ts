import { describe, expect, it } from 'vitest';
import { DEFAULT_GUARD_CONFIG, compareArms, decide, nextStep, twoProportionZ, type ArmStats } from './rollout-guard.ts';

const arm = (n: number, corrections: number, over: Partial<ArmStats> = {}): ArmStats => ({
  identifications: n, corrections, abstains: 0, errors: 0, latenciesMs: Array.from({ length: n }, (_, i) => 40 + (i % 20)), ...over,
});
const cfg = { ...DEFAULT_GUARD_CONFIG, minEvents: 200 };

describe('twoProportionZ', () => {
  it('is large for a clear difference, near zero for equal rates, and 0 for empty arms', () => {
    expect(twoProportionZ(90, 300, 30, 300)).toBeGreaterThan(5);
    expect(Math.abs(twoProportionZ(30, 300, 30, 300))).toBeLessThan(1e-9);
    expect(twoProportionZ(0, 0, 10, 100)).toBe(0);
    // A margin makes a small difference not count.
    expect(twoProportionZ(33, 300, 30, 300, 0.02)).toBeLessThan(0);
  });
});

describe('decide', () => {
  it('rolls back a canary with a clearly higher correction rate', () => {
    const d = decide(arm(300, 90), arm(300, 30), 5, cfg);
    expect(d.action).toBe('rollback');
    expect(d.reason).toMatch(/correctionRate 30\.0% vs 10\.0%/);
  });
  it('rolls back on abstain rate, error rate and p95 latency too', () => {
    expect(decide(arm(300, 30, { abstains: 120 }), arm(300, 30, { abstains: 30 }), 5, cfg).reason).toMatch(/abstainRate/);
    expect(decide(arm(300, 30, { errors: 40 }), arm(300, 30), 5, cfg).reason).toMatch(/errorRate/);
    const slow = arm(300, 30, { latenciesMs: new Array(300).fill(400) });
    expect(decide(slow, arm(300, 30), 5, cfg).reason).toMatch(/p95 latency/);
  });
  it('steps an equal canary up through the plan, then promotes', () => {
    expect(decide(arm(300, 30), arm(300, 30), 5, cfg)).toMatchObject({ action: 'step', to: 25 });
    expect(decide(arm(300, 30), arm(300, 30), 50, cfg)).toMatchObject({ action: 'step', to: 100 });
    // At 100% there is no control traffic; the canary's own count is enough.
    expect(decide(arm(300, 30), arm(0, 0), 100, cfg).action).toBe('promote');
  });
  it('decides nothing on too few events', () => {
    expect(decide(arm(50, 5), arm(50, 5), 5, cfg).action).toBe('wait');
    expect(decide(arm(10, 5), arm(10, 0), 5, cfg).action).toBe('wait');
    expect(decide(arm(300, 30), arm(100, 10), 5, cfg).action).toBe('wait');
  });
  it('does not roll back on noise: equal true rates rarely look worse', () => {
    let rollbacks = 0;
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 200; trial++) {
      const draw = (n: number) => Array.from({ length: n }).filter(() => rand() < 0.1).length;
      if (decide(arm(300, draw(300)), arm(300, draw(300)), 5, cfg).action === 'rollback') rollbacks++;
    }
    expect(rollbacks).toBeLessThanOrEqual(4);
  });
});

describe('helpers', () => {
  it('finds the next step of a plan', () => {
    expect(nextStep(5, [5, 25, 50, 100])).toBe(25);
    expect(nextStep(30, [5, 25, 50, 100])).toBe(50);
    expect(nextStep(100, [5, 25, 50, 100])).toBeNull();
  });
  it('compares every metric', () => {
    expect(compareArms(arm(300, 30), arm(300, 30), cfg).map((c) => c.metric)).toEqual(['correctionRate', 'abstainRate', 'errorRate', 'p95LatencyMs']);
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_GUARD_CONFIG, checkFailures, decide, nextStep, type GuardConfig } from './rollout-guard.ts';
import { summarizeArm, type InstallCounts } from './install-aggregate.ts';
import { seededRandom } from './random.ts';

const cfg: GuardConfig = { ...DEFAULT_GUARD_CONFIG, minStepS: 3600 };
const DAY = 86_400;

/** k installs with n identifications each, corrected with probability p (seeded, so a failure replays). */
function arm(k: number, n: number, p: number, seed: number, over: Partial<InstallCounts> = {}): InstallCounts[] {
  const rand = seededRandom(seed);
  return Array.from({ length: k }, () => {
    let corrections = 0;
    for (let i = 0; i < n; i++) if (rand() < p) corrections++;
    return { identifications: n, corrections, abstains: 0, errors: 0, failures: 0, statusReports: 0, meanLatencyMs: 40 + rand() * 20, ...over };
  });
}
const S = (installs: InstallCounts[]) => summarizeArm(installs, cfg.installWeightCap);

describe('decide', () => {
  it('rolls back a clearly worse canary, naming the metric and the always-valid bound', () => {
    const d = decide(S(arm(300, 5, 0.2, 1)), S(arm(2000, 5, 0.08, 2)), { percent: 5, stepAgeS: 600 }, cfg);
    expect(d.action).toBe('rollback');
    expect(d.reason).toMatch(/correctionRate 2\d\.\d% vs [78]\.\d%/);
    expect(d.reason).toMatch(/always-valid/);
  });
  it('rolls back on abstain rate, error rate and p95 latency too', () => {
    const control = S(arm(1000, 5, 0.08, 3));
    expect(decide(S(arm(300, 5, 0.08, 4, { abstains: 3 })), control, { percent: 5, stepAgeS: 600 }, cfg).reason).toMatch(/abstainRate/);
    expect(decide(S(arm(300, 5, 0.08, 5, { errors: 2 })), control, { percent: 5, stepAgeS: 600 }, cfg).reason).toMatch(/errorRate/);
    expect(decide(S(arm(300, 5, 0.08, 6, { meanLatencyMs: 400 })), control, { percent: 5, stepAgeS: 600 }, cfg).reason).toMatch(/p95 latency/);
  });
  it('says "not yet" before the step is ROLLOUT_MIN_STEP_S old, however good the numbers', () => {
    const c = S(arm(800, 6, 0.08, 7));
    const k = S(arm(3000, 6, 0.08, 8));
    const early = decide(c, k, { percent: 5, stepAgeS: 1800 }, cfg);
    expect(early.action).toBe('wait');
    expect(early.reason).toMatch(/not yet: the step is 1800 s old/);
    expect(decide(c, k, { percent: 5, stepAgeS: DAY }, cfg)).toMatchObject({ action: 'step', to: 25 });
  });
  it('needs non-inferiority shown, not just the absence of a significant difference', () => {
    // 40 installs an arm, nothing significant either way, but far too little to show the canary is within 2 points.
    const d = decide(S(arm(40, 6, 0.08, 9)), S(arm(40, 6, 0.08, 10)), { percent: 5, stepAgeS: DAY }, cfg);
    expect(d.action).toBe('wait');
    expect(d.reason).toMatch(/non-inferiority not shown yet: correctionRate/);
  });
  it('promotes at the last step only against a holdback that is still there; never on silence', () => {
    const canary = S(arm(3000, 6, 0.08, 11));
    expect(decide(canary, S(arm(800, 6, 0.08, 12)), { percent: 100, stepAgeS: DAY }, cfg).action).toBe('promote');
    const alone = decide(canary, S([]), { percent: 100, stepAgeS: 30 * DAY }, cfg);
    expect(alone.action).toBe('wait');
    expect(alone.reason).toMatch(/no control installs reported since the step/);
  });
  it('decides nothing on too few installs, however many events they sent', () => {
    const flood = [{ identifications: 10_000, corrections: 800, abstains: 0, errors: 0, failures: 0 }];
    const d = decide(S([...flood, ...arm(10, 5, 0.08, 13)]), S(arm(2000, 5, 0.08, 14)), { percent: 5, stepAgeS: DAY }, cfg);
    expect(d.action).toBe('wait');
    expect(d.reason).toMatch(/11 canary and 2000 control installs/);
  });
  it('one flooding install with every identification corrected does not roll back an equal canary', () => {
    const flood = { identifications: 10_000, corrections: 10_000, abstains: 0, errors: 0, failures: 0 };
    const d = decide(S([flood, ...arm(100, 4, 0.08, 15)]), S(arm(1900, 4, 0.08, 16)), { percent: 5, stepAgeS: 600 }, cfg);
    expect(d.action).not.toBe('rollback');
    // Counting events (the old guard) would have: 10,032 corrections of 10,400 identifications.
  });
  it('does not roll back on noise: equal canaries over many looks stay under the false-rollback budget', () => {
    let rollbacks = 0;
    for (let trial = 0; trial < 100; trial++) {
      // 24 looks as a day's installs arrive.
      const c = arm(240, 4, 0.08, 1000 + trial);
      const k = arm(4800, 4, 0.08, 5000 + trial);
      for (let look = 1; look <= 24; look++) {
        const d = decide(S(c.slice(0, look * 10)), S(k.slice(0, look * 200)), { percent: 5, stepAgeS: look * 3600 }, cfg);
        if (d.action === 'rollback') {
          rollbacks++;
          break;
        }
      }
    }
    expect(rollbacks).toBeLessThanOrEqual(3);
  });
});

describe('device failures', () => {
  const failing = (k: number): InstallCounts[] => Array.from({ length: k }, () => ({ identifications: 0, corrections: 0, abstains: 0, errors: 0, failures: 1, statusReports: 1 }));
  it('rolls back at once when 3 canary installs fail to load and the control does not, before any minimum', () => {
    const d = decide(S(failing(3)), S(arm(60, 2, 0.08, 20)), { percent: 5, stepAgeS: 10 }, cfg);
    expect(d.action).toBe('rollback');
    expect(d.reason).toMatch(/3 of 3 canary installs reported failures, 0 of 60 control/);
  });
  it('two failing installs are not enough', () => {
    expect(decide(S(failing(2)), S(arm(60, 2, 0.08, 21)), { percent: 5, stepAgeS: 10 }, cfg).action).toBe('wait');
  });
  it('failures the control shares (old phones failing any model) do not roll back', () => {
    const control = [...arm(1900, 3, 0.08, 22), ...failing(19)];
    const canary = [...arm(100, 3, 0.08, 23), ...failing(3)];
    expect(checkFailures(S(canary), S(control), cfg).worse).toBe(false);
  });
  it('with hardly any control installs in the window, a canary failing on most of its installs is rolled back', () => {
    const d = decide(S(failing(3)), S(arm(3, 2, 0.08, 24)), { percent: 100, stepAgeS: 5 }, cfg);
    expect(d.action).toBe('rollback');
    expect(checkFailures(S([...failing(3), ...arm(5, 2, 0.08, 25)]), S(arm(3, 2, 0.08, 26)), cfg).worse).toBe(false);
  });
});

describe('helpers', () => {
  it('finds the next step of a plan', () => {
    expect(nextStep(5, [5, 25, 50, 100])).toBe(25);
    expect(nextStep(30, [5, 25, 50, 100])).toBe(50);
    expect(nextStep(100, [5, 25, 50, 100])).toBeNull();
  });
});

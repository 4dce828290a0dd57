import { describe, expect, it } from 'vitest';
import { addInstall, emptyArm, rateEstimate, summarizeArm, testVariance, type InstallCounts } from './install-aggregate.ts';

const inst = (identifications: number, corrections: number, over: Partial<InstallCounts> = {}): InstallCounts => ({ identifications, corrections, abstains: 0, errors: 0, failures: 0, ...over });

describe('per-install aggregation', () => {
  it("weighs each install's rate by its identifications capped at 10, not by its events", () => {
    const arm = summarizeArm([inst(10, 1), inst(10, 1), inst(10_000, 10_000)]);
    const e = rateEstimate(arm.rates.correctionRate)!;
    // Pooled counting would say 99.8%; per install: (0.1 + 0.1 + 1) / 3.
    expect(e.rate).toBeCloseTo(1.2 / 3, 10);
    expect(arm.identifications).toBe(10_020);
    expect(arm.installs).toBe(3);
  });
  it('gives a flood a large variance instead of a confident shift', () => {
    const base = Array.from({ length: 40 }, () => inst(5, 0));
    const calm = summarizeArm([...base, inst(5, 0)]);
    const flooded = summarizeArm([...base, inst(10_000, 10_000)]);
    expect(testVariance(flooded.rates.correctionRate, 0.01)).toBeGreaterThan(10 * testVariance(calm.rates.correctionRate, 0.01));
  });
  it('cluster-robust variance: equal to the per-install rates variance over k for equal weights', () => {
    const arm = summarizeArm([inst(4, 0), inst(4, 1), inst(4, 2), inst(4, 1)]);
    const rates = [0, 0.25, 0.5, 0.25];
    const mean = 0.25;
    const s2 = rates.reduce((a, r) => a + (r - mean) ** 2, 0) / 3;
    expect(rateEstimate(arm.rates.correctionRate)!.robustVariance).toBeCloseTo(s2 / 4, 12);
  });
  it('floors the variance at binomial noise when installs agree by chance', () => {
    const arm = summarizeArm(Array.from({ length: 30 }, () => inst(3, 0)));
    expect(rateEstimate(arm.rates.correctionRate)!.robustVariance).toBe(0);
    expect(testVariance(arm.rates.correctionRate, 0.08)).toBeGreaterThan(0);
  });
  it('adding and removing an install are inverse, so the simulation can update in place', () => {
    const arm = summarizeArm([inst(3, 1), inst(7, 2, { abstains: 1, errors: 1 })]);
    const before = JSON.stringify(arm);
    addInstall(arm, inst(12, 5, { failures: 1 }));
    addInstall(arm, inst(12, 5, { failures: 1 }), undefined, -1);
    const round = (o: unknown) => JSON.parse(JSON.stringify(o), (_k, v) => (typeof v === 'number' ? Math.round(v * 1e9) / 1e9 : v));
    expect(round(arm)).toEqual(round(JSON.parse(before)));
  });
  it('counts an install that only reported a failure or a load, and failing installs once', () => {
    const arm = summarizeArm([inst(0, 0, { failures: 2, statusReports: 2 }), inst(0, 0, { statusReports: 1 }), inst(0, 0)]);
    expect(arm.installs).toBe(2);
    expect(arm.failingInstalls).toBe(1);
    expect(arm.failures).toBe(2);
    expect(rateEstimate(emptyArm().rates.correctionRate)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { shadowGate, summarizeShadow, type ShadowInstallCounts } from './shadow-gate.ts';

const inst = (runs: number, failures: number, disagreements: number): ShadowInstallCounts => ({ runs, failures, disagreements, top5Overlap: (runs - failures) * 4 });

describe('shadow gate', () => {
  it('passes a candidate within the limits and blocks one that fails or disagrees too often', () => {
    const good = summarizeShadow(
      '1.1.0',
      Array.from({ length: 10 }, () => inst(10, 0, 1)),
    );
    expect(shadowGate(good)).toMatchObject({ ok: true, reason: expect.stringMatching(/within limits/) });
    const failing = summarizeShadow(
      '1.1.0',
      Array.from({ length: 10 }, () => inst(10, 1, 1)),
    );
    expect(shadowGate(failing)).toMatchObject({ ok: false, reason: expect.stringMatching(/shadow failure rate 10\.0% is above 2\.0%/) });
    const disagreeing = summarizeShadow(
      '1.1.0',
      Array.from({ length: 10 }, () => inst(10, 0, 5)),
    );
    expect(shadowGate(disagreeing)).toMatchObject({ ok: false, reason: expect.stringMatching(/top-1 disagreement 50\.0%/) });
  });
  it('judges nothing on too few runs or installs', () => {
    expect(shadowGate(null).ok).toBe(true);
    expect(shadowGate(summarizeShadow('1.1.0', [inst(500, 500, 0)]))).toMatchObject({ ok: true, reason: expect.stringMatching(/too few/) });
  });
  it('counts per install: a busy install weighs like 10 runs, not like its 10,000', () => {
    const fleet = Array.from({ length: 20 }, () => inst(5, 0, 1));
    const s = summarizeShadow('1.1.0', [...fleet, inst(10_000, 10_000, 0)]);
    expect(s.failures).toBe(10_000);
    expect(s.failureRate).toBeCloseTo(10 / (20 * 5 + 10), 10);
    expect(s.meanTop5Overlap).toBeCloseTo(4, 10);
  });
});

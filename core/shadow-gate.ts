/**
 * Shadow results feed the rollout: a candidate that devices ran in the shadow
 * of real identifications (never shown) and that failed too often, or
 * disagreed with the answering model too often, may not start a canary
 * unless an admin overrides the gate with a reason.
 *
 * Counted per install first, like the guard: each install's failure and
 * disagreement rates, weighted by its runs capped at 10, so one busy
 * install cannot pass or block a candidate alone. Too few runs decide
 * nothing (no shadow, or a short one, does not block a canary: the guard
 * watches the canary anyway).
 */
export interface ShadowInstallCounts {
  runs: number;
  failures: number;
  /** Runs (not failed) whose top-1 differed from the answering model's. */
  disagreements: number;
  /** Sum of top-5 overlaps (0..5 each) of the runs that did not fail. */
  top5Overlap: number;
}

export interface ShadowSummary {
  version: string;
  installs: number;
  runs: number;
  failures: number;
  /** Per-install weighted rates. */
  failureRate: number;
  disagreementRate: number;
  meanTop5Overlap: number;
}

export interface ShadowGateConfig {
  /** Shadow runs needed before the gate judges anything. */
  minRuns: number;
  minInstalls: number;
  maxFailureRate: number;
  maxDisagreementRate: number;
  weightCap: number;
}

export const DEFAULT_SHADOW_GATE: ShadowGateConfig = { minRuns: 50, minInstalls: 5, maxFailureRate: 0.02, maxDisagreementRate: 0.3, weightCap: 10 };

export function summarizeShadow(version: string, installs: Iterable<ShadowInstallCounts>, cap = DEFAULT_SHADOW_GATE.weightCap): ShadowSummary {
  let k = 0,
    runs = 0,
    failures = 0,
    sw = 0,
    swFail = 0,
    swOk = 0,
    swDis = 0,
    overlap = 0,
    okRuns = 0;
  for (const c of installs) {
    if (c.runs <= 0) continue;
    k++;
    runs += c.runs;
    failures += c.failures;
    const w = Math.min(c.runs, cap);
    sw += w;
    swFail += (w * c.failures) / c.runs;
    const ok = c.runs - c.failures;
    if (ok > 0) {
      const wOk = Math.min(ok, cap);
      swOk += wOk;
      swDis += (wOk * c.disagreements) / ok;
    }
    overlap += c.top5Overlap;
    okRuns += ok;
  }
  return {
    version,
    installs: k,
    runs,
    failures,
    failureRate: sw ? swFail / sw : 0,
    disagreementRate: swOk ? swDis / swOk : 0,
    meanTop5Overlap: okRuns ? overlap / okRuns : 0,
  };
}

export type ShadowVerdict = { ok: true; reason: string } | { ok: false; reason: string };

export function shadowGate(s: ShadowSummary | null, cfg: ShadowGateConfig = DEFAULT_SHADOW_GATE): ShadowVerdict {
  if (!s || s.runs < cfg.minRuns || s.installs < cfg.minInstalls) {
    return { ok: true, reason: `too few shadow results to judge (${s?.runs ?? 0} runs on ${s?.installs ?? 0} installs; ${cfg.minRuns} runs on ${cfg.minInstalls} installs needed)` };
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const past: string[] = [];
  if (s.failureRate > cfg.maxFailureRate) past.push(`shadow failure rate ${pct(s.failureRate)} is above ${pct(cfg.maxFailureRate)}`);
  if (s.disagreementRate > cfg.maxDisagreementRate) past.push(`top-1 disagreement ${pct(s.disagreementRate)} is above ${pct(cfg.maxDisagreementRate)}`);
  const seen = `${s.runs} runs on ${s.installs} installs`;
  return past.length
    ? { ok: false, reason: `${past.join('; ')} (${seen})` }
    : { ok: true, reason: `shadow results within limits (${seen}: failures ${pct(s.failureRate)}, disagreement ${pct(s.disagreementRate)})` };
}

/**
 * The rollout guard's decision, kept pure so it can be tested with synthetic
 * numbers: given what the canary and its control reported since the last
 * step, roll back, step up, promote, or wait.
 *
 * Rates (corrections, abstains, errors) are compared with a one-sided
 * two-proportion z-test: the canary is "worse" only when its rate exceeds
 * the control's by more than the configured margin with z above zCritical.
 * Nothing is decided before both arms have minEvents identifications.
 * p95 latency is compared as a ratio (no test; with minEvents it is stable).
 */
import { quantile } from './stats.ts';

export interface ArmStats {
  /** Identification events reported with this version. */
  identifications: number;
  /** Corrections with verdict "corrected" of those identifications. */
  corrections: number;
  /** Identifications that abstained ("not one of our species"). */
  abstains: number;
  /** Identifications that failed on the device (reported as an error count). */
  errors: number;
  /** totalMs of the identifications (a sample is enough). */
  latenciesMs: number[];
}

export interface GuardConfig {
  /** Identifications each arm needs before anything is decided. */
  minEvents: number;
  /** One-sided critical value (2.326 = 1% false alarms per metric). */
  zCritical: number;
  /** How much worse (absolute rate) the canary may be before it counts. */
  margins: { correctionRate: number; abstainRate: number; errorRate: number };
  /** Canary p95 above control p95 times this (plus latencySlackMs) rolls back. */
  p95LatencyRatio: number;
  latencySlackMs: number;
  /** Percentages the canary climbs through; after the last it is promoted. */
  plan: number[];
}

export const DEFAULT_GUARD_CONFIG: GuardConfig = {
  minEvents: 200,
  zCritical: 2.326,
  margins: { correctionRate: 0.02, abstainRate: 0.05, errorRate: 0.01 },
  p95LatencyRatio: 1.5,
  latencySlackMs: 50,
  plan: [5, 25, 50, 100],
};

export type GuardDecision =
  | { action: 'rollback'; reason: string; checks: MetricCheck[] }
  | { action: 'step'; to: number; reason: string; checks: MetricCheck[] }
  | { action: 'promote'; reason: string; checks: MetricCheck[] }
  | { action: 'wait'; reason: string; checks: MetricCheck[] };

export interface MetricCheck {
  metric: 'correctionRate' | 'abstainRate' | 'errorRate' | 'p95LatencyMs';
  canary: number;
  control: number;
  /** z statistic for rates; ratio for latency. */
  statistic: number;
  worse: boolean;
}

/**
 * One-sided two-proportion z statistic for "canary rate exceeds control rate
 * by more than margin" (pooled standard error). 0 when either arm is empty
 * or the rates have no variance.
 */
export function twoProportionZ(x1: number, n1: number, x2: number, n2: number, margin = 0): number {
  if (n1 <= 0 || n2 <= 0) return 0;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return p1 - p2 > margin ? Infinity : 0;
  return (p1 - p2 - margin) / se;
}

export function nextStep(percent: number, plan: readonly number[]): number | null {
  const next = [...plan].sort((a, b) => a - b).find((p) => p > percent);
  return next ?? null;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function compareArms(canary: ArmStats, control: ArmStats, cfg: GuardConfig = DEFAULT_GUARD_CONFIG): MetricCheck[] {
  const checks: MetricCheck[] = [];
  const rate = (metric: 'correctionRate' | 'abstainRate' | 'errorRate', xc: number, nc: number, xk: number, nk: number) => {
    const z = twoProportionZ(xc, nc, xk, nk, cfg.margins[metric]);
    checks.push({ metric, canary: nc ? xc / nc : 0, control: nk ? xk / nk : 0, statistic: z, worse: z > cfg.zCritical });
  };
  rate('correctionRate', canary.corrections, canary.identifications, control.corrections, control.identifications);
  rate('abstainRate', canary.abstains, canary.identifications, control.abstains, control.identifications);
  // Errors are failed attempts: the denominator is every attempt, good or failed.
  rate('errorRate', canary.errors, canary.identifications + canary.errors, control.errors, control.identifications + control.errors);
  if (canary.latenciesMs.length >= cfg.minEvents && control.latenciesMs.length >= cfg.minEvents) {
    const c = quantile(canary.latenciesMs, 0.95);
    const k = quantile(control.latenciesMs, 0.95);
    const ratio = k > 0 ? c / k : 1;
    checks.push({ metric: 'p95LatencyMs', canary: c, control: k, statistic: ratio, worse: c > k * cfg.p95LatencyRatio + cfg.latencySlackMs });
  }
  return checks;
}

/** What to do with a running canary at `percent`, given each arm's numbers since the last step. */
export function decide(canary: ArmStats, control: ArmStats, percent: number, cfg: GuardConfig = DEFAULT_GUARD_CONFIG): GuardDecision {
  const checks = compareArms(canary, control, cfg);
  const worse = checks.filter((c) => c.worse);
  // A clear failure is acted on as soon as it is significant, even on few events
  // (the z-test already accounts for the sample size), but never on a handful.
  const enoughToRollBack = canary.identifications + canary.errors >= Math.min(cfg.minEvents, 30) && control.identifications + control.errors >= Math.min(cfg.minEvents, 30);
  if (worse.length && enoughToRollBack) {
    const reason = worse.map((c) => c.metric === 'p95LatencyMs'
      ? `p95 latency ${c.canary.toFixed(0)} ms vs ${c.control.toFixed(0)} ms (x${c.statistic.toFixed(2)})`
      : `${c.metric} ${pct(c.canary)} vs ${pct(c.control)} (z=${c.statistic.toFixed(2)})`).join('; ');
    return { action: 'rollback', reason: `canary worse than control: ${reason}`, checks };
  }
  if (canary.identifications < cfg.minEvents || control.identifications < cfg.minEvents) {
    // A 100% canary has no control traffic; judge it on its own count.
    if (!(percent >= 100 && canary.identifications >= cfg.minEvents)) {
      return { action: 'wait', reason: `not enough events yet (canary ${canary.identifications}, control ${control.identifications}; need ${cfg.minEvents} each)`, checks };
    }
  }
  const to = nextStep(percent, cfg.plan);
  const summary = checks.map((c) => c.metric === 'p95LatencyMs' ? `p95 ${c.canary.toFixed(0)}/${c.control.toFixed(0)} ms` : `${c.metric} ${pct(c.canary)}/${pct(c.control)}`).join(', ');
  if (to === null) return { action: 'promote', reason: `canary held up at ${percent}% (${summary})`, checks };
  return { action: 'step', to, reason: `canary held up at ${percent}% (${summary}); stepping to ${to}%`, checks };
}

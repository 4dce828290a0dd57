/**
 * The rollout guard's decision, kept pure so the server, the tests and the
 * rollout simulation (core/rollout-sim.ts) all run the same code: given what
 * the canary and its control reported over the same window (since the last
 * step), roll back, step up, promote, or say "not yet".
 *
 * - Per install first (core/install-aggregate.ts): one install's flood
 *   weighs like one install.
 * - Device failures: when at least `minFailingInstalls` canary installs
 *   report a model that would not load, start or run, and that is unlikely
 *   to be chance given how often control installs fail (an exact binomial
 *   test on failing installs; with fewer than `minInstalls` control installs
 *   in the window, read literally: no control install failed and at least
 *   half the canary's did), roll back at once: no minimum time, no minimum
 *   traffic.
 * - Rates (corrections, abstains, errors): an always-valid confidence
 *   sequence for canary minus control (mSPRT, core/msprt.ts), so looking
 *   every few minutes for days keeps the stated error rates. The false-
 *   rollback budget `alpha` is split evenly over the rate metrics and the
 *   plan's steps (each step is a fresh window, so a fresh test). Rolled back
 *   when the lower bound passes `worseMargins`.
 * - Stepping up or promoting needs all of: the step is `minStepS` old, each
 *   arm has `minInstalls` installs and `minEvents` identifications, and
 *   non-inferiority is shown on every rate (upper bound below
 *   `nonInferiorityMargins`). Without a control there is nothing to show it
 *   against, so a canary that holds every device is never promoted by the
 *   guard: the plan's last step keeps a holdback (core/rollout.ts).
 * - p95 latency of the installs' mean latencies, canary over control.
 */
import { quantile } from './stats.ts';
import { msprtHalfWidth, binomialTailAtLeast } from './msprt.ts';
import { DEFAULT_INSTALL_WEIGHT_CAP, RATE_METRICS, rateEstimate, testVariance, type ArmSummary, type RateMetric } from './install-aggregate.ts';

export type { ArmSummary } from './install-aggregate.ts';

export interface GuardConfig {
  /** Installs each arm needs before a rate can roll back, step or promote. */
  minInstalls: number;
  /** Identifications each arm needs before stepping or promoting. */
  minEvents: number;
  /** Seconds a step must last before the next one (ROLLOUT_MIN_STEP_S). */
  minStepS: number;
  /** Chance, for an equal canary, of being rolled back on rates over the whole plan. */
  alpha: number;
  /** Chance of showing non-inferiority at a step when the canary is in truth worse by the margin. */
  nonInferiorityAlpha: number;
  /** The mSPRT's mixing sd: the size of difference it detects fastest. */
  mixtureSd: number;
  /** Rolled back when the canary is shown worse by more than this (absolute rate). */
  worseMargins: Record<RateMetric, number>;
  /** Steps and promotion need the canary shown worse by less than this. */
  nonInferiorityMargins: Record<RateMetric, number>;
  /** Installs reporting failures before a failure rollback. */
  minFailingInstalls: number;
  /** One-sided level of the failing-installs test. */
  failureAlpha: number;
  /** Canary p95 above control p95 times this (plus latencySlackMs) rolls back. */
  p95LatencyRatio: number;
  latencySlackMs: number;
  /** An install's weight is its identifications, capped here. */
  installWeightCap: number;
  /** Percentages the canary climbs through; after the last it is promoted. */
  plan: number[];
}

export const DEFAULT_GUARD_CONFIG: GuardConfig = {
  minInstalls: 30,
  minEvents: 200,
  minStepS: 86_400,
  alpha: 0.05,
  nonInferiorityAlpha: 0.05,
  mixtureSd: 0.02,
  worseMargins: { correctionRate: 0, abstainRate: 0.01, errorRate: 0.005 },
  nonInferiorityMargins: { correctionRate: 0.02, abstainRate: 0.03, errorRate: 0.01 },
  minFailingInstalls: 3,
  failureAlpha: 0.001,
  p95LatencyRatio: 1.5,
  latencySlackMs: 50,
  installWeightCap: DEFAULT_INSTALL_WEIGHT_CAP,
  plan: [5, 25, 50, 100],
};

export interface StepContext {
  /** The plan step the canary is at. */
  percent: number;
  /** Seconds since the step began (the window's start). */
  stepAgeS: number;
}

export interface RateCheck {
  metric: RateMetric;
  canary: number;
  control: number;
  /** Always-valid bounds on canary minus control for rolling back (alpha split) and for non-inferiority. */
  lower: number;
  upper: number;
  worse: boolean;
  nonInferior: boolean;
}

export interface LatencyCheck {
  metric: 'p95LatencyMs';
  canary: number;
  control: number;
  ratio: number;
  worse: boolean;
}

export interface FailureCheck {
  canaryFailingInstalls: number;
  canaryInstalls: number;
  controlFailingInstalls: number;
  controlInstalls: number;
  /** P(at least this many of the failing installs in the canary) if failing did not depend on the version. */
  pValue: number;
  worse: boolean;
}

export interface GuardChecks {
  rates: RateCheck[];
  latency: LatencyCheck | null;
  failures: FailureCheck;
}

export type GuardDecision =
  | { action: 'rollback'; reason: string; checks: GuardChecks }
  | { action: 'step'; to: number; reason: string; checks: GuardChecks }
  | { action: 'promote'; reason: string; checks: GuardChecks }
  | { action: 'wait'; reason: string; checks: GuardChecks };

export function nextStep(percent: number, plan: readonly number[]): number | null {
  return [...plan].sort((a, b) => a - b).find((p) => p > percent) ?? null;
}

const pts = (x: number) => `${(x * 100).toFixed(1)}`;
const pct = (x: number) => `${pts(x)}%`;

/** Failing installs: are more of them in the canary than its share of reporting installs explains? */
export function checkFailures(canary: ArmSummary, control: ArmSummary, cfg: GuardConfig): FailureCheck {
  const fc = canary.failingInstalls;
  const fk = control.failingInstalls;
  const total = canary.installs + control.installs;
  const share = total > 0 ? canary.installs / total : 1;
  const pValue = binomialTailAtLeast(fc, fc + fk, share);
  // With few control installs in the window the test cannot reach its level; then "the control does not
  // fail" is read literally: no control install failed and most canary installs did.
  const controlSeen = control.installs >= cfg.minInstalls;
  const significant = controlSeen ? pValue <= cfg.failureAlpha : fk === 0 && fc * 2 >= canary.installs;
  return {
    canaryFailingInstalls: fc,
    canaryInstalls: canary.installs,
    controlFailingInstalls: fk,
    controlInstalls: control.installs,
    pValue,
    worse: fc >= cfg.minFailingInstalls && significant,
  };
}

export function checkRates(canary: ArmSummary, control: ArmSummary, cfg: GuardConfig): RateCheck[] {
  const steps = Math.max(1, cfg.plan.length);
  const alphaLook = cfg.alpha / (RATE_METRICS.length * steps);
  const out: RateCheck[] = [];
  for (const metric of RATE_METRICS) {
    const c = canary.rates[metric];
    const k = control.rates[metric];
    const ec = rateEstimate(c);
    const ek = rateEstimate(k);
    if (!ec || !ek) {
      out.push({ metric, canary: ec?.rate ?? NaN, control: ek?.rate ?? NaN, lower: -Infinity, upper: Infinity, worse: false, nonInferior: false });
      continue;
    }
    // Pooled over installs as the rates are (each install weighted), not over raw events: a flood must not widen the test.
    const pooled = (c.swr + k.swr) / Math.max(1e-12, c.sw + k.sw);
    const v = testVariance(c, pooled) + testVariance(k, pooled);
    const d = ec.rate - ek.rate;
    const hWorse = msprtHalfWidth(v, cfg.mixtureSd, alphaLook);
    const hNi = msprtHalfWidth(v, cfg.mixtureSd, cfg.nonInferiorityAlpha);
    out.push({
      metric,
      canary: ec.rate,
      control: ek.rate,
      lower: d - hWorse,
      upper: d + hNi,
      worse: d - hWorse > cfg.worseMargins[metric],
      nonInferior: d + hNi < cfg.nonInferiorityMargins[metric],
    });
  }
  return out;
}

export function checkLatency(canary: ArmSummary, control: ArmSummary, cfg: GuardConfig): LatencyCheck | null {
  if (canary.installLatenciesMs.length < cfg.minInstalls || control.installLatenciesMs.length < cfg.minInstalls) return null;
  const c = quantile(canary.installLatenciesMs, 0.95);
  const k = quantile(control.installLatenciesMs, 0.95);
  return { metric: 'p95LatencyMs', canary: c, control: k, ratio: k > 0 ? c / k : 1, worse: c > k * cfg.p95LatencyRatio + cfg.latencySlackMs };
}

/** What to do with a running canary, given both arms over the same window (since the step began). */
export function decide(canary: ArmSummary, control: ArmSummary, step: StepContext, cfg: GuardConfig = DEFAULT_GUARD_CONFIG): GuardDecision {
  const failures = checkFailures(canary, control, cfg);
  const rates = checkRates(canary, control, cfg);
  const latency = checkLatency(canary, control, cfg);
  const checks: GuardChecks = { rates, latency, failures };

  if (failures.worse) {
    return {
      action: 'rollback',
      checks,
      reason: `canary fails on devices: ${failures.canaryFailingInstalls} of ${failures.canaryInstalls} canary installs reported failures, ${failures.controlFailingInstalls} of ${failures.controlInstalls} control installs (p=${failures.pValue.toExponential(1)})`,
    };
  }
  const enoughInstalls = canary.installs >= cfg.minInstalls && control.installs >= cfg.minInstalls;
  const worse = enoughInstalls ? rates.filter((r) => r.worse) : [];
  if (worse.length || latency?.worse) {
    const parts = worse.map((r) => `${r.metric} ${pct(r.canary)} vs ${pct(r.control)} (difference at least ${pts(r.lower)} points, always-valid bound)`);
    if (latency?.worse) parts.push(`p95 latency ${latency.canary.toFixed(0)} ms vs ${latency.control.toFixed(0)} ms (x${latency.ratio.toFixed(2)})`);
    return { action: 'rollback', reason: `canary worse than control: ${parts.join('; ')}`, checks };
  }

  const notYet = (why: string): GuardDecision => ({ action: 'wait', reason: `not yet: ${why}`, checks });
  if (control.installs === 0 && step.percent >= 100)
    return notYet('no control installs reported since the step (at the last step only the holdback runs the control; with no holdback there is nothing to compare with: promote by hand)');
  if (!enoughInstalls) return notYet(`${canary.installs} canary and ${control.installs} control installs reported since the step; need ${cfg.minInstalls} each`);
  if (canary.identifications < cfg.minEvents || control.identifications < cfg.minEvents) {
    return notYet(`${canary.identifications} canary and ${control.identifications} control identifications since the step; need ${cfg.minEvents} each`);
  }
  if (step.stepAgeS < cfg.minStepS) return notYet(`the step is ${Math.floor(step.stepAgeS)} s old; each step lasts at least ${cfg.minStepS} s`);
  const unshown = rates.filter((r) => !r.nonInferior);
  if (unshown.length) {
    return notYet(
      `non-inferiority not shown yet: ${unshown.map((r) => `${r.metric} canary - control at most ${Number.isFinite(r.upper) ? pts(r.upper) : '?'} points, margin ${pts(cfg.nonInferiorityMargins[r.metric])}`).join('; ')}`,
    );
  }
  const summary = rates.map((r) => `${r.metric} ${pct(r.canary)}/${pct(r.control)} (at most +${pts(r.upper)} points)`).join(', ');
  const to = nextStep(step.percent, cfg.plan);
  if (to === null) return { action: 'promote', reason: `non-inferior at ${step.percent}% against the holdback (${summary})`, checks };
  return { action: 'step', to, reason: `non-inferior at ${step.percent}% (${summary}); stepping to ${to}%`, checks };
}

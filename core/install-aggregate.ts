/**
 * One rollout arm's numbers, aggregated per install first.
 *
 * Events of one install are not independent: one phone that sends 10,000
 * identifications (a bot, a stuck retry loop, a very keen user) is one
 * phone. So each install contributes its own rate (corrections of its
 * identifications, and so on), weighted by its identification count capped
 * at `cap` (default 10): a heavy user counts a little more than someone who
 * tried the app once, but a flood weighs like one ordinary heavy install.
 * The variance of the weighted mean is the cluster-robust (sandwich)
 * estimate over installs, so an install that disagrees with the rest also
 * widens the interval instead of moving the mean unchallenged.
 *
 * The sums are kept so that an install can be added or removed in O(1): the
 * server builds an arm from one row per install, the simulation updates the
 * same accumulator as installs report, and both call the same decision.
 */

export const RATE_METRICS = ['correctionRate', 'abstainRate', 'errorRate'] as const;
export type RateMetric = (typeof RATE_METRICS)[number];

/** What one install reported about one model version within the window. */
export interface InstallCounts {
  identifications: number;
  /** Corrections with verdict "corrected" of those identifications. */
  corrections: number;
  abstains: number;
  /** Identifications that failed on the device (the `errors` count identification events carry). */
  errors: number;
  /** model_status reports of any outcome (a device that only says "loaded" still counts as an install). */
  statusReports?: number;
  /** model_status reports with a failing outcome (refused, failed to start, run failures). */
  failures: number;
  /** Mean totalMs of its identifications, when it had any. */
  meanLatencyMs?: number | null;
}

/** Weighted sums over installs for one rate: enough for the mean and its cluster-robust variance. */
export interface RateSums {
  /** Installs with at least one trial for this rate. */
  installs: number;
  /** Raw trials and hits (for display only; the test never pools them). */
  trials: number;
  hits: number;
  sw: number;
  swr: number;
  sw2: number;
  sw2r: number;
  sw2r2: number;
  /** Sum of w^2 / n: the binomial variance floor's weight. */
  sw2n: number;
}

export interface ArmSummary {
  /** Installs that reported anything about this version in the window. */
  installs: number;
  identifications: number;
  corrections: number;
  abstains: number;
  errors: number;
  failures: number;
  /** Installs with at least one failing model_status report. */
  failingInstalls: number;
  rates: Record<RateMetric, RateSums>;
  /** One mean latency per install (so a flood does not set the p95). */
  installLatenciesMs: number[];
}

export const DEFAULT_INSTALL_WEIGHT_CAP = 10;

const emptySums = (): RateSums => ({ installs: 0, trials: 0, hits: 0, sw: 0, swr: 0, sw2: 0, sw2r: 0, sw2r2: 0, sw2n: 0 });

export function emptyArm(): ArmSummary {
  return {
    installs: 0,
    identifications: 0,
    corrections: 0,
    abstains: 0,
    errors: 0,
    failures: 0,
    failingInstalls: 0,
    rates: { correctionRate: emptySums(), abstainRate: emptySums(), errorRate: emptySums() },
    installLatenciesMs: [],
  };
}

function addRate(s: RateSums, hits: number, trials: number, cap: number, sign: 1 | -1) {
  if (trials <= 0) return;
  const r = Math.min(1, hits / trials);
  const w = Math.min(trials, cap);
  s.installs += sign;
  s.trials += sign * trials;
  s.hits += sign * hits;
  s.sw += sign * w;
  s.swr += sign * w * r;
  s.sw2 += sign * w * w;
  s.sw2r += sign * w * w * r;
  s.sw2r2 += sign * w * w * r * r;
  s.sw2n += (sign * w * w) / trials;
}

/**
 * Adds one install's counts to the arm (sign -1 takes them out again, which
 * is how the simulation replaces an install's counts as it reports more).
 * Latencies are only added, never removed: the simulation does not model them.
 */
export function addInstall(arm: ArmSummary, c: InstallCounts, cap = DEFAULT_INSTALL_WEIGHT_CAP, sign: 1 | -1 = 1): ArmSummary {
  const any = c.identifications + c.errors + c.failures + (c.statusReports ?? 0) > 0;
  if (!any) return arm;
  arm.installs += sign;
  arm.identifications += sign * c.identifications;
  arm.corrections += sign * c.corrections;
  arm.abstains += sign * c.abstains;
  arm.errors += sign * c.errors;
  arm.failures += sign * c.failures;
  if (c.failures > 0) arm.failingInstalls += sign;
  addRate(arm.rates.correctionRate, c.corrections, c.identifications, cap, sign);
  addRate(arm.rates.abstainRate, c.abstains, c.identifications, cap, sign);
  // A failed attempt is an attempt: the error rate's trials are good and failed ones together.
  addRate(arm.rates.errorRate, c.errors, c.identifications + c.errors, cap, sign);
  if (sign === 1 && typeof c.meanLatencyMs === 'number' && Number.isFinite(c.meanLatencyMs)) arm.installLatenciesMs.push(c.meanLatencyMs);
  return arm;
}

export function summarizeArm(installs: Iterable<InstallCounts>, cap = DEFAULT_INSTALL_WEIGHT_CAP): ArmSummary {
  const arm = emptyArm();
  for (const c of installs) addInstall(arm, c, cap);
  return arm;
}

export interface RateEstimate {
  /** Weighted mean of the installs' rates. */
  rate: number;
  /** Cluster-robust variance of that mean (Infinity with fewer than 2 installs). */
  robustVariance: number;
  installs: number;
}

export function rateEstimate(s: RateSums): RateEstimate | null {
  if (s.installs <= 0 || s.sw <= 0) return null;
  const rate = s.swr / s.sw;
  const k = s.installs;
  if (k < 2) return { rate, robustVariance: Infinity, installs: k };
  // sum w^2 (r - mean)^2, expanded so it can be kept as running sums; rounding can make it a hair negative.
  const ss = Math.max(0, s.sw2r2 - 2 * rate * s.sw2r + rate * rate * s.sw2);
  return { rate, robustVariance: (ss / (s.sw * s.sw)) * (k / (k - 1)), installs: k };
}

/**
 * The variance used for testing: the cluster-robust one, but never below what
 * binomial noise alone would give at the pooled rate `p` (with few installs,
 * or all at 0, the sandwich estimate can be 0 by chance).
 */
export function testVariance(s: RateSums, p: number): number {
  const e = rateEstimate(s);
  if (!e) return Infinity;
  const floor = (p * (1 - p) * s.sw2n) / (s.sw * s.sw);
  return Math.max(e.robustVariance, floor);
}

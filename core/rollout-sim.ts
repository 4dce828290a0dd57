/**
 * Rollouts simulated install by install, through the guard's real decision
 * (core/rollout-guard.ts decide, on arms built by core/install-aggregate.ts,
 * devices split by sticky buckets and the holdback of core/rollout.ts). Pure and
 * seeded: the same options give the same numbers. `npm run simulate --
 * rollout` (scripts/rollout-sim.ts) runs it and prints one JSON line.
 *
 * The fleet, made to be hard rather than easy:
 * - a pool of installs of which about `activePerDay` use the app on a
 *   given day (each install has its own chance of being active);
 * - identifications per active install and day are heavy-tailed: each
 *   install has a usual count, lognormal with median 3 (sigma 1.4, so a few
 *   installs a day pass 200), and a day's count is Poisson around it;
 * - each install has its own correction rate (Beta around 8%, sd 4 points)
 *   and abstain rate (Beta around 12%);
 * - an active install sends its day's events in one batch at one hour of
 *   the day (the outbox sends when the app is open); the guard looks every
 *   hour;
 * - devices pick the canary or the control by their sticky bucket at the
 *   time they report, so raising a step moves only new devices in;
 * - corrections past the server's per-install daily cap (50) count for
 *   nothing, as in the store.
 *
 * Scenarios: an equal canary; a canary 3 points worse on corrections for
 * every install; a broken canary (every device fails to start it, says so
 * with a model_status report and keeps running the control); an equal
 * canary with one install in it flooding 10,000 identifications a day, every
 * one of them corrected.
 */
import { addInstall, emptyArm, type ArmSummary, type InstallCounts } from './install-aggregate.ts';
import { DEFAULT_GUARD_CONFIG, decide, type GuardConfig } from './rollout-guard.ts';
import { BUCKETS, DEFAULT_HOLDBACK_PERCENT, canaryShare } from './rollout.ts';
import { seededRandom } from './random.ts';

export type SimScenario = 'equal' | 'worse' | 'broken' | 'flood';

export interface FleetOptions {
  /** Installs in the pool; each is active on a day with its own probability. */
  pool: number;
  /** Installs active on an average day. */
  activePerDay: number;
  /** Median of installs' usual identifications per active day. */
  medianPerDay: number;
  /** Sigma of the lognormal those usual counts follow. */
  perDaySigma: number;
  baseCorrectionRate: number;
  /** Between-install sd of the correction rate. */
  correctionRateSd: number;
  baseAbstainRate: number;
  abstainRateSd: number;
  /** How much worse the "worse" canary's correction rate is (absolute). */
  worseBy: number;
  /** The flooding install's identifications a day (all corrected). */
  floodPerDay: number;
  /**
   * Corrections per install and day that count (the server's per-install cap,
   * CORRECTIONS_PER_INSTALL_DAY): past it they are stored but weigh nothing.
   */
  dailyCorrectionCap: number;
  ticksPerDay: number;
  /** A rollout still running after this many days counts as undecided. */
  maxDays: number;
  holdback: number;
}

export const DEFAULT_FLEET: FleetOptions = {
  pool: 6000,
  activePerDay: 2000,
  medianPerDay: 3,
  perDaySigma: 1.4,
  baseCorrectionRate: 0.08,
  correctionRateSd: 0.04,
  baseAbstainRate: 0.12,
  abstainRateSd: 0.05,
  worseBy: 0.03,
  floodPerDay: 10_000,
  dailyCorrectionCap: 50,
  ticksPerDay: 24,
  maxDays: 60,
  holdback: DEFAULT_HOLDBACK_PERCENT,
};

export interface RolloutRun {
  outcome: 'promoted' | 'rolled_back' | 'undecided';
  /** The plan step when it ended (or at maxDays). */
  step: number;
  /** Ticks (hours) from the start to the end. */
  ticks: number;
  /** Highest step reached. */
  maxStep: number;
  reason: string;
  /** broken: the tick at which the third failing canary install had reported, and the rollback's. */
  thirdFailureTick?: number;
  /** flood: the flooder's identifications that reached the guard. */
  floodIdentifications?: number;
  /** flood: would the old guard's pooled count (z > 2.326 beyond 2 points, every look) have rolled this canary back? */
  pooledWouldRollBack?: boolean;
}

// --- random draws --------------------------------------------------------------------------

function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() || 1e-300)) * Math.cos(2 * Math.PI * rand());
}

function poisson(rand: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 50) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(rand)));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k++;
    p *= rand();
  }
  return k;
}

function binomial(rand: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (n > 60) {
    const mean = n * p;
    return Math.min(n, Math.max(0, Math.round(mean + Math.sqrt(mean * (1 - p)) * normal(rand))));
  }
  let x = 0;
  for (let i = 0; i < n; i++) if (rand() < p) x++;
  return x;
}

/** A Gamma(shape, 1) draw (Marsaglia-Tsang). */
function gamma(rand: () => number, shape: number): number {
  if (shape < 1) return gamma(rand, shape + 1) * rand() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(rand);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    if (Math.log(rand() || 1e-300) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** A Beta draw with this mean and sd (method of moments). */
function betaMeanSd(rand: () => number, mean: number, sd: number): number {
  const common = (mean * (1 - mean)) / (sd * sd) - 1;
  const g1 = gamma(rand, mean * common);
  return g1 / (g1 + gamma(rand, (1 - mean) * common));
}

// --- one rollout ----------------------------------------------------------------------------

interface Install {
  /**
   * Its sticky bucket for this rollout: uniform over 0..BUCKETS-1 as the
   * murmur3 hash of a random install id is (core/rollout.test.ts checks
   * that), drawn directly because hashing 6,000 ids per rollout was a
   * third of the run time.
   */
  bucket: number;
  activity: number;
  usual: number;
  correction: number;
  abstain: number;
  /** broken scenario: refused the canary already (keeps running the control). */
  refused: boolean;
  flooder: boolean;
}

/** One arm's window: per-install counts and the running summary built from them. */
class ArmWindow {
  summary: ArmSummary = emptyArm();
  // By install index: a plain array, since a Map's churn dominated the run time.
  private readonly counts: Array<InstallCounts | undefined>;
  constructor(
    private readonly cap: number,
    pool: number,
  ) {
    this.counts = new Array<InstallCounts | undefined>(pool);
  }
  update(index: number, n: number, corrections: number, abstains: number, failures: number) {
    let c = this.counts[index];
    if (c) addInstall(this.summary, c, this.cap, -1);
    else this.counts[index] = c = { identifications: 0, corrections: 0, abstains: 0, errors: 0, failures: 0, statusReports: 0 };
    c.identifications += n;
    c.corrections += corrections;
    c.abstains += abstains;
    c.failures += failures;
    c.statusReports! += failures;
    addInstall(this.summary, c, this.cap, 1);
  }
}

export function simulateRollout(scenario: SimScenario, seed: number, fleet: FleetOptions = DEFAULT_FLEET, cfg: GuardConfig = DEFAULT_GUARD_CONFIG): RolloutRun {
  const rand = seededRandom(seed);
  const meanActivity = fleet.activePerDay / fleet.pool;
  const installs: Install[] = Array.from({ length: fleet.pool }, () => {
    return {
      bucket: Math.floor(rand() * BUCKETS),
      // Beta(1, 1/mean - 1): mean as asked, some installs daily, many rarely.
      activity: Math.min(1, betaMeanSd(rand, meanActivity, Math.sqrt((meanActivity * (1 - meanActivity)) / (1 / meanActivity)))),
      usual: fleet.medianPerDay * Math.exp(fleet.perDaySigma * normal(rand)),
      correction: betaMeanSd(rand, fleet.baseCorrectionRate, fleet.correctionRateSd),
      abstain: betaMeanSd(rand, fleet.baseAbstainRate, fleet.abstainRateSd),
      refused: false,
      flooder: false,
    };
  });
  if (scenario === 'flood') {
    // The flooder sits in the canary's first 5% (its bucket is the lowest), active every day.
    const f = installs.reduce((lo, x) => (x.bucket < lo.bucket ? x : lo), installs[0]);
    Object.assign(f, { flooder: true, activity: 1 });
  }
  const plan = [...cfg.plan].sort((a, b) => a - b);
  let step = plan[0];
  let maxStep = step;
  let stepStartTick = 0;
  let canary = new ArmWindow(cfg.installWeightCap, fleet.pool);
  let control = new ArmWindow(cfg.installWeightCap, fleet.pool);
  const failing = new Set<number>();
  let thirdFailureTick: number | undefined;
  let floodIdentifications = 0;
  let pooledWouldRollBack: boolean | undefined;
  let lastReason = '';
  // Every event, uncapped and pooled: what the old guard counted (for the flood's contrast only).
  let rawCanary = { n: 0, x: 0 };
  let rawControl = { n: 0, x: 0 };
  const inCanary = (x: Install) => x.bucket < Math.round(canaryShare(step, fleet.holdback) * (BUCKETS / 100));

  for (let day = 0; day < fleet.maxDays; day++) {
    // Who is active today, and at which hour they report.
    const byTick: number[][] = Array.from({ length: fleet.ticksPerDay }, () => []);
    for (let i = 0; i < installs.length; i++) {
      if (installs[i].flooder || rand() < installs[i].activity) byTick[Math.floor(rand() * fleet.ticksPerDay)].push(i);
    }
    for (let t = 0; t < fleet.ticksPerDay; t++) {
      const tick = day * fleet.ticksPerDay + t;
      for (const i of byTick[t]) {
        const x = installs[i];
        let onCanary = inCanary(x);
        if (onCanary && scenario === 'broken') {
          if (!x.refused) {
            // It downloads the canary, fails to start it, reports that, and keeps the control.
            x.refused = true;
            canary.update(i, 0, 0, 0, 1);
            failing.add(i);
            if (failing.size === 3) thirdFailureTick = tick;
          }
          onCanary = false;
        }
        const n = x.flooder ? fleet.floodPerDay : Math.max(1, poisson(rand, x.usual));
        const p = x.flooder ? 1 : Math.min(1, x.correction + (onCanary && scenario === 'worse' ? fleet.worseBy : 0));
        const corrections = binomial(rand, n, p);
        const abstains = binomial(rand, n, x.abstain);
        if (x.flooder && onCanary) floodIdentifications += n;
        (onCanary ? canary : control).update(i, n, Math.min(corrections, fleet.dailyCorrectionCap), abstains, 0);
        const raw = onCanary ? rawCanary : rawControl;
        raw.n += n;
        raw.x += corrections;
      }
      // The old guard looked every tick at pooled counts with at least 200 events an arm.
      if (scenario === 'flood' && !pooledWouldRollBack && rawCanary.n >= 200 && rawControl.n >= 200) {
        pooledWouldRollBack = pooledZ(rawCanary, rawControl) > 2.326;
      }
      const d = decide(canary.summary, control.summary, { percent: step, stepAgeS: ((tick + 1 - stepStartTick) * 86_400) / fleet.ticksPerDay }, cfg);
      lastReason = d.reason;
      const base = { step, maxStep, ticks: tick + 1, reason: d.reason, thirdFailureTick, floodIdentifications: scenario === 'flood' ? floodIdentifications : undefined, pooledWouldRollBack };
      if (d.action === 'rollback') return { outcome: 'rolled_back', ...base };
      if (d.action === 'promote') return { outcome: 'promoted', ...base };
      if (d.action === 'step') {
        step = d.to;
        maxStep = Math.max(maxStep, step);
        stepStartTick = tick + 1;
        canary = new ArmWindow(cfg.installWeightCap, fleet.pool);
        control = new ArmWindow(cfg.installWeightCap, fleet.pool);
        rawCanary = { n: 0, x: 0 };
        rawControl = { n: 0, x: 0 };
        failing.clear();
      }
    }
  }
  return {
    outcome: 'undecided',
    step,
    maxStep,
    ticks: fleet.maxDays * fleet.ticksPerDay,
    reason: `still running at the end of the simulation; last: ${lastReason}`,
    thirdFailureTick,
    floodIdentifications,
    pooledWouldRollBack,
  };
}

/** The old guard's test, for contrast: a pooled two-proportion z on raw event counts, beyond a 2-point margin. */
function pooledZ(c: { n: number; x: number }, k: { n: number; x: number }): number {
  const p1 = c.x / c.n;
  const p2 = k.x / k.n;
  const pooled = (c.x + k.x) / (c.n + k.n);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / c.n + 1 / k.n));
  return se > 0 ? (p1 - p2 - 0.02) / se : 0;
}

// --- many rollouts ----------------------------------------------------------------------------

export interface SimOptions {
  seed: number;
  /** Rollouts per scenario. */
  runs: number;
  fleet?: Partial<FleetOptions>;
  config?: Partial<GuardConfig>;
  /** Called after each rollout (for a progress bar). */
  onRun?: (done: number, total: number) => void;
}

const round = (x: number, d = 3) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);
const quantileOf = (xs: number[], q: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
};

export function simulateRollouts(o: SimOptions) {
  const fleet = { ...DEFAULT_FLEET, ...o.fleet };
  const cfg: GuardConfig = { ...DEFAULT_GUARD_CONFIG, ...o.config };
  const scenarios: SimScenario[] = ['equal', 'worse', 'broken', 'flood'];
  const total = scenarios.length * o.runs;
  let done = 0;
  const results = Object.fromEntries(
    scenarios.map((s, si) => [
      s,
      Array.from({ length: o.runs }, (_, r) => {
        const run = simulateRollout(s, o.seed * 1_000_003 + si * 100_003 + r, fleet, cfg);
        o.onRun?.(++done, total);
        return run;
      }),
    ]),
  ) as Record<SimScenario, RolloutRun[]>;
  const days = (ticks: number) => ticks / fleet.ticksPerDay;
  const share = (runs: RolloutRun[], f: (r: RolloutRun) => boolean) => round(runs.filter(f).length / runs.length);

  const equal = results.equal;
  const promotedDays = equal.filter((r) => r.outcome === 'promoted').map((r) => days(r.ticks));
  const worse = results.worse;
  const caught = worse.filter((r) => r.outcome === 'rolled_back');
  const broken = results.broken;
  const brokenBack = broken.filter((r) => r.outcome === 'rolled_back' && r.thirdFailureTick !== undefined);
  const lag = brokenBack.map((r) => r.ticks - 1 - r.thirdFailureTick!);
  const flood = results.flood;
  const floodPromoted = flood.filter((r) => r.outcome === 'promoted').map((r) => days(r.ticks));

  return {
    scenario: 'rollout',
    seed: o.seed,
    runsPerScenario: o.runs,
    fleet: {
      pool: fleet.pool,
      activePerDay: fleet.activePerDay,
      medianPerDay: fleet.medianPerDay,
      perDaySigma: fleet.perDaySigma,
      baseCorrectionRate: fleet.baseCorrectionRate,
      correctionRateSd: fleet.correctionRateSd,
      tickHours: 24 / fleet.ticksPerDay,
      holdback: fleet.holdback,
    },
    guard: { plan: cfg.plan, minStepS: cfg.minStepS, minInstalls: cfg.minInstalls, alpha: cfg.alpha, nonInferiorityMargin: cfg.nonInferiorityMargins.correctionRate, method: 'mSPRT per install' },
    equal: {
      falseRollbackRate: share(equal, (r) => r.outcome === 'rolled_back'),
      promoted: share(equal, (r) => r.outcome === 'promoted'),
      undecided: share(equal, (r) => r.outcome === 'undecided'),
      daysToPromote: { median: round(quantileOf(promotedDays, 0.5), 1), p90: round(quantileOf(promotedDays, 0.9), 1) },
    },
    worse3Points: {
      caughtBefore50: share(worse, (r) => r.outcome === 'rolled_back' && r.step < 50),
      caught: share(worse, (r) => r.outcome === 'rolled_back'),
      promoted: share(worse, (r) => r.outcome === 'promoted'),
      rolledBackAtStep: Object.fromEntries(cfg.plan.map((p) => [p, caught.filter((r) => r.step === p).length])),
      daysToRollback: {
        median: round(
          quantileOf(
            caught.map((r) => days(r.ticks)),
            0.5,
          ),
          1,
        ),
        p90: round(
          quantileOf(
            caught.map((r) => days(r.ticks)),
            0.9,
          ),
          1,
        ),
      },
    },
    broken: {
      rolledBack: share(broken, (r) => r.outcome === 'rolled_back'),
      withinOneTickOfThirdFailingInstall: round(lag.filter((l) => l <= 1).length / Math.max(1, broken.length)),
      ticksAfterThirdFailingInstall: { median: round(quantileOf(lag, 0.5), 1), max: lag.length ? Math.max(...lag) : null },
      hoursToRollback: {
        median: round(
          quantileOf(
            brokenBack.map((r) => (r.ticks * 24) / fleet.ticksPerDay),
            0.5,
          ),
          1,
        ),
      },
    },
    flood: {
      floodPerDay: fleet.floodPerDay,
      falseRollbackRate: share(flood, (r) => r.outcome === 'rolled_back'),
      promoted: share(flood, (r) => r.outcome === 'promoted'),
      daysToPromote: { median: round(quantileOf(floodPromoted, 0.5), 1) },
      pooledCountWouldRollBack: share(flood, (r) => r.pooledWouldRollBack === true),
    },
  };
}

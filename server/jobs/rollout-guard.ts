/**
 * The rollout guard: every interval it compares the running canary with its
 * control over the same window (since the last step, up to now) and rolls
 * back, steps up or promotes by itself, recording why; or says "not yet".
 * The decision is core/rollout-guard.ts (per-install aggregation, mSPRT,
 * non-inferiority, device failures); this file only reads the window and acts.
 * Each running species-pack canary is checked the same way in the same tick,
 * on the identifications each pack version answered on.
 *
 * Only one server instance acts at a time: each tick first takes the job's
 * lease, then claims the tick (server/jobs/scheduler.ts), the same on SQLite
 * and PostgreSQL. Settings (env, or buildApp's rolloutGuard):
 * ROLLOUT_GUARD_INTERVAL_S (default 300; 0 turns it off), ROLLOUT_MIN_STEP_S
 * (default 86400), ROLLOUT_MIN_INSTALLS (default 30 per arm),
 * ROLLOUT_MIN_EVENTS (default 200 identifications per arm).
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_GUARD_CONFIG, decide, type GuardConfig, type GuardDecision } from '../../core/rollout-guard.ts';
import { summarizeArm, type ArmSummary } from '../../core/install-aggregate.ts';
import { armInstalls, currentRollout, promote, rollBack, rolloutDb, runningPackRollouts, stepRollout, storeFlavor, type Rollout } from '../storage/rollout-store.ts';
import { runWithLease } from './lease.ts';
import { jobLeaseMsFromEnv, scheduleJob } from './scheduler.ts';
import type { FeedbackStore } from '../storage/types.ts';

export const GUARD_LEASE = 'rollout-guard';

export interface RolloutGuardOptions {
  /** Milliseconds between checks; 0 turns the job off (checks can still be run through the admin API). */
  intervalMs?: number;
  config?: Partial<GuardConfig>;
}

/** An arm's totals for logs and the change log: the summary's counts, without the per-install sums that stay inside the decision. */
export type ArmTotals = Omit<ArmSummary, 'rates' | 'installLatenciesMs'>;

/** What one check of one running canary saw and did. */
export interface RolloutCheck {
  rollout: Rollout | null;
  decision: GuardDecision | null;
  /** What was done: rollback, step, promote, or nothing. */
  acted: 'rollback' | 'step' | 'promote' | null;
  canary?: ArmTotals;
  control?: ArmTotals;
  window?: { since: string; until: string };
}

export interface GuardOutcome extends RolloutCheck {
  /** Each running species-pack canary, checked with the same decision code in the same tick. */
  packs?: Array<RolloutCheck & { pack: string }>;
}

const totals = ({ rates: _rates, installLatenciesMs: _latencies, ...counts }: ArmSummary): ArmTotals => counts;

/**
 * One running canary against its control: a base model version's
 * identifications, or for a species pack the identifications that pack
 * version answered on (with their corrections), each arm over one window.
 */
async function checkRollout(store: FeedbackStore, r: Rollout, cfg: GuardConfig, now: Date): Promise<RolloutCheck> {
  const db = rolloutDb(store);
  // One window for both arms and every count in them.
  const window = { since: r.steppedAt, until: now.toISOString() };
  const flavor = storeFlavor(store);
  const arm = (version: string) => armInstalls(db, flavor, r.pack ? { pack: r.pack, version } : { version }, window);
  const canary = summarizeArm((await arm(r.version)).values(), cfg.installWeightCap);
  const control = summarizeArm((await arm(r.controlVersion)).values(), cfg.installWeightCap);
  const stepAgeS = Math.max(0, (now.getTime() - Date.parse(r.steppedAt)) / 1000);
  const decision = decide(canary, control, { percent: r.percent, stepAgeS }, { ...cfg, plan: r.plan.length ? r.plan : cfg.plan });
  const details = { checks: decision.checks, canary: totals(canary), control: totals(control), window };
  const base = { rollout: r, decision, canary: totals(canary), control: totals(control), window };
  const target = { model: r.pack, reason: `guard: ${decision.reason}`, actor: 'guard' as const, expectId: r.id };
  switch (decision.action) {
    case 'rollback':
      return { ...base, rollout: await rollBack(db, { ...target, details }), acted: 'rollback' };
    case 'step':
      return { ...base, rollout: await stepRollout(db, { ...target, percent: decision.to }), acted: 'step' };
    case 'promote':
      return { ...base, rollout: await promote(db, target), acted: 'promote' };
    default:
      return { ...base, acted: null };
  }
}

/** One check of the running canaries, the base model's and every species pack's (no lease: callers that may run concurrently take it first). */
export async function guardTick(store: FeedbackStore, cfg: GuardConfig, now = new Date()): Promise<GuardOutcome> {
  const db = rolloutDb(store);
  const r = await currentRollout(db);
  const packs: GuardOutcome['packs'] = [];
  for (const p of await runningPackRollouts(db)) packs.push({ pack: p.pack!, ...(await checkRollout(store, p, cfg, now)) });
  const base: RolloutCheck = r ? await checkRollout(store, r, cfg, now) : { rollout: null, decision: null, acted: null };
  return packs.length ? { ...base, packs } : base;
}

export interface GuardEnv {
  intervalMs: number;
  minEvents: number;
  minInstalls: number;
  minStepS: number;
}

export function guardConfigFromEnv(env: NodeJS.ProcessEnv = process.env): GuardEnv {
  const interval = env.ROLLOUT_GUARD_INTERVAL_S?.trim();
  const seconds = interval ? Number(interval) : 300;
  if (!(seconds >= 0)) throw new Error(`ROLLOUT_GUARD_INTERVAL_S must be a number of seconds (0 turns the guard off), got "${interval}"`);
  const whole = (name: string, fallback: number, min: number) => {
    const raw = env[name]?.trim();
    const n = raw ? Number(raw) : fallback;
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number, at least ${min}, got "${raw}"`);
    return n;
  };
  return {
    intervalMs: seconds * 1000,
    minEvents: whole('ROLLOUT_MIN_EVENTS', DEFAULT_GUARD_CONFIG.minEvents, 1),
    minInstalls: whole('ROLLOUT_MIN_INSTALLS', DEFAULT_GUARD_CONFIG.minInstalls, 2),
    minStepS: whole('ROLLOUT_MIN_STEP_S', DEFAULT_GUARD_CONFIG.minStepS, 0),
  };
}

export interface RolloutGuardService {
  config: GuardConfig;
  /** Takes the lease and runs one check; null when another instance holds the lease. */
  runOnce(): Promise<GuardOutcome | null>;
}

declare module 'fastify' {
  interface FastifyInstance {
    rolloutGuard: RolloutGuardService;
  }
}

export default fp(
  async (app: FastifyInstance, opts: RolloutGuardOptions) => {
    const env = guardConfigFromEnv();
    const config: GuardConfig = {
      ...DEFAULT_GUARD_CONFIG,
      minEvents: env.minEvents,
      minInstalls: env.minInstalls,
      minStepS: env.minStepS,
      ...opts.config,
      worseMargins: { ...DEFAULT_GUARD_CONFIG.worseMargins, ...opts.config?.worseMargins },
      nonInferiorityMargins: { ...DEFAULT_GUARD_CONFIG.nonInferiorityMargins, ...opts.config?.nonInferiorityMargins },
    };
    const intervalMs = opts.intervalMs ?? env.intervalMs;
    const leaseMs = Math.max(60_000, intervalMs * 2);
    let running: Promise<GuardOutcome | null> | null = null;

    async function check(): Promise<GuardOutcome> {
      if (!app.registry.manifest()) return { rollout: null, decision: null, acted: null };
      const outcome = await guardTick(app.store, config);
      for (const o of [outcome, ...(outcome.packs ?? [])]) {
        if (o.acted) app.log.warn({ rollout: o.rollout?.id, pack: o.rollout?.pack, version: o.rollout?.version, acted: o.acted, reason: o.decision?.reason }, 'rollout guard acted');
      }
      return outcome;
    }
    // One check at a time in this instance, whether from the timer or the admin API.
    const once = (fn: () => Promise<GuardOutcome | null>) =>
      (running ??= fn().finally(() => {
        running = null;
      }));

    // The timer's ticks take turns across instances (lease, then the tick's row).
    const job = scheduleJob(app, { name: GUARD_LEASE, intervalMs, leaseMs: jobLeaseMsFromEnv() ?? leaseMs, run: () => once(check) });
    // "Check now" from the admin API: under the same lease, so never beside another instance's check.
    const runOnce = () =>
      once(async () => {
        const r = await runWithLease(app.store, GUARD_LEASE, job.owner, jobLeaseMsFromEnv() ?? leaseMs, check);
        return r.ran ? r.value : null;
      });

    app.decorate('rolloutGuard', { config, runOnce } satisfies RolloutGuardService);
    app.addHook('onClose', async () => {
      await running?.catch(() => {});
    });
  },
  { name: 'rollout-guard', dependencies: ['registry', 'storage'] },
);

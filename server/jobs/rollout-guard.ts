/**
 * The rollout guard: every interval it compares the running canary with its
 * control on what devices reported since the last step (core/rollout-guard.ts
 * decides), and rolls back, steps up or promotes by itself, recording why.
 *
 * Only one server instance acts at a time: each tick first takes the job's
 * lease with a conditional update (server/storage/rollout-store.ts), the
 * same on SQLite and PostgreSQL. Settings (env, or buildApp's rolloutGuard):
 * ROLLOUT_GUARD_INTERVAL_S (default 300; 0 turns it off), ROLLOUT_MIN_EVENTS
 * (default 200 per arm).
 */
import { randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_GUARD_CONFIG, decide, type ArmStats, type GuardConfig, type GuardDecision } from '../../core/rollout-guard.ts';
import type { Manifest } from '../../core/manifest.ts';
import { armStats, currentRollout, promote, releaseLease, rollBack, rolloutDb, stepRollout, tryLease, type Rollout } from '../storage/rollout-store.ts';
import type { FeedbackStore } from '../storage/types.ts';

export const GUARD_LEASE = 'rollout-guard';

export interface RolloutGuardOptions {
  /** Milliseconds between checks; 0 turns the job off (checks can still be run through the admin API). */
  intervalMs?: number;
  config?: Partial<GuardConfig>;
}

export interface GuardOutcome {
  rollout: Rollout | null;
  decision: GuardDecision | null;
  /** What was done: rollback, step, promote, or nothing. */
  acted: 'rollback' | 'step' | 'promote' | null;
  canary?: Omit<ArmStats, 'latenciesMs'>;
  control?: Omit<ArmStats, 'latenciesMs'>;
}

const summary = ({ latenciesMs: _l, ...rest }: ArmStats) => rest;

/** One check of the running canary (no lease: callers that may run concurrently take it first). */
export async function guardTick(store: FeedbackStore, manifest: Manifest, cfg: GuardConfig): Promise<GuardOutcome> {
  const db = rolloutDb(store);
  const r = await currentRollout(db);
  if (!r) return { rollout: null, decision: null, acted: null };
  const canary = await armStats(db, r.version, r.steppedAt);
  const control = await armStats(db, r.controlVersion, r.steppedAt);
  const decision = decide(canary, control, r.percent, { ...cfg, plan: r.plan.length ? r.plan : cfg.plan });
  const details = { checks: decision.checks, canary: summary(canary), control: summary(control), since: r.steppedAt };
  const base = { rollout: r, decision, canary: summary(canary), control: summary(control) };
  void manifest;
  switch (decision.action) {
    case 'rollback':
      return { ...base, rollout: await rollBack(db, { reason: `guard: ${decision.reason}`, actor: 'guard', expectId: r.id, details }), acted: 'rollback' };
    case 'step':
      return { ...base, rollout: await stepRollout(db, { percent: decision.to, reason: `guard: ${decision.reason}`, actor: 'guard', expectId: r.id }), acted: 'step' };
    case 'promote':
      return { ...base, rollout: await promote(db, { reason: `guard: ${decision.reason}`, actor: 'guard', expectId: r.id }), acted: 'promote' };
    default:
      return { ...base, acted: null };
  }
}

export function guardConfigFromEnv(env: NodeJS.ProcessEnv = process.env): { intervalMs: number; minEvents: number } {
  const interval = env.ROLLOUT_GUARD_INTERVAL_S?.trim();
  const seconds = interval ? Number(interval) : 300;
  if (!(seconds >= 0)) throw new Error(`ROLLOUT_GUARD_INTERVAL_S must be a number of seconds (0 turns the guard off), got "${interval}"`);
  const min = env.ROLLOUT_MIN_EVENTS?.trim();
  const minEvents = min ? Number(min) : DEFAULT_GUARD_CONFIG.minEvents;
  if (!Number.isInteger(minEvents) || minEvents < 1) throw new Error(`ROLLOUT_MIN_EVENTS must be a whole number, at least 1, got "${min}"`);
  return { intervalMs: seconds * 1000, minEvents };
}

export interface RolloutGuardService {
  config: GuardConfig;
  /** Takes the lease and runs one check; null when another instance holds the lease. */
  runOnce(): Promise<GuardOutcome | null>;
}

declare module 'fastify' {
  interface FastifyInstance { rolloutGuard: RolloutGuardService }
}

export default fp(async (app: FastifyInstance, opts: RolloutGuardOptions) => {
  const env = guardConfigFromEnv();
  const config: GuardConfig = { ...DEFAULT_GUARD_CONFIG, minEvents: env.minEvents, ...opts.config, margins: { ...DEFAULT_GUARD_CONFIG.margins, ...opts.config?.margins } };
  const intervalMs = opts.intervalMs ?? env.intervalMs;
  const owner = randomUUID();
  const leaseMs = Math.max(60_000, intervalMs * 2);
  let running: Promise<GuardOutcome | null> | null = null;

  async function once(): Promise<GuardOutcome | null> {
    const db = rolloutDb(app.store);
    if (!(await tryLease(db, GUARD_LEASE, owner, leaseMs))) return null;
    const manifest = app.registry.manifest();
    if (!manifest) return { rollout: null, decision: null, acted: null };
    const outcome = await guardTick(app.store, manifest, config);
    if (outcome.acted) app.log.warn({ rollout: outcome.rollout?.id, version: outcome.rollout?.version, acted: outcome.acted, reason: outcome.decision?.reason }, 'rollout guard acted');
    return outcome;
  }
  const runOnce = () => (running ??= once().finally(() => { running = null; }));

  app.decorate('rolloutGuard', { config, runOnce } satisfies RolloutGuardService);

  if (intervalMs > 0) {
    const timer = setInterval(() => { runOnce().catch((err) => app.log.error({ err }, 'rollout guard check failed')); }, intervalMs);
    timer.unref();
    app.addHook('onClose', async () => {
      clearInterval(timer);
      await running?.catch(() => {});
      await releaseLease(rolloutDb(app.store), GUARD_LEASE, owner).catch(() => {});
    });
  }
}, { name: 'rollout-guard', dependencies: ['registry', 'storage'] });

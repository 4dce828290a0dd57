/**
 * Periodic jobs that take turns across server instances (server/jobs/lease.ts).
 *
 * Time is cut into ticks of intervalMs (tick = floor(epoch ms / intervalMs)),
 * the same numbering on every instance. Each instance wakes just after each
 * tick boundary; it acts only if it holds (or takes) the job's lease and
 * then wins the tick's row in job_ticks. So exactly one instance acts per
 * tick while one is alive, no tick is acted on twice, and when the holder
 * dies another takes the job once its lease lapses. The lease is renewed
 * while a tick's run lasts, so a run may take longer than the lease.
 *
 * Each tick run writes one log line ("job tick ran", with job, tick and
 * owner) at info level whatever LOG_LEVEL is: with job_ticks it is the
 * record of which instance ran which tick, and the cluster kill test reads it.
 *
 * Use from a plugin: scheduleJob(app, { name, intervalMs, run }). Settings:
 * JOB_LEASE_MS (default twice the interval, at least a minute): how long a
 * holder keeps a job without renewing it, i.e. how long a dead holder's
 * jobs wait before another instance takes them.
 */
import type { FastifyInstance } from 'fastify';
import { instanceOwner, releaseLease, type HeldLease } from './lease.ts';
import { takeTurn, tickOf } from './turn.ts';
import { rolloutDb } from '../storage/rollout-store.ts';

export interface JobSpec {
  /** The lease and tick rows' name; keep it stable across releases. */
  name: string;
  /** Tick length; 0 turns the timer off (runTick still works). */
  intervalMs: number;
  /** Lease length; default from JOB_LEASE_MS, else max(60 s, 2 x intervalMs). */
  leaseMs?: number;
  /** false: no timer, ticks only through runTick (default true). */
  timer?: boolean;
  /** Also try the current tick this long after the app is ready (otherwise the first run is at the next boundary). */
  firstRunAfterMs?: number;
  /** The work of one tick, while the lease is renewed (lease.held() turns false if another instance took it meanwhile). A throw is logged; the tick stays claimed (not retried). */
  run(tick: number, lease: HeldLease): Promise<unknown>;
}

export interface ScheduledJob {
  readonly name: string;
  readonly owner: string;
  /** Ticks this instance ran (held the lease and won the tick). */
  ticksRun(): number;
  /** Tries the tick `now` falls in: lease, claim, run. false when another instance has the job or already ran that tick. */
  runTick(now?: Date): Promise<boolean>;
}

export function jobLeaseMsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env.JOB_LEASE_MS?.trim();
  if (!text) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1000) throw new Error(`JOB_LEASE_MS must be a whole number of milliseconds, at least 1000 (got "${text}")`);
  return n;
}

export { tickOf };

export function scheduleJob(app: FastifyInstance, spec: JobSpec): ScheduledJob {
  const { name, intervalMs } = spec;
  const leaseMs = spec.leaseMs ?? jobLeaseMsFromEnv() ?? Math.max(60_000, intervalMs * 2);
  const owner = instanceOwner();
  const log = app.log.child({ job: name, owner }, { level: 'info' });
  const running = new Set<Promise<unknown>>();
  let ticks = 0;
  let closing = false;
  let timer: NodeJS.Timeout | null = null;
  let first: NodeJS.Timeout | null = null;
  // Wake a little after the boundary: timers fire late, never early, so floor() names the new tick.
  const slack = Math.min(250, Math.floor(intervalMs / 20));

  // The lease is renewed while a run lasts (turn.ts), so a run longer than the lease does not let another instance in beside it;
  // and this instance claims no tick while its own run lasts, so a run longer than the interval is not joined by the next tick's.
  let inRun = false;
  async function attempt(now: Date): Promise<boolean> {
    if (inRun) return false;
    const turn = await takeTurn(
      app.store,
      { job: name, owner, intervalMs, leaseMs, onRenewError: (err) => log.warn({ err }, 'job lease renewal failed') },
      async (tick, lease) => {
        ticks++;
        inRun = true;
        log.info({ tick }, 'job tick ran');
        try {
          await spec.run(tick, lease);
        } finally {
          inRun = false;
        }
      },
      now,
    );
    return turn.status === 'ran';
  }

  const runTick = (now = new Date()) => {
    const p = attempt(now);
    running.add(p);
    p.finally(() => running.delete(p)).catch(() => {});
    return p;
  };

  const fire = () => {
    if (closing) return;
    runTick().catch((err) => app.log.warn({ err, job: name }, 'job tick failed'));
  };
  const armNext = () => {
    if (closing) return;
    const now = Date.now();
    timer = setTimeout(
      () => {
        fire();
        armNext();
      },
      intervalMs - (now % intervalMs) + slack,
    );
    timer.unref();
  };

  if (intervalMs > 0 && spec.timer !== false) {
    app.addHook('onReady', async () => {
      if (spec.firstRunAfterMs !== undefined) {
        first = setTimeout(fire, spec.firstRunAfterMs);
        first.unref();
      }
      armNext();
    });
  }
  app.addHook('preClose', async () => {
    closing = true;
    if (timer) clearTimeout(timer);
    if (first) clearTimeout(first);
    await Promise.allSettled([...running]);
    // Hand the job over at once rather than when the lease lapses.
    await releaseLease(rolloutDb(app.store), name, owner).catch(() => {});
  });

  return { name, owner, ticksRun: () => ticks, runTick };
}

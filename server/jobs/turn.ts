/**
 * One turn of a periodic job across instances (lease.ts): take or renew the
 * job's lease, claim the tick `now` falls in, then do the work while the
 * lease is renewed in the background. The server's scheduler (scheduler.ts)
 * and the retrain watch outside the server (pipeline/watch.ts) both run
 * their ticks through this, so they take turns by the same rules and in the
 * same job_leases / job_ticks rows.
 */
import type { FeedbackStore } from '../storage/types.ts';
import { rolloutDb } from '../storage/rollout-store.ts';
import { claimTick, ensureLease, finishTick, keepLease, pruneTicks, takeLease, TICKS_KEPT, type HeldLease } from './lease.ts';

export interface TurnSpec {
  job: string;
  /** This instance's name in lease and tick rows (instanceOwner()). */
  owner: string;
  /** Tick length: tick = floor(epoch ms / intervalMs), the same on every instance. */
  intervalMs: number;
  leaseMs: number;
  /** A lease renewal that failed on a database error (it is retried at the next beat). */
  onRenewError?: (err: unknown) => void;
}

export type TurnOutcome<T> =
  /** Another instance holds the job's lease. */
  | { status: 'busy' }
  /** This instance holds the lease, but the tick was already claimed (by it, or by a holder before it). */
  | { status: 'tick-taken'; tick: number }
  /** This instance ran the tick; leaseKept is false when another instance took the lease while it ran. */
  | { status: 'ran'; tick: number; value: T; leaseKept: boolean };

/** The tick a moment falls in. */
export const tickOf = (ms: number, intervalMs: number) => Math.floor(ms / intervalMs);

/**
 * Takes this instance's turn at the tick `now` falls in: fn runs only when
 * this instance holds the lease and wins the tick's row, with the lease kept
 * alive while it runs. A throw from fn leaves the tick claimed (not retried)
 * and is passed on.
 */
export async function takeTurn<T>(store: FeedbackStore, spec: TurnSpec, fn: (tick: number, lease: HeldLease) => Promise<T>, now = new Date()): Promise<TurnOutcome<T>> {
  const { job, owner, leaseMs } = spec;
  await ensureLease(rolloutDb(store), job);
  if (!(await takeLease(store, job, owner, leaseMs, now))) return { status: 'busy' };
  const tick = tickOf(now.getTime(), spec.intervalMs || 1);
  if (!(await claimTick(store, job, tick, owner, now))) return { status: 'tick-taken', tick };
  const lease = keepLease(store, job, owner, leaseMs, spec.onRenewError);
  let value: T;
  try {
    value = await fn(tick, lease);
  } finally {
    await lease.stop();
    await finishTick(store, job, tick, owner).catch(() => {});
  }
  if (tick % 100 === 0) await pruneTicks(store, job, tick - TICKS_KEPT).catch(() => {});
  return { status: 'ran', tick, value, leaseKept: lease.held() };
}

/**
 * Jobs that take turns across server instances on one database.
 *
 * Two mechanisms, both one SQL statement each, the same on SQLite and
 * PostgreSQL:
 * - a lease (job_leases, a conditional update): the instance that holds a
 *   job's lease is the one that acts; it renews the lease at each of its
 *   ticks, and another instance takes the job once the lease lapses (the
 *   holder died or hangs);
 * - a tick claim (job_ticks, primary key (job, tick)): before acting on a
 *   tick the instance inserts its row, and only the insert that wrote it
 *   goes on. A lease alone cannot promise "once per tick": a holder that
 *   stalls past its lease and wakes up again would act beside its successor.
 *
 * The owner string names the instance (its pid and a random part), so rows
 * say who ran what.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { FeedbackStore } from '../storage/types.ts';
import { ensureLease, releaseLease, rolloutDb, tryLease } from '../storage/rollout-store.ts';

interface JobTickRow {
  job: string;
  tick: number | string;
  owner: string;
  started_at: string;
  finished_at: string | null;
}
interface LeaseTables {
  job_ticks: JobTickRow;
}

function db(store: FeedbackStore): Kysely<LeaseTables> {
  return rolloutDb(store) as unknown as Kysely<LeaseTables>;
}

/** A name for this instance in lease and tick rows: its pid, then a random part (two apps in one process differ). */
export function instanceOwner(): string {
  return `${process.pid}-${randomUUID().slice(0, 8)}`;
}

export { ensureLease, releaseLease };

/** Takes or renews the job's lease for ttlMs; false when another instance holds it. */
export function takeLease(store: FeedbackStore, job: string, owner: string, ttlMs: number, now = new Date()): Promise<boolean> {
  return tryLease(rolloutDb(store), job, owner, ttlMs, now);
}

/**
 * Runs fn only while holding the job's lease (taking or renewing it first);
 * `{ ran: false }` when another instance holds it. For one-off runs that
 * must not overlap another instance's (an admin "check now"); periodic jobs
 * use server/jobs/scheduler.ts, which also claims the tick.
 */
export async function runWithLease<T>(store: FeedbackStore, job: string, owner: string, ttlMs: number, fn: () => Promise<T>): Promise<{ ran: false } | { ran: true; value: T }> {
  await ensureLease(rolloutDb(store), job);
  if (!(await takeLease(store, job, owner, ttlMs))) return { ran: false };
  return { ran: true, value: await fn() };
}

/** A lease renewed in the background while long work runs (a retrain takes minutes; the lease only a few). */
export interface HeldLease {
  /** false once a renewal was refused: another instance took the job (this one stalled past the lease), so the caller must not act as its holder any more. */
  held(): boolean;
  /** Stops renewing; answers whether the lease was held throughout. */
  stop(): Promise<boolean>;
}

/**
 * Renews the job's lease every third of ttlMs until stopped. The holder that
 * dies stops renewing, so another instance takes the job once the lease
 * lapses, mid-run or not. A renewal that fails on a database error is tried
 * again at the next beat (the lease lapses only if they all fail).
 */
export function keepLease(store: FeedbackStore, job: string, owner: string, ttlMs: number, onError?: (err: unknown) => void): HeldLease {
  let held = true;
  let pending: Promise<void> = Promise.resolve();
  const renew = async () => {
    try {
      if (held && !(await takeLease(store, job, owner, ttlMs))) held = false;
    } catch (err) {
      onError?.(err);
    }
  };
  const timer = setInterval(
    () => {
      // renew() never rejects (errors go to onError); kept so stop() waits for a renewal in flight.
      pending = renew();
    },
    Math.max(100, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    held: () => held,
    async stop() {
      clearInterval(timer);
      await pending;
      return held;
    },
  };
}

/** Claims one tick of a job for this owner; true only for the one caller whose row was written. */
export async function claimTick(store: FeedbackStore, job: string, tick: number, owner: string, now = new Date()): Promise<boolean> {
  const written = await db(store)
    .insertInto('job_ticks')
    .values({ job, tick, owner, started_at: now.toISOString(), finished_at: null })
    .onConflict((oc) => oc.columns(['job', 'tick']).doNothing())
    .returning('job')
    .execute();
  return written.length === 1;
}

/** Marks a claimed tick done (a tick with no finish time was claimed by an instance that died, or failed). */
export async function finishTick(store: FeedbackStore, job: string, tick: number, owner: string, now = new Date()): Promise<void> {
  await db(store).updateTable('job_ticks').set({ finished_at: now.toISOString() }).where('job', '=', job).where('tick', '=', tick).where('owner', '=', owner).execute();
}

/** Rows older than this many ticks are dropped as new ones are claimed: the table stays small. */
export const TICKS_KEPT = 10_000;

export async function pruneTicks(store: FeedbackStore, job: string, beforeTick: number): Promise<void> {
  await db(store).deleteFrom('job_ticks').where('job', '=', job).where('tick', '<', beforeTick).execute();
}

export interface TickRecord {
  job: string;
  tick: number;
  owner: string;
  startedAt: string;
  finishedAt: string | null;
}

/** Every recorded tick, oldest first (of one job, or all). */
export async function listTicks(store: FeedbackStore, job?: string): Promise<TickRecord[]> {
  let q = db(store).selectFrom('job_ticks').selectAll().orderBy('job').orderBy('tick');
  if (job) q = q.where('job', '=', job);
  return (await q.execute()).map((r) => ({ job: r.job, tick: Number(r.tick), owner: r.owner, startedAt: r.started_at, finishedAt: r.finished_at }));
}

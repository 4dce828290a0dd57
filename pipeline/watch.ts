/**
 * Starts a retrain when at least `threshold` accepted corrections arrived
 * since the last run. Watches take turns like the server's periodic jobs
 * (server/jobs/turn.ts): a watch acts on a tick only while it holds the
 * `retrain-watch` lease and has inserted that tick's job_ticks row, and the
 * lease is renewed while a retrain runs. So however many watch processes run,
 * on however many machines, one checks per tick, none retrains a tick twice,
 * and when the holder dies (mid-retrain or not) another takes the job once
 * the lease lapses. The count at the last run is kept in the database
 * (job_state) for the same reason: the next holder may be another machine.
 */
import { isTrainable } from './feedback-input.ts';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { FeedbackStore, PageCursor } from '../server/storage/types.ts';
import { takeTurn } from '../server/jobs/turn.ts';
import { releaseLease } from '../server/jobs/lease.ts';
import { rolloutDb } from '../server/storage/rollout-store.ts';
import { readJobState, writeJobState } from '../server/jobs/job-state.ts';

/** The lease, tick and state rows' name, shared by `pipeline watch` and the server's optional job. */
export const RETRAIN_WATCH_JOB = 'retrain-watch';

export interface WatchState {
  acceptedAtLastRun: number;
  lastRun: string | null;
  lastRunId: string | null;
}

const NEVER: WatchState = { acceptedAtLastRun: 0, lastRun: null, lastRunId: null };

export interface WatchStateStore {
  read(): Promise<WatchState>;
  write(state: WatchState): Promise<void>;
}

/** The state in the feedback store's database, shared by every watch on it (the default). */
export function databaseState(store: FeedbackStore): WatchStateStore {
  return {
    read: async () => (await readJobState<WatchState>(store, RETRAIN_WATCH_JOB)) ?? NEVER,
    write: (state) => writeJobState(store, RETRAIN_WATCH_JOB, state),
  };
}

/** The state in a file (`--state FILE`): only right when every watch runs on this machine. */
export function fileState(file: string): WatchStateStore {
  return {
    read: async () => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as WatchState) : NEVER),
    async write(state) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n');
      renameSync(`${file}.tmp`, file);
    },
  };
}

export async function countAccepted(store: FeedbackStore): Promise<number> {
  let n = 0;
  let after: PageCursor | undefined;
  do {
    const page = await store.listCorrections({ status: 'accepted', limit: 500, after });
    n += page.items.filter(isTrainable).length;
    after = page.next ?? undefined;
  } while (after);
  return n;
}

export interface WatchCheck {
  threshold: number;
  state: WatchStateStore;
  countAccepted: () => Promise<number>;
  runRetrain: () => Promise<{ runId: string | null; registered: boolean }>;
  log?: (line: string) => void;
}

export type CheckOutcome =
  | { status: 'waiting'; accepted: number; newSinceLastRun: number }
  /** stateWritten: false when this watch lost the lease during the run, so the new holder decides from the old count. */
  | { status: 'ran'; accepted: number; runId: string | null; registered: boolean; stateWritten: boolean };

/**
 * One check by whoever holds the turn: waiting (too few new corrections) or
 * ran. The count is written only while `stillHolder()`: a watch that stalled
 * past its lease has been replaced and must not overwrite its successor.
 */
export async function checkAndRetrain(w: WatchCheck, stillHolder: () => boolean = () => true): Promise<CheckOutcome> {
  const state = await w.state.read();
  const accepted = await w.countAccepted();
  const fresh = accepted - state.acceptedAtLastRun;
  if (fresh < w.threshold) {
    w.log?.(`${fresh} new accepted correction(s) since the last run; waiting for ${w.threshold}`);
    return { status: 'waiting', accepted, newSinceLastRun: fresh };
  }
  w.log?.(`${fresh} new accepted corrections: retraining`);
  const r = await w.runRetrain();
  const keep = stillHolder();
  if (keep) await w.state.write({ acceptedAtLastRun: accepted, lastRun: new Date().toISOString(), lastRunId: r.runId });
  else w.log?.('another watch took the lease while this retrain ran (this process stalled past it); its count is not recorded');
  return { status: 'ran', accepted, ...r, stateWritten: keep };
}

export interface Watcher extends WatchCheck {
  /** Where the lease and tick rows live: the feedback store the corrections come from. */
  store: FeedbackStore;
  /** This process in lease and tick rows (instanceOwner()). */
  owner: string;
  intervalMs: number;
  leaseMs: number;
}

export type TickOutcome = { status: 'busy' } | { status: 'tick-taken'; tick: number } | (CheckOutcome & { tick: number });

/** One tick: busy (another watch holds the lease), tick-taken (this tick was already checked), waiting or ran. */
export async function tick(w: Watcher, now = new Date()): Promise<TickOutcome> {
  const turn = await takeTurn(
    w.store,
    { job: RETRAIN_WATCH_JOB, owner: w.owner, intervalMs: w.intervalMs, leaseMs: w.leaseMs, onRenewError: (err) => w.log?.(`lease renewal failed (retried): ${String(err)}`) },
    (_tick, lease) => checkAndRetrain(w, lease.held),
    now,
  );
  if (turn.status === 'busy') w.log?.('another watch holds the retrain-watch lease; skipping');
  if (turn.status === 'tick-taken') w.log?.(`tick ${turn.tick} was already checked; waiting for the next`);
  return turn.status === 'ran' ? { ...turn.value, tick: turn.tick } : turn;
}

/** Hands the job to the next watch at once (a watch that exits), rather than when its lease lapses; the ticks it ran stay claimed. */
export async function releaseWatch(store: FeedbackStore, owner: string): Promise<void> {
  await releaseLease(rolloutDb(store), RETRAIN_WATCH_JOB, owner);
}

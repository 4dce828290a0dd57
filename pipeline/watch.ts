/**
 * Starts a retrain when at least `threshold` accepted corrections arrived
 * since the last run. The count check and the run happen under the retrain
 * lock, so two watchers (or a watcher and a manual run) never both retrain.
 */
import { isTrainable } from './feedback-input.ts';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { FeedbackStore } from '../server/storage/types.ts';
import type { RetrainLock } from './lock.ts';

export interface WatchState {
  acceptedAtLastRun: number;
  lastRun: string | null;
  lastRunId: string | null;
}

export function readState(file: string): WatchState {
  if (!existsSync(file)) return { acceptedAtLastRun: 0, lastRun: null, lastRunId: null };
  return JSON.parse(readFileSync(file, 'utf8')) as WatchState;
}

export function writeState(file: string, state: WatchState) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

export async function countAccepted(store: FeedbackStore): Promise<number> {
  let n = 0;
  let after: import('../server/storage/types.ts').PageCursor | undefined;
  do {
    const page = await store.listCorrections({ status: 'accepted', limit: 500, after });
    n += page.items.filter(isTrainable).length;
    after = page.next ?? undefined;
  } while (after);
  return n;
}

export type TickOutcome = { status: 'busy' } | { status: 'waiting'; accepted: number; newSinceLastRun: number } | { status: 'ran'; accepted: number; runId: string | null; registered: boolean };

export interface Watcher {
  lock: RetrainLock;
  stateFile: string;
  threshold: number;
  countAccepted: () => Promise<number>;
  runRetrain: () => Promise<{ runId: string | null; registered: boolean }>;
  log?: (line: string) => void;
}

/** One check: busy (someone holds the lock), waiting (too few new corrections) or ran. */
export async function tick(w: Watcher): Promise<TickOutcome> {
  const release = await w.lock.tryAcquire();
  if (!release) {
    w.log?.('another retrain holds the lock; skipping');
    return { status: 'busy' };
  }
  try {
    const state = readState(w.stateFile);
    const accepted = await w.countAccepted();
    const fresh = accepted - state.acceptedAtLastRun;
    if (fresh < w.threshold) {
      w.log?.(`${fresh} new accepted correction(s) since the last run; waiting for ${w.threshold}`);
      return { status: 'waiting', accepted, newSinceLastRun: fresh };
    }
    w.log?.(`${fresh} new accepted corrections: retraining`);
    const r = await w.runRetrain();
    writeState(w.stateFile, { acceptedAtLastRun: accepted, lastRun: new Date().toISOString(), lastRunId: r.runId });
    return { status: 'ran', accepted, ...r };
  } finally {
    await release();
  }
}

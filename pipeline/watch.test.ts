/**
 * The retrain watch takes turns under the retrain-watch job lease
 * (pipeline/watch.ts, server/jobs/turn.ts), on SQLite and PostgreSQL: each
 * watch here has its own connection to one database, as watch processes on
 * several machines would, and the last test kills a real watch process in
 * the middle of its retrain. The retrain step is a counting function: what
 * is under test is who runs it and when (the retrain itself is tested by the
 * scenarios).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDb } from '../server/testing/backends.ts';
import type { FeedbackStore } from '../server/storage/types.ts';
import { listTicks } from '../server/jobs/lease.ts';
import { tickOf } from '../server/jobs/turn.ts';
import { checkAndRetrain, databaseState, RETRAIN_WATCH_JOB, tick, type TickOutcome, type Watcher, type WatchState } from './watch.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  owner: string;
  at: number;
}

/** A watch on its own connection; every retrain is recorded, with how many ran at once. */
function watcher(
  store: FeedbackStore,
  owner: string,
  o: { intervalMs: number; leaseMs: number; accepted: () => number; runs: Run[]; active: { now: number; max: number }; retrainMs?: number },
): Watcher {
  return {
    store,
    owner,
    intervalMs: o.intervalMs,
    leaseMs: o.leaseMs,
    threshold: 5,
    state: databaseState(store),
    countAccepted: async () => o.accepted(),
    runRetrain: async () => {
      o.active.now++;
      o.active.max = Math.max(o.active.max, o.active.now);
      o.runs.push({ owner, at: Date.now() });
      await sleep(o.retrainMs ?? 5);
      o.active.now--;
      return { runId: `run-${o.runs.length}`, registered: false };
    },
  };
}

const leaseOwner = async (store: FeedbackStore) => (await store.db.selectFrom('job_leases').select('owner').where('name', '=', RETRAIN_WATCH_JOB).executeTakeFirst())?.owner ?? null;

describe.each(BACKENDS)('retrain watch turns on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb | null = null;
    const stores: FeedbackStore[] = [];
    let child: ChildProcess | null = null;
    afterEach(async () => {
      child?.kill('SIGKILL');
      child = null;
      for (const s of stores.splice(0)) await s.close().catch(() => {});
      await db?.cleanup();
      db = null;
    });
    const open = async () => {
      const s = await db!.openStore();
      stores.push(s);
      return s;
    };

    it('two watches woken at the same moments: exactly one checks each tick, each batch of new corrections is retrained once', async () => {
      db = await backend.create();
      let accepted = 0;
      const runs: Run[] = [];
      const active = { now: 0, max: 0 };
      const spec = { intervalMs: 1_000, leaseMs: 3_000, accepted: () => accepted, runs, active };
      const a = watcher(await open(), 'watch-a', spec);
      const b = watcher(await open(), 'watch-b', spec);
      const t0 = Math.ceil(Date.now() / 1_000) * 1_000;
      const at = (k: number) => new Date(t0 + k * 1_000 + 10);
      const outcomes: string[] = [];
      for (let k = 0; k < 10; k++) {
        // New corrections on even ticks only: odd ticks find too few and wait.
        if (k % 2 === 0) accepted += 5;
        const both: TickOutcome[] = await Promise.all([tick(a, at(k)), tick(b, at(k))]);
        outcomes.push(both.map((o) => o.status).join('/'));
      }
      expect(active.max).toBe(1);
      expect(runs).toHaveLength(5);
      expect(new Set(runs.map((r) => r.owner)).size).toBe(1);
      for (const [k, o] of outcomes.entries()) expect([k % 2 === 0 ? 'ran/busy' : 'waiting/busy', k % 2 === 0 ? 'busy/ran' : 'busy/waiting']).toContain(o);
      // One tick row per tick, all by the holder, all finished; the count is in the database for whoever holds the job next.
      const rows = await listTicks(a.store, RETRAIN_WATCH_JOB);
      expect(rows.map((r) => r.tick)).toEqual([...Array(10).keys()].map((k) => tickOf(t0, 1_000) + k));
      expect(new Set(rows.map((r) => r.owner))).toEqual(new Set([runs[0].owner]));
      expect(rows.every((r) => r.finishedAt !== null)).toBe(true);
      expect(await databaseState(b.store).read()).toMatchObject({ acceptedAtLastRun: 25, lastRunId: 'run-5' });

      // The holder again on a tick it already checked: not checked twice.
      const holder = runs[0].owner === 'watch-a' ? a : b;
      accepted += 5;
      expect(await tick(holder, at(9))).toEqual({ status: 'tick-taken', tick: tickOf(t0, 1_000) + 9 });
      expect(runs).toHaveLength(5);
    }, 30_000);

    it('a watch that lost its lease while retraining (it stalled past it) does not record its run over its successor', async () => {
      db = await backend.create();
      const runs: Run[] = [];
      const active = { now: 0, max: 0 };
      let accepted = 5;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const a = watcher(await open(), 'watch-a', { intervalMs: 1_000, leaseMs: 900, accepted: () => accepted, runs, active });
      a.runRetrain = async () => {
        runs.push({ owner: 'watch-a', at: Date.now() });
        await gate;
        return { runId: 'stalled', registered: false };
      };
      const b = watcher(await open(), 'watch-b', { intervalMs: 1_000, leaseMs: 900, accepted: () => accepted, runs, active });
      const first = tick(a, new Date());
      while (!runs.length) await sleep(20);
      // A stall past the lease, as the database sees it: the lease lapses without a renewal.
      await b.store.db.updateTable('job_leases').set({ expires_at: '1970-01-01T00:00:00.000Z' }).where('name', '=', RETRAIN_WATCH_JOB).execute();
      accepted = 10;
      const taken = await tick(b, new Date(Date.now() + 1_000));
      expect(taken).toMatchObject({ status: 'ran', accepted: 10, stateWritten: true });
      // a's next renewal beat finds the lease gone; then its retrain ends.
      await sleep(700);
      release();
      expect(await first).toMatchObject({ status: 'ran', runId: 'stalled', stateWritten: false });
      expect(await databaseState(a.store).read()).toMatchObject({ acceptedAtLastRun: 10 });
      expect(await leaseOwner(a.store)).toBe('watch-b');
    }, 30_000);

    it('the holder killed in the middle of a retrain longer than its lease: the other watch stays out while it renews, then takes over once the lease lapses', async () => {
      db = await backend.create();
      const intervalMs = 500,
        leaseMs = 3_000;
      const watchEnv = { ...process.env, ...db.env, WATCH_INTERVAL_MS: String(intervalMs), WATCH_LEASE_MS: String(leaseMs) };
      const proc = spawn(process.execPath, ['--import', 'tsx', 'pipeline/watch-holder.ts'], { env: watchEnv, stdio: ['ignore', 'pipe', 'inherit'] });
      child = proc;
      const lines = createInterface({ input: proc.stdout });
      const started = await new Promise<{ owner: string; startedAt: number }>((resolve, reject) => {
        lines.once('line', (l) => resolve(JSON.parse(l) as { owner: string; startedAt: number }));
        proc.once('exit', (code) => reject(new Error(`the watch process exited (${code}) before retraining`)));
      });

      const runs: Run[] = [];
      const b = watcher(await open(), 'watch-b', { intervalMs, leaseMs, accepted: () => 1, runs, active: { now: 0, max: 0 } });
      b.threshold = 1;
      // Twice the lease into the holder's retrain: it has renewed all along, so b never got in.
      const busy: string[] = [];
      while (Date.now() < started.startedAt + 2 * leaseMs) {
        busy.push((await tick(b)).status);
        await sleep(100);
      }
      expect(new Set(busy)).toEqual(new Set(['busy']));
      expect(runs).toHaveLength(0);
      expect(await leaseOwner(b.store)).toBe(started.owner);

      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
      const killedAt = Date.now();
      let outcome: TickOutcome;
      for (;;) {
        outcome = await tick(b);
        if (outcome.status !== 'busy') break;
        await sleep(100);
      }
      const tookOverAfter = Date.now() - killedAt;
      // No later than a lease (plus a tick and this machine's slowness); and the dead holder's count was never written, so b retrains.
      expect(tookOverAfter).toBeLessThan(leaseMs + intervalMs + 2_000);
      expect(outcome).toMatchObject({ status: 'ran', accepted: 1, stateWritten: true });
      expect(runs).toHaveLength(1);
      const rows = await listTicks(b.store, RETRAIN_WATCH_JOB);
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatchObject({ owner: started.owner, finishedAt: null });
      expect(rows[1]).toMatchObject({ owner: 'watch-b' });
      expect(rows[1].tick).toBeGreaterThan(rows[0].tick);
      expect(rows[1].finishedAt).not.toBeNull();
    }, 120_000);
  });
});

describe('watch check', () => {
  it('does not retrain below the threshold', async () => {
    let runs = 0;
    let state: WatchState = { acceptedAtLastRun: 3, lastRun: null, lastRunId: null };
    const out = await checkAndRetrain({
      threshold: 10,
      state: { read: async () => state, write: async (s) => void (state = s) },
      countAccepted: async () => 12,
      runRetrain: async () => {
        runs++;
        return { runId: null, registered: false };
      },
    });
    expect(out).toEqual({ status: 'waiting', accepted: 12, newSinceLastRun: 9 });
    expect(runs).toBe(0);
  });
});

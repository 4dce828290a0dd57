/**
 * Periodic jobs take turns across instances (server/jobs/scheduler.ts,
 * lease.ts), on SQLite and PostgreSQL: each instance here is a Fastify app
 * with its own connection to one database, as separate server processes
 * would have. What a job ran is recorded by the job itself, not read from
 * job_ticks, so a broken claim shows up as a tick run twice.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDb } from '../testing/backends.ts';
import type { FeedbackStore } from '../storage/types.ts';
import { scheduleJob, tickOf, type ScheduledJob } from './scheduler.ts';
import { claimTick, listTicks } from './lease.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Instance {
  app: FastifyInstance;
  job: ScheduledJob;
  store: FeedbackStore;
}
interface Run {
  tick: number;
  owner: string;
}

async function instance(db: TestDb, spec: { name: string; intervalMs: number; leaseMs: number; timer?: boolean }, runs: Run[]): Promise<Instance> {
  const store = await db.openStore();
  const app = Fastify({ logger: false });
  app.decorate('store', store);
  app.addHook('onClose', async () => store.close());
  const job: ScheduledJob = scheduleJob(app, {
    ...spec,
    run: async (tick) => {
      runs.push({ tick, owner: job.owner });
      await sleep(5);
    },
  });
  await app.ready();
  return { app, job, store };
}

describe.each(BACKENDS)('periodic jobs on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb | null = null;
    const apps: Instance[] = [];
    afterEach(async () => {
      for (const a of apps.splice(0)) await a.app.close().catch(() => {});
      await db?.cleanup();
      db = null;
    });

    it('three instances on the same ticks: each tick runs once, on the lease holder; another takes over when its lease lapses', async () => {
      db = await backend.create();
      const runs: Run[] = [];
      // No timers: every instance is woken by hand at the same moments.
      const spec = { name: 'test-job', intervalMs: 1_000, leaseMs: 3_000, timer: false };
      for (let i = 0; i < 3; i++) apps.push(await instance(db, spec, runs));
      const t0 = Math.ceil(Date.now() / 1_000) * 1_000;
      const at = (k: number) => new Date(t0 + k * 1_000 + 10);

      // Every instance wakes on every tick, at the same moment.
      for (let k = 0; k < 10; k++) await Promise.all(apps.map((a) => a.job.runTick(at(k))));
      expect(runs.map((r) => r.tick)).toEqual([...Array(10).keys()].map((k) => tickOf(t0, 1_000) + k));
      const holder = runs[0].owner;
      expect(new Set(runs.map((r) => r.owner))).toEqual(new Set([holder]));

      // The holder dies (no release): nobody acts until its lease lapses, then one survivor does.
      const survivors = apps.filter((a) => a.job.owner !== holder);
      expect((await Promise.all(survivors.map((a) => a.job.runTick(at(11))))).some(Boolean)).toBe(false);
      for (let k = 13; k < 18; k++) await Promise.all(survivors.map((a) => a.job.runTick(at(k))));
      const after = runs.slice(10);
      expect(after.map((r) => r.tick)).toEqual([13, 14, 15, 16, 17].map((k) => tickOf(t0, 1_000) + k));
      expect(new Set(after.map((r) => r.owner)).size).toBe(1);
      expect(after[0].owner).not.toBe(holder);

      // The old holder wakes up late, on a tick already run: it neither gets the lease nor runs the tick.
      const old = apps.find((a) => a.job.owner === holder)!;
      expect(await old.job.runTick(at(17))).toBe(false);
      expect(runs).toHaveLength(15);

      // job_ticks names each tick's instance.
      const rows = await listTicks(apps[0].store, 'test-job');
      expect(rows.map((r) => [r.tick, r.owner])).toEqual(runs.map((r) => [r.tick, r.owner]));
      expect(rows.every((r) => r.finishedAt !== null)).toBe(true);
    }, 30_000);

    it('a tick is claimed by exactly one of many concurrent callers, whatever their lease', async () => {
      db = await backend.create();
      const stores: FeedbackStore[] = [];
      for (let i = 0; i < 3; i++) stores.push(await db.openStore());
      try {
        for (let tick = 1; tick <= 5; tick++) {
          const won = await Promise.all(Array.from({ length: 12 }, (_, i) => claimTick(stores[i % 3], 'race', tick, `owner-${i}`)));
          expect(won.filter(Boolean)).toHaveLength(1);
        }
        expect((await listTicks(stores[0], 'race')).map((r) => r.tick)).toEqual([1, 2, 3, 4, 5]);
      } finally {
        for (const s of stores) await s.close();
      }
    });

    it('on their own timers, two instances run consecutive ticks with none twice, and the second takes over when the first closes', async () => {
      db = await backend.create();
      const runs: Run[] = [];
      const spec = { name: 'timed', intervalMs: 200, leaseMs: 1_000 };
      for (let i = 0; i < 2; i++) apps.push(await instance(db, spec, runs));
      await sleep(2_100);
      const ticks = runs.map((r) => r.tick);
      expect(new Set(ticks).size).toBe(ticks.length);
      expect(ticks.length).toBeGreaterThanOrEqual(6);
      const holder = runs[0].owner;
      expect(runs.every((r) => r.owner === holder)).toBe(true);
      const [first, second] = apps[0].job.owner === holder ? apps : [apps[1], apps[0]];
      await first.app.close(); // releases the lease at once
      const before = runs.length;
      await sleep(1_000);
      const later = runs.slice(before);
      expect(later.length).toBeGreaterThanOrEqual(2);
      expect(later.every((r) => r.owner === second.job.owner)).toBe(true);
      const all = runs.map((r) => r.tick);
      expect(new Set(all).size).toBe(all.length);
    }, 20_000);
  });
});

/**
 * The retrain watch as a server job (retrain-watch.ts), on SQLite and
 * PostgreSQL: two instances on one database, each on its own timer, with a
 * retrain (a counting function) longer than a tick: retrains never overlap
 * and no tick runs twice; when the holder closes, the other goes on. And the
 * child process it runs a retrain in is the real `pipeline retrain`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDb } from '../testing/backends.ts';
import { listTicks } from './lease.ts';
import retrainWatch, { retrainInChild, retrainWatchConfigFromEnv } from './retrain-watch.ts';
import { databaseState, RETRAIN_WATCH_JOB } from '../../pipeline/watch.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('retrain watch settings', () => {
  it('is off unless a threshold is set, and refuses nonsense', () => {
    expect(retrainWatchConfigFromEnv({}).threshold).toBeNull();
    expect(retrainWatchConfigFromEnv({ RETRAIN_WATCH_THRESHOLD: '0' }).threshold).toBeNull();
    expect(retrainWatchConfigFromEnv({ RETRAIN_WATCH_THRESHOLD: '50', RETRAIN_WATCH_INTERVAL_MS: '5000' })).toEqual({ threshold: 50, intervalMs: 5000 });
    expect(() => retrainWatchConfigFromEnv({ RETRAIN_WATCH_THRESHOLD: 'many' })).toThrow(/RETRAIN_WATCH_THRESHOLD/);
    expect(() => retrainWatchConfigFromEnv({ RETRAIN_WATCH_THRESHOLD: '5', RETRAIN_WATCH_INTERVAL_MS: '10' })).toThrow(/RETRAIN_WATCH_INTERVAL_MS/);
  });

  it('runs `pipeline retrain` as a child process and reports its failure', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wildsight-retrain-child-'));
    const lines: string[] = [];
    await expect(retrainInChild({ dataDir: dir, registryDir: path.join(dir, 'no-registry') }, (l) => lines.push(l))).rejects.toThrow(/pipeline retrain exited with code [1-9]/);
    expect(lines.join('\n')).toMatch(/no-registry/);
  }, 120_000);
});

describe.each(BACKENDS)('retrain watch job on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb | null = null;
    const apps: FastifyInstance[] = [];
    afterEach(async () => {
      for (const a of apps.splice(0)) await a.close().catch(() => {});
      await db?.cleanup();
      db = null;
    });

    it('two instances on their own timers: retrains longer than a tick never overlap, no tick runs twice, and the job moves when the holder closes', async () => {
      db = await backend.create();
      const runs: Array<{ app: number; at: number }> = [];
      let active = 0,
        maxActive = 0,
        accepted = 0;
      for (let i = 0; i < 2; i++) {
        const store = await db.openStore();
        const app = Fastify({ logger: false });
        await app.register(
          fp(
            async (a) => {
              a.decorate('store', store);
              a.addHook('onClose', async () => store.close());
            },
            { name: 'storage' },
          ),
        );
        await app.register(retrainWatch, {
          config: { threshold: 1, intervalMs: 400, leaseMs: 1_500 },
          target: { dataDir: '/nonexistent', registryDir: '/nonexistent' },
          // Every check finds a new correction, so every tick the holder takes retrains.
          countAccepted: async () => ++accepted,
          retrain: async () => {
            active++;
            maxActive = Math.max(maxActive, active);
            runs.push({ app: i, at: Date.now() });
            await sleep(700); // longer than a tick, half the lease
            active--;
            return { runId: `run-${runs.length}`, registered: false };
          },
        });
        await app.ready();
        apps.push(app);
      }
      await sleep(4_000);
      expect(maxActive).toBe(1);
      expect(runs.length).toBeGreaterThanOrEqual(3);
      const holder = runs[0].app;
      expect(runs.every((r) => r.app === holder)).toBe(true);
      await apps[holder].close(); // releases the lease at once
      const before = runs.length;
      await sleep(2_500);
      const later = runs.slice(before);
      expect(later.length).toBeGreaterThanOrEqual(1);
      expect(later.every((r) => r.app !== holder)).toBe(true);
      expect(maxActive).toBe(1);
      const survivor = apps[1 - holder];
      const ticks = (await listTicks(survivor.store, RETRAIN_WATCH_JOB)).map((r) => r.tick);
      expect(new Set(ticks).size).toBe(ticks.length);
      expect((await databaseState(survivor.store).read()).lastRunId).toMatch(/^run-/);
    }, 60_000);
  });
});

/**
 * Jobs that take turns: two server instances on one database (SQLite file
 * or PostgreSQL schema) run the monitoring job's ticks one at a time, and
 * the other takes over when the holder goes away.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../testing/backends.ts';
import { startApp } from '../testing/http.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(BACKENDS)("the monitoring job's lease on $name", (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    it('runs each tick on one instance only, and moves to another when the holder stops', async () => {
      const db = await backend.create();
      // Ticks every 200 ms, lease held for 600 ms; the first tick comes 2 s after start.
      const monitoring = { intervalMs: 200, leaseMs: 600 };
      const a = await startApp({ ...db.appOptions, monitoring });
      const b = await startApp({ ...db.appOptions, monitoring });
      try {
        await sleep(3_500);
        const [ta, tb] = [a.app.monitoring.ticksRun(), b.app.monitoring.ticksRun()];
        // Both timers fired about 7 times; only one instance ran them.
        expect(ta + tb).toBeGreaterThanOrEqual(3);
        expect(Math.min(ta, tb)).toBe(0);
        const [holder, other] = ta > 0 ? [a, b] : [b, a];
        await holder.close();
        const before = other.app.monitoring.ticksRun();
        await sleep(1_500);
        expect(other.app.monitoring.ticksRun()).toBeGreaterThan(before);
      } finally {
        await a.close().catch(() => {});
        await b.close().catch(() => {});
        await db.cleanup();
      }
    }, 20_000);
  });
});

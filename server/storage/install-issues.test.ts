/**
 * INSTALLS_PER_HOUR counted in the database (install-issues.ts), on SQLite
 * and PostgreSQL: concurrent slot takers on separate connections never get
 * more than the limit; two server apps on one database together issue at
 * most the limit to one address; the table holds a salted key, never the
 * address; and the retention job deletes past hours even with no event or
 * photo retention set.
 */
import Fastify from 'fastify';
import fp from 'fastify-plugin';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDb } from '../testing/backends.ts';
import { request, startApp, type RunningApp } from '../testing/http.ts';
import type { FeedbackStore } from './types.ts';
import { hourOf, issuedThisHour, takeIssueSlot } from './install-issues.ts';
import retention from '../jobs/retention.ts';

const HOUR = 3_600_000;

describe.each(BACKENDS)('install issuing limit on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb | null = null;
    const stores: FeedbackStore[] = [];
    const apps: RunningApp[] = [];
    afterEach(async () => {
      for (const a of apps.splice(0)) await a.close().catch(() => {});
      for (const s of stores.splice(0)) await s.close().catch(() => {});
      await db?.cleanup();
      db = null;
    });
    const open = async () => {
      const s = await db!.openStore();
      stores.push(s);
      return s;
    };

    it('60 concurrent takers on three connections get exactly the limit, per key and hour', async () => {
      db = await backend.create();
      const conns = [await open(), await open(), await open()];
      const now = new Date();
      const won = await Promise.all(Array.from({ length: 60 }, (_, i) => takeIssueSlot(conns[i % 3], 'key-a', 7, now)));
      expect(won.filter(Boolean)).toHaveLength(7);
      expect(await issuedThisHour(conns[0], 'key-a', now)).toBe(7);
      // Another key, and the same key in the next hour, start from nothing.
      expect(await takeIssueSlot(conns[1], 'key-b', 7, now)).toBe(true);
      expect(await takeIssueSlot(conns[2], 'key-a', 7, new Date(now.getTime() + HOUR))).toBe(true);
    });

    it('two server apps on one database issue at most INSTALLS_PER_HOUR to one address, together', async () => {
      db = await backend.create();
      const opts = { ...db.appOptions, installsPerHour: 5, trustProxy: '127.0.0.1' };
      apps.push(await startApp(opts), await startApp(opts));
      const post = (i: number, address: string) => request(`${apps[i % 2].url}/v1/installs`, { method: 'POST', headers: { 'x-forwarded-for': address } });

      const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => post(i, '203.0.113.9')));
      const statuses = answers.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(19);
      const refused = answers.find((r) => r.status === 429)!;
      expect(refused.body).toEqual({ error: 'too many requests', message: expect.stringMatching(/more than 5 new installs this hour from this address/) });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(3600);

      // Another address is served; addresses of one IPv6 /64 share a count.
      expect((await post(0, '203.0.113.10')).status).toBe(201);
      const v6 = await Promise.all(Array.from({ length: 8 }, (_, i) => post(i, `2001:db8:1:2::${i + 1}`)));
      expect(v6.filter((r) => r.status === 201)).toHaveLength(5);
      expect((await post(1, '2001:db8:1:3::1')).status).toBe(201);

      // The counts name salted keys, never an address.
      const rows = await (
        await open()
      ).db
        .selectFrom('install_issues' as never)
        .selectAll()
        .execute();
      const text = JSON.stringify(rows);
      expect(rows.length).toBe(4);
      for (const address of ['203.0.113', '2001:db8']) expect(text).not.toContain(address);
    }, 60_000);

    it('the retention job deletes past hours, also with no event or photo retention set', async () => {
      db = await backend.create();
      const store = await open();
      const now = new Date();
      await takeIssueSlot(store, 'old', 3, new Date(now.getTime() - 2 * HOUR));
      await takeIssueSlot(store, 'old', 3, new Date(now.getTime() - HOUR));
      await takeIssueSlot(store, 'current', 3, now);
      const app = Fastify({ logger: false });
      await app.register(
        fp(
          async (a) => {
            a.decorate('store', store);
          },
          { name: 'storage' },
        ),
      );
      await app.register(retention, { config: { retentionDays: null, photoRetentionDays: null, intervalMs: HOUR } });
      await app.ready();
      try {
        expect(await app.retention.runTick(now)).toBe(true);
      } finally {
        await app.close();
      }
      const left = (await store.db
        .selectFrom('install_issues' as never)
        .selectAll()
        .execute()) as Array<{ address_key: string; hour: string }>;
      expect(left.map((r) => [r.address_key, r.hour])).toEqual([['current', hourOf(now)]]);
    });
  });
});

/**
 * Retention on SQLite and PostgreSQL: raw identification and model_status
 * events past RETENTION_DAYS go, corrections stay, and monitoring (which
 * reads the rollups) answers exactly as before; photos expire on their own
 * schedule. The settings refuse what would lose data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { BACKENDS, type TestDb } from '../testing/backends.ts';
import { cleanJpeg, correction, embedding, identification } from '../testing/fixtures.ts';
import Fastify from 'fastify';
import fp from 'fastify-plugin';
import retention, { applyRetention, retentionConfigFromEnv } from './retention.ts';
import { computeDrift, metricsReport, monitoringDb, qualityDays } from '../storage/monitoring-store.ts';
import type { FeedbackStore } from '../storage/types.ts';

const DAY = 86_400_000;
const NOW = new Date('2026-11-20T12:00:00.000Z');
const hourAgo = (days: number, h = 0) => new Date(Date.parse('2026-11-20T00:00:00.000Z') - days * DAY + h * 3_600_000).toISOString();

describe('retention settings', () => {
  it('are off unless set, and refuse a raw-event retention shorter than a correction may wait', () => {
    expect(retentionConfigFromEnv({})).toMatchObject({ retentionDays: null, photoRetentionDays: null });
    expect(retentionConfigFromEnv({ RETENTION_DAYS: '30', PHOTO_RETENTION_DAYS: '14' })).toMatchObject({ retentionDays: 30, photoRetentionDays: 14 });
    expect(() => retentionConfigFromEnv({ RETENTION_DAYS: '3' })).toThrow(/RETENTION_DAYS must be a number of days of at least 8/);
    expect(() => retentionConfigFromEnv({ PHOTO_RETENTION_DAYS: 'soon' })).toThrow(/PHOTO_RETENTION_DAYS/);
  });
});

describe.each(BACKENDS)('retention on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb;
    let store: FeedbackStore;
    beforeAll(async () => {
      db = await backend.create();
      store = await db.openStore();
    });
    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
    });

    it('deletes old raw events and photos, keeps corrections, and monitoring reads the same after', async () => {
      const installs = Array.from({ length: 30 }, () => randomUUID());
      const events = [];
      // 40 days of identifications, 30 installs a day.
      for (let d = 40; d >= 0; d--) for (const [i, installId] of installs.entries()) events.push(identification({ installId, hour: hourAgo(d, i % 24), abstain: i % 7 === 0 }));
      const old = events[0];
      const oldFix = correction({
        installId: old.installId,
        correctsEventId: old.eventId,
        modelVersion: old.modelVersion,
        hour: old.hour,
        embedding: embedding(8),
        photo: { mimeType: 'image/jpeg', dataBase64: (await cleanJpeg()).toString('base64'), width: 96, height: 64 },
      });
      const recent = events[events.length - 1];
      const newFix = correction({
        installId: recent.installId,
        correctsEventId: recent.eventId,
        modelVersion: recent.modelVersion,
        hour: recent.hour,
        embedding: embedding(8),
        photo: { mimeType: 'image/jpeg', dataBase64: (await cleanJpeg()).toString('base64'), width: 96, height: 64 },
      });
      await store.insertBatch([...events, oldFix], new Date(NOW.getTime() - 40 * DAY));
      await store.insertBatch([newFix], NOW);
      const m = monitoringDb(store);
      const range = { from: `${hourAgo(45).slice(0, 10)}T00:00:00.000Z`, to: `${hourAgo(-1).slice(0, 10)}T00:00:00.000Z` };
      const before = [await metricsReport(m, { ...range, bucket: 'day' }), await computeDrift(m, { minEvents: 10 }), await qualityDays(m)];

      const result = await applyRetention(store.db, { retentionDays: 30, photoRetentionDays: 14 }, NOW);
      // Days 31..40 before NOW's day go (hours before 2026-10-21T12:00).
      const cutoff = new Date(NOW.getTime() - 30 * DAY).toISOString();
      // The identification a correction cites stays.
      const kept = events.filter((e) => e.hour >= cutoff || e === old).length;
      expect(result).toEqual({ events: events.length - kept, photos: 1 });
      expect(result.events).toBeGreaterThan(250);
      const ids = await db.storedEventIds();
      expect(ids.has(old.eventId)).toBe(true);
      expect(ids.has(events[1].eventId)).toBe(false);
      expect(ids.has(recent.eventId)).toBe(true);
      // The correction and its event row stay; its photo went, the recent one's did not.
      expect(ids.has(oldFix.eventId)).toBe(true);
      expect(await store.getPhoto(oldFix.eventId)).toBeNull();
      expect(await store.getPhoto(newFix.eventId)).not.toBeNull();
      const listed = (await store.listCorrections({ limit: 10 })).items;
      expect(listed.find((c) => c.eventId === oldFix.eventId)?.hasPhoto).toBe(false);
      expect(listed.find((c) => c.eventId === newFix.eventId)?.hasPhoto).toBe(true);

      const after = [await metricsReport(m, { ...range, bucket: 'day' }), await computeDrift(m, { minEvents: 10 }), await qualityDays(m)];
      expect(after).toEqual(before);
      expect((before[0] as Awaited<ReturnType<typeof metricsReport>>).series.length).toBe(41);
      // A second pass finds nothing left to do.
      expect(await applyRetention(store.db, { retentionDays: 30, photoRetentionDays: 14 }, NOW)).toEqual({ events: 0, photos: 0 });
    }, 60_000);

    it('runs each scheduled tick on one instance only (job ticks), and that instance deletes', async () => {
      // Two instances of the plugin on one database, woken at the same moment.
      const apps = await Promise.all(
        [0, 1].map(async () => {
          const own = await db.openStore();
          const app = Fastify({ logger: false });
          await app.register(
            fp(
              async (a) => {
                a.decorate('store', own);
                a.addHook('onClose', async () => own.close());
              },
              { name: 'storage' },
            ),
          );
          await app.register(retention, { config: { retentionDays: 30, photoRetentionDays: null, intervalMs: 3_600_000 } });
          await app.ready();
          return app;
        }),
      );
      try {
        const old = identification({ installId: randomUUID(), hour: new Date(Date.now() - 40 * DAY).toISOString().slice(0, 13) + ':00:00.000Z' });
        await store.insertBatch([old], new Date(Date.now() - 40 * DAY));
        const now = new Date();
        const ran = await Promise.all(apps.map((a) => a.retention.runTick(now)));
        expect(ran.filter(Boolean)).toHaveLength(1);
        expect((await db.storedEventIds()).has(old.eventId)).toBe(false);
        // The same tick again: already claimed, nobody runs it.
        expect((await Promise.all(apps.map((a) => a.retention.runTick(now)))).some(Boolean)).toBe(false);
      } finally {
        for (const a of apps) await a.close();
      }
    }, 60_000);
  });
});

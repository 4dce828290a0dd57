/**
 * Migration 0005 on a database that already holds events (SQLite file and
 * PostgreSQL): the events table takes model_status reports afterwards, every
 * earlier row and index survives SQLite's table rebuild, and the CHECK and
 * the corrections' foreign key still hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Migrator, sql, type Kysely } from 'kysely';
import { BACKENDS, type TestDb } from '../../testing/backends.ts';
import { correction, identification } from '../../testing/fixtures.ts';
import { migrationProvider } from './index.ts';
import type { KyselyFeedbackStore } from '../kysely-store.ts';
import { truncateToHour } from '../../../core/telemetry.ts';

describe.each(BACKENDS)('migration 0005 on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb;
    let store: KyselyFeedbackStore;
    const raw = () => store.db as unknown as Kysely<any>;
    const id = identification({ eventId: randomUUID(), installId: randomUUID() });
    const fix = correction({ eventId: randomUUID(), installId: id.installId, correctsEventId: id.eventId });

    beforeAll(async () => {
      db = await backend.create();
      store = (await db.openStore()) as KyselyFeedbackStore;
      // Up to 0004 only, as a database made before this change would be.
      if (store.kind === 'postgres') await sql`create schema if not exists ${sql.id(db.appOptions.databaseSchema!)}`.execute(raw());
      const schema = store.kind === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(raw())).rows[0].s : undefined;
      const migrator = new Migrator({ db: raw(), provider: migrationProvider(store.kind), migrationTableSchema: schema });
      const { error } = await migrator.migrateTo('0004_installs');
      if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
      // Rows as the code of that time wrote them (today's insertBatch also writes the rollups of 0007).
      const at = new Date().toISOString();
      const row = (e: typeof id | typeof fix) => ({
        event_id: e.eventId,
        type: e.type,
        install_id: e.installId,
        model_version: e.modelVersion,
        hour: e.hour,
        received_at: at,
        payload: JSON.stringify(e),
      });
      await raw()
        .insertInto('events')
        .values([row(id), row(fix)])
        .execute();
      await raw()
        .insertInto('corrections')
        .values({
          event_id: fix.eventId,
          corrects_event_id: id.eventId,
          taxon_id: fix.taxonId,
          proposed_name: null,
          verdict: fix.verdict,
          embedding: new Uint8Array(4),
          embedding_dim: 1,
          model_version: fix.modelVersion,
          install_id: fix.installId,
          status: 'pending',
          has_photo: 0,
          cell_lat: null,
          cell_lon: null,
          hour: fix.hour,
          received_at: at,
          grounding: 'grounded',
          counted: 1,
        })
        .execute();
      await expect(
        raw()
          .insertInto('events')
          .values({ ...row(id), event_id: randomUUID(), type: 'model_status' })
          .execute(),
      ).rejects.toThrow(/check/i);
      await store.migrate();
    });
    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
    });

    it('keeps every earlier row and takes model_status reports', async () => {
      const rows = await raw().selectFrom('events').select(['event_id', 'type']).orderBy('type').execute();
      expect(rows).toEqual([
        { event_id: fix.eventId, type: 'correction' },
        { event_id: id.eventId, type: 'identification' },
      ]);
      const status = {
        type: 'model_status' as const,
        eventId: randomUUID(),
        installId: id.installId,
        modelVersion: id.modelVersion,
        outcome: 'failed-to-start' as const,
        reason: 'session-create',
        appVersion: '0.1.0',
        hour: truncateToHour(Date.now()),
      };
      expect((await store.insertBatch([status])).stored).toHaveLength(1);
      expect((await store.listEvents({ type: 'model_status', limit: 10 })).items.map((e) => e.eventId)).toEqual([status.eventId]);
      expect(await raw().selectFrom('rollouts').select('holdback').execute()).toEqual([]);
      // 0007 folded the identification stored before it into the rollups, and its grounded correction.
      const counts = await raw().selectFrom('rollup_counts').select(['dim', 'key', 'n']).where('dim', '=', 'label').execute();
      expect(counts.map((c) => [c.key, Number(c.n)])).toEqual([[id.top5[0].taxonId, 1]]);
      expect((await raw().selectFrom('rollup_corrections').select('n').execute()).map((c) => Number(c.n))).toEqual([1]);
    });

    it('still refuses other types and corrections of events that do not exist', async () => {
      const base = { install_id: randomUUID(), model_version: '1.0.0', hour: '2026-11-29T17:00:00.000Z', received_at: '2026-11-29T17:10:00.000Z', payload: '{}' };
      await expect(
        raw()
          .insertInto('events')
          .values({ ...base, event_id: randomUUID(), type: 'click' })
          .execute(),
      ).rejects.toThrow(/check/i);
      await expect(
        raw()
          .insertInto('corrections')
          .values({
            event_id: randomUUID(),
            corrects_event_id: randomUUID(),
            taxon_id: 'lynx',
            proposed_name: null,
            verdict: 'corrected',
            embedding: new Uint8Array(4),
            embedding_dim: 1,
            model_version: '1.0.0',
            install_id: base.install_id,
            status: 'pending',
            has_photo: 0,
            cell_lat: null,
            cell_lon: null,
            hour: base.hour,
            received_at: base.received_at,
          })
          .execute(),
      ).rejects.toThrow(/foreign key/i);
    });

    it.runIf(backend.name === 'sqlite')('recreates the events indexes after the rebuild', async () => {
      const names = (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'events' and sql is not null`.execute(raw())).rows.map((r) => r.name).sort();
      expect(names).toEqual(expect.arrayContaining(['events_received', 'events_type_hour', 'events_type_received', 'events_version_type_received']));
    });
  });
});

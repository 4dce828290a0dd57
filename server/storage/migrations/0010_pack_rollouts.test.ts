/**
 * Migration 0010 on a database that already holds rollouts and events
 * (SQLite file and PostgreSQL): the base model's status rows, rollouts and
 * change log keep their values under the model key 'base', identifications
 * a pack answered get their pack id and version, and the migration goes
 * down and up again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Migrator, sql, type Kysely } from 'kysely';
import { BACKENDS, type TestDb } from '../../testing/backends.ts';
import { identification, TAXON_IDS } from '../../testing/fixtures.ts';
import { migrationProvider } from './index.ts';
import type { KyselyFeedbackStore } from '../kysely-store.ts';

describe.each(BACKENDS)('migration 0010 on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb;
    let store: KyselyFeedbackStore;
    let migrator: Migrator;
    const raw = () => store.db as unknown as Kysely<any>;
    const plain = identification({ eventId: randomUUID(), installId: randomUUID() });
    const withPack = identification({ eventId: randomUUID(), installId: randomUUID(), pack: { id: 'inat-birds', version: '1.0.0', routedBy: 'rollup', top5: [{ taxonId: TAXON_IDS[0], p: 0.9 }] } });
    const migrateTo = async (name: string) => {
      const { error } = await migrator.migrateTo(name);
      if (error) throw error instanceof Error ? error : new Error(JSON.stringify(error));
    };

    beforeAll(async () => {
      db = await backend.create();
      store = (await db.openStore()) as KyselyFeedbackStore;
      if (store.kind === 'postgres') await sql`create schema if not exists ${sql.id(db.appOptions.databaseSchema!)}`.execute(raw());
      const schema = store.kind === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(raw())).rows[0].s : undefined;
      migrator = new Migrator({ db: raw(), provider: migrationProvider(store.kind), migrationTableSchema: schema });
      // As a database made before this change would be (down through 0010 if the store ran it).
      await migrateTo('0008_shadow_rollup');
      const at = new Date().toISOString();
      const row = (e: typeof plain) => ({ event_id: e.eventId, type: e.type, install_id: e.installId, model_version: e.modelVersion, hour: e.hour, received_at: at, payload: JSON.stringify(e) });
      await raw()
        .insertInto('events')
        .values([row(plain), row(withPack)])
        .execute();
      await raw().insertInto('model_status').values({ version: '1.0.0', status: 'active', shadow_rate: null, updated_at: at }).execute();
      await raw()
        .insertInto('rollouts')
        .values({ id: 'r1', version: '0.9.0', control_version: '1.0.0', percent: 5, state: 'rolled_back', plan: '[5,100]', started_at: at, stepped_at: at, ended_at: at, holdback: 5 })
        .execute();
      await raw().insertInto('model_changes').values({ id: 'c1', at, action: 'rollback', version: '0.9.0', rollout_id: 'r1', percent: 5, actor: 'admin', reason: 'x', details: null }).execute();
      await migrator.migrateToLatest();
    });
    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
    });

    it('keys the base model rows as base and fills the pack columns of identifications a pack answered', async () => {
      expect(await raw().selectFrom('model_status').select(['model', 'version', 'status']).execute()).toEqual([{ model: 'base', version: '1.0.0', status: 'active' }]);
      expect(await raw().selectFrom('rollouts').select(['model', 'id']).execute()).toEqual([{ model: 'base', id: 'r1' }]);
      expect(await raw().selectFrom('model_changes').select(['model', 'id']).execute()).toEqual([{ model: 'base', id: 'c1' }]);
      const events = await raw().selectFrom('events').select(['event_id', 'pack_id', 'pack_version']).orderBy('event_id').execute();
      expect(Object.fromEntries(events.map((e: any) => [e.event_id, [e.pack_id, e.pack_version]]))).toEqual({ [plain.eventId]: [null, null], [withPack.eventId]: ['inat-birds', '1.0.0'] });
      // A pack's 1.0.0 and the base model's 1.0.0 are two rows now.
      await raw().insertInto('model_status').values({ model: 'inat-birds', version: '1.0.0', status: 'canary', shadow_rate: null, updated_at: new Date().toISOString() }).execute();
      expect(await raw().selectFrom('model_status').select('model').where('version', '=', '1.0.0').orderBy('model').execute()).toEqual([{ model: 'base' }, { model: 'inat-birds' }]);
    });

    it('goes down (the packs rows dropped, the base ones kept) and up again', async () => {
      await migrateTo('0008_shadow_rollup');
      expect(await raw().selectFrom('model_status').selectAll().execute()).toEqual([expect.objectContaining({ version: '1.0.0', status: 'active' })]);
      await migrator.migrateToLatest();
      expect(await raw().selectFrom('model_status').select(['model', 'version']).execute()).toEqual([{ model: 'base', version: '1.0.0' }]);
    });
  });
});

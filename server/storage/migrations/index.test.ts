/**
 * Migrations written on parallel branches: a database that ran a later
 * migration before an earlier one was merged (here 0015 before 0010) gets the
 * earlier one at its next start instead of refusing to start (SQLite file and
 * PostgreSQL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { BACKENDS, type TestDb } from '../../testing/backends.ts';
import { migrateToLatest, migrationProvider } from './index.ts';
import type { KyselyFeedbackStore } from '../kysely-store.ts';

describe.each(BACKENDS)('migrations out of order on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb;
    let store: KyselyFeedbackStore;
    const raw = () => store.db as unknown as Kysely<any>;

    beforeAll(async () => {
      db = await backend.create();
      store = (await db.openStore()) as KyselyFeedbackStore;
      await store.migrate();
    });
    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
    });

    it('runs a migration that appeared after later ones had run', async () => {
      const name = '0010_pack_rollouts';
      const migrations = await migrationProvider(store.kind).getMigrations();
      await migrations[name].down!(raw());
      await raw().deleteFrom('kysely_migration').where('name', '=', name).execute();
      const later = await raw().selectFrom('kysely_migration').select('name').where('name', '>', name).execute();
      expect(later.length).toBeGreaterThan(3);
      await migrateToLatest(raw(), store.kind);
      expect((await raw().selectFrom('kysely_migration').select('name').where('name', '=', name).execute()).length).toBe(1);
      // What 0010 adds is there again.
      await sql`select pack_id, pack_version from events where 1 = 0`.execute(raw());
      await sql`select model from rollouts where 1 = 0`.execute(raw());
    });
  });
});

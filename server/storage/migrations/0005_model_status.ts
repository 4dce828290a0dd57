/**
 * 0005: device health reaches the rollout guard.
 *
 * - events.type may also be 'model_status': a device's report that a model
 *   version loaded, was refused (incompatible, bytes failing their check),
 *   would not start, or failed on identifications (core/telemetry.ts).
 *   PostgreSQL changes the CHECK in place. SQLite cannot alter a CHECK, so
 *   the table is rebuilt from its own CREATE statement with only the CHECK
 *   changed (whatever columns earlier migrations gave it), rows copied, and
 *   its indexes recreated from their own statements; foreign keys are off
 *   for the swap (corrections reference events) and checked after it.
 * - rollouts.holdback: the share of devices kept on the control at the
 *   plan's last step until promotion (core/rollout.ts). Rollouts started
 *   before this migration had none, so the column defaults to 0 for them.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { Flavor } from './index.ts';

const OLD_CHECK = `type in ('identification', 'correction')`;
const NEW_CHECK = `type in ('identification', 'correction', 'model_status')`;

async function rebuildSqliteEvents(db: Kysely<any>, from: string, to: string) {
  const table = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'events'`.execute(db);
  const create = table.rows[0]?.sql;
  if (!create || !create.includes(from)) throw new Error(`events table has no CHECK "${from}" to change; its schema is not what migration 0005 expects`);
  const indexes = await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and tbl_name = 'events' and sql is not null`.execute(db);
  const rebuilt = create.replace(from, to).replace(/^CREATE TABLE\s+("?)events\1/i, 'CREATE TABLE "events_0005"');
  if (rebuilt === create || !rebuilt.includes('"events_0005"')) throw new Error('could not rewrite the events table statement');
  // PRAGMA foreign_keys is a no-op inside a transaction, so it is set around it (SQLite migrations run without one).
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await db.transaction().execute(async (tx) => {
      await sql.raw(rebuilt).execute(tx);
      await sql`insert into events_0005 select * from events`.execute(tx);
      await sql`drop table events`.execute(tx);
      await sql`alter table events_0005 rename to events`.execute(tx);
      for (const i of indexes.rows) await sql.raw(i.sql).execute(tx);
      const broken = await sql`pragma foreign_key_check`.execute(tx);
      if (broken.rows.length) throw new Error(`foreign keys broken by the events rebuild: ${JSON.stringify(broken.rows.slice(0, 3))}`);
    });
  } finally {
    await sql`pragma foreign_keys = on`.execute(db);
  }
}

export function modelStatus(flavor: Flavor): Record<string, Migration> {
  return {
    '0005_model_status': {
      async up(db: Kysely<any>) {
        if (flavor === 'postgres') {
          // A column CHECK created without a name is called <table>_<column>_check.
          await sql`alter table events drop constraint if exists events_type_check`.execute(db);
          await sql.raw(`alter table events add constraint events_type_check check (${NEW_CHECK})`).execute(db);
        } else {
          await rebuildSqliteEvents(db, OLD_CHECK, NEW_CHECK);
        }
        // The guard reads one version's events of one type in a window, per install.
        await db.schema.createIndex('events_version_type_received').on('events').columns(['model_version', 'type', 'received_at']).execute();
        await db.schema
          .alterTable('rollouts')
          .addColumn('holdback', 'double precision', (c) => c.notNull().defaultTo(0))
          .execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.alterTable('rollouts').dropColumn('holdback').execute();
        await db.schema.dropIndex('events_version_type_received').execute();
        await db.deleteFrom('events').where('type', '=', 'model_status').execute();
        if (flavor === 'postgres') {
          await sql`alter table events drop constraint if exists events_type_check`.execute(db);
          await sql.raw(`alter table events add constraint events_type_check check (${OLD_CHECK})`).execute(db);
        } else {
          await rebuildSqliteEvents(db, NEW_CHECK, OLD_CHECK);
        }
      },
    },
  };
}

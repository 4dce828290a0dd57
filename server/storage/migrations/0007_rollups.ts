/**
 * 0007: rollups, so monitoring reads what is new instead of every event
 * ever stored (issue #17). The tables are described in ../rollup-rows.ts;
 * ../rollups.ts keeps them, inside insertBatch's transaction.
 *
 * Existing events are folded in here, a page at a time, and the per-day
 * 'stored' counter the quality report reads (quality_counts kind 'stored',
 * by day of arrival) is filled from them, since retention (server/jobs/retention.ts)
 * may later delete the raw rows it used to be counted from.
 */
import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { Flavor } from './index.ts';
import { addCorrections, addIdentifications, addPairs, correctionsWithCited, pairChanges, rebuildHeavy } from '../rollups.ts';
import { pagesByEventId } from '../event-pages.ts';

const PAGE = 5000;

async function backfill(db: Kysely<any>) {
  const identifications = db.selectFrom('events').select(['event_id', 'install_id', 'model_version', 'hour', 'payload']).where('type', '=', 'identification');
  for await (const rows of pagesByEventId(identifications, PAGE)) await addIdentifications(db, rows, { heavy: 'defer' });
  await rebuildHeavy(db);
  const evidence = await db.selectFrom('corrections').select(['model_version', 'hour', 'install_id', 'verdict']).where('grounding', '=', 'grounded').where('counted', '=', 1).execute();
  await addCorrections(db, evidence);
  await addPairs(db, pairChanges(await correctionsWithCited(db).execute(), 1));
  await sql`insert into quality_counts (day, kind, count)
    select substr(received_at, 1, 10), 'stored', count(*) from events group by substr(received_at, 1, 10)`.execute(db);
}

const count = (c: ColumnDefinitionBuilder) => c.notNull();

export function rollups(_flavor: Flavor): Record<string, Migration> {
  return {
    '0007_rollups': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('rollup_counts')
          .addColumn('model_version', 'text', count)
          .addColumn('hour', 'text', count)
          .addColumn('dim', 'text', count)
          .addColumn('key', 'text', count)
          .addColumn('n', 'bigint', count)
          .addPrimaryKeyConstraint('rollup_counts_pk', ['model_version', 'hour', 'dim', 'key'])
          .execute();
        // Drift and the dashboard read one dimension over a range of hours.
        await db.schema.createIndex('rollup_counts_dim_hour').on('rollup_counts').columns(['dim', 'hour']).execute();

        await db.schema
          .createTable('rollup_day_counts')
          .addColumn('model_version', 'text', count)
          .addColumn('day', 'text', count)
          .addColumn('dim', 'text', count)
          .addColumn('key', 'text', count)
          .addColumn('n', 'bigint', count)
          .addPrimaryKeyConstraint('rollup_day_counts_pk', ['model_version', 'day', 'dim', 'key'])
          .execute();

        await db.schema
          .createTable('rollup_install_hours')
          .addColumn('model_version', 'text', count)
          .addColumn('hour', 'text', count)
          .addColumn('install_id', 'text', count)
          .addColumn('n', 'bigint', count)
          .addPrimaryKeyConstraint('rollup_install_hours_pk', ['model_version', 'hour', 'install_id'])
          .execute();
        await db.schema.createIndex('rollup_install_hours_install').on('rollup_install_hours').columns(['install_id']).execute();

        await db.schema
          .createTable('rollup_install_days')
          .addColumn('model_version', 'text', count)
          .addColumn('day', 'text', count)
          .addColumn('install_id', 'text', count)
          .addColumn('n', 'bigint', count)
          .addPrimaryKeyConstraint('rollup_install_days_pk', ['model_version', 'day', 'install_id'])
          .execute();
        // Who passed the cap: few rows, found without reading the rest.
        await db.schema.createIndex('rollup_install_days_n').on('rollup_install_days').columns(['n', 'day']).execute();
        await db.schema.createIndex('rollup_install_days_install').on('rollup_install_days').columns(['install_id']).execute();

        await db.schema
          .createTable('rollup_heavy')
          .addColumn('install_id', 'text', count)
          .addColumn('model_version', 'text', count)
          .addColumn('hour', 'text', count)
          .addColumn('dim', 'text', count)
          .addColumn('key', 'text', count)
          .addColumn('n', 'bigint', count)
          .addPrimaryKeyConstraint('rollup_heavy_pk', ['install_id', 'model_version', 'hour', 'dim', 'key'])
          .execute();

        await db.schema
          .createTable('rollup_corrections')
          .addColumn('model_version', 'text', count)
          .addColumn('hour', 'text', count)
          .addColumn('install_id', 'text', count)
          .addColumn('verdict', 'text', count)
          .addColumn('n', 'bigint', count)
          .addPrimaryKeyConstraint('rollup_corrections_pk', ['model_version', 'hour', 'install_id', 'verdict'])
          .execute();
        await db.schema.createIndex('rollup_corrections_install').on('rollup_corrections').columns(['install_id']).execute();

        // Retention deletes by hour; photos expire by arrival.
        await db.schema.createIndex('photos_received').on('photos').columns(['received_at']).execute();

        await backfill(db);
      },
      async down(db: Kysely<any>) {
        await db.deleteFrom('quality_counts').where('kind', '=', 'stored').execute();
        await db.schema.dropIndex('photos_received').execute();
        for (const t of ['rollup_corrections', 'rollup_heavy', 'rollup_install_days', 'rollup_install_hours', 'rollup_day_counts', 'rollup_counts']) await db.schema.dropTable(t).execute();
      },
    },
  };
}

/**
 * 0012: species-pack rollups (issue #15): per pack id, pack version and hour
 * (and day), runs, routing, top-1 labels, confidence bins and corrections,
 * so the dashboard and drift can say how each pack version does without
 * reading raw events. The tables are described in ../pack-rollup-rows.ts;
 * ../pack-rollups.ts keeps them, inside insertBatch's transaction.
 * Identifications already stored are folded in here, a page at a time.
 */
import type { ColumnDefinitionBuilder, Kysely, Migration } from 'kysely';
import type { Flavor } from './index.ts';
import { addAllPackVerdicts, addPackRuns, packRuns, rebuildPackHeavy, type PackSource } from '../pack-rollups.ts';

const PAGE = 5000;

async function backfill(db: Kysely<any>) {
  let after = '';
  for (;;) {
    const rows: PackSource[] = await db
      .selectFrom('events')
      .select(['event_id', 'install_id', 'hour', 'payload'])
      .where('type', '=', 'identification')
      .where('event_id', '>', after)
      .orderBy('event_id')
      .limit(PAGE)
      .execute();
    if (!rows.length) break;
    await addPackRuns(db, packRuns(rows), { heavy: 'defer' });
    after = rows[rows.length - 1].event_id;
  }
  await rebuildPackHeavy(db);
  await addAllPackVerdicts(db);
}

const count = (c: ColumnDefinitionBuilder) => c.notNull();
const TABLES = ['rollup_pack_retired', 'rollup_pack_heavy', 'rollup_pack_install_days', 'rollup_pack_day_counts', 'rollup_pack_counts'];

export function packRollups(_flavor: Flavor): Record<string, Migration> {
  return {
    '0012_pack_rollups': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('rollup_pack_counts')
          .addColumn('pack_id', 'text', count)
          .addColumn('pack_version', 'text', count)
          .addColumn('hour', 'text', count)
          .addColumn('dim', 'text', count)
          .addColumn('key', 'text', count)
          .addColumn('n', 'bigint', count)
          .addPrimaryKeyConstraint('rollup_pack_counts_pk', ['pack_id', 'pack_version', 'hour', 'dim', 'key'])
          .execute();
        await db.schema
          .createTable('rollup_pack_day_counts')
          .addColumn('pack_id', 'text', count)
          .addColumn('pack_version', 'text', count)
          .addColumn('day', 'text', count)
          .addColumn('dim', 'text', count)
          .addColumn('key', 'text', count)
          .addColumn('n', 'bigint', count)
          .addPrimaryKeyConstraint('rollup_pack_day_counts_pk', ['pack_id', 'pack_version', 'day', 'dim', 'key'])
          .execute();
        // The dashboard reads a range of days of every pack.
        await db.schema.createIndex('rollup_pack_day_counts_day').on('rollup_pack_day_counts').columns(['day']).execute();
        await db.schema
          .createTable('rollup_pack_install_days')
          .addColumn('pack_id', 'text', count)
          .addColumn('pack_version', 'text', count)
          .addColumn('day', 'text', count)
          .addColumn('install_id', 'text', count)
          .addColumn('n', 'bigint', count)
          .addPrimaryKeyConstraint('rollup_pack_install_days_pk', ['pack_id', 'pack_version', 'day', 'install_id'])
          .execute();
        // Who passed the cap: few rows, found without reading the rest; and "delete my data" by install.
        await db.schema.createIndex('rollup_pack_install_days_n').on('rollup_pack_install_days').columns(['n', 'day']).execute();
        await db.schema.createIndex('rollup_pack_install_days_install').on('rollup_pack_install_days').columns(['install_id']).execute();
        await db.schema
          .createTable('rollup_pack_heavy')
          .addColumn('install_id', 'text', count)
          .addColumn('pack_id', 'text', count)
          .addColumn('pack_version', 'text', count)
          .addColumn('day', 'text', count)
          .addColumn('dim', 'text', count)
          .addColumn('key', 'text', count)
          .addColumn('n', 'bigint', count)
          .addPrimaryKeyConstraint('rollup_pack_heavy_pk', ['install_id', 'pack_id', 'pack_version', 'day', 'dim', 'key'])
          .execute();
        await db.schema
          .createTable('rollup_pack_retired')
          .addColumn('install_id', 'text', count)
          .addColumn('pack_id', 'text', count)
          .addColumn('pack_version', 'text', count)
          .addColumn('hour', 'text', count)
          .addColumn('dim', 'text', count)
          .addColumn('key', 'text', count)
          .addColumn('n', 'bigint', count)
          .addPrimaryKeyConstraint('rollup_pack_retired_pk', ['install_id', 'pack_id', 'pack_version', 'hour', 'dim', 'key'])
          .execute();
        await backfill(db);
      },
      async down(db: Kysely<any>) {
        for (const t of TABLES) await db.schema.dropTable(t).execute();
      },
    },
  };
}

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
import { addAllPackVerdicts, addPackRuns, packRuns, rebuildPackHeavy } from '../pack-rollups.ts';
import { pagesByEventId } from '../event-pages.ts';

const PAGE = 5000;

async function backfill(db: Kysely<any>) {
  const identifications = db.selectFrom('events').select(['event_id', 'install_id', 'hour', 'payload']).where('type', '=', 'identification');
  for await (const rows of pagesByEventId(identifications, PAGE)) await addPackRuns(db, packRuns(rows), { heavy: 'defer' });
  await rebuildPackHeavy(db);
  await addAllPackVerdicts(db);
}

const count = (c: ColumnDefinitionBuilder) => c.notNull();
const TABLES = ['rollup_pack_retired', 'rollup_pack_heavy', 'rollup_pack_install_days', 'rollup_pack_day_counts', 'rollup_pack_counts'];

/**
 * A table of counts: text key columns, a bigint n, the keys as its primary
 * key (typed as never: kysely types a constraint's columns from the ones it
 * has seen added, which the loop hides from it).
 */
async function countTable(db: Kysely<any>, name: string, keys: readonly string[]) {
  let t = db.schema.createTable(name);
  for (const k of keys) t = t.addColumn(k, 'text', count);
  await t
    .addColumn('n', 'bigint', count)
    .addPrimaryKeyConstraint(`${name}_pk`, keys as never)
    .execute();
}

export function packRollups(_flavor: Flavor): Record<string, Migration> {
  return {
    '0012_pack_rollups': {
      async up(db: Kysely<any>) {
        await countTable(db, 'rollup_pack_counts', ['pack_id', 'pack_version', 'hour', 'dim', 'key']);
        await countTable(db, 'rollup_pack_day_counts', ['pack_id', 'pack_version', 'day', 'dim', 'key']);
        // The dashboard reads a range of days of every pack.
        await db.schema.createIndex('rollup_pack_day_counts_day').on('rollup_pack_day_counts').columns(['day']).execute();
        await countTable(db, 'rollup_pack_install_days', ['pack_id', 'pack_version', 'day', 'install_id']);
        // Who passed the cap: few rows, found without reading the rest; and "delete my data" by install.
        await db.schema.createIndex('rollup_pack_install_days_n').on('rollup_pack_install_days').columns(['n', 'day']).execute();
        await db.schema.createIndex('rollup_pack_install_days_install').on('rollup_pack_install_days').columns(['install_id']).execute();
        await countTable(db, 'rollup_pack_heavy', ['install_id', 'pack_id', 'pack_version', 'day', 'dim', 'key']);
        await countTable(db, 'rollup_pack_retired', ['install_id', 'pack_id', 'pack_version', 'hour', 'dim', 'key']);
        await backfill(db);
      },
      async down(db: Kysely<any>) {
        for (const t of TABLES) await db.schema.dropTable(t).execute();
      },
    },
  };
}

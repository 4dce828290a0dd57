/**
 * 0008: shadow runs as a rollup (rollup_shadow, ../rollup-rows.ts), so the
 * rollout guard and the models view read per-install sums instead of
 * parsing the payload of every identification ever stored (issue #17).
 * ../rollups.ts addShadowRuns keeps it inside insertBatch's transaction;
 * existing identifications are folded in here, a page at a time.
 */
import type { ColumnDefinitionBuilder, Kysely, Migration } from 'kysely';
import type { Flavor } from './index.ts';
import { addShadowRuns } from '../rollups.ts';
import { pagesByEventId } from '../event-pages.ts';

const PAGE = 5000;

async function backfill(db: Kysely<any>) {
  const identifications = db.selectFrom('events').select(['event_id', 'install_id', 'payload']).where('type', '=', 'identification');
  for await (const rows of pagesByEventId(identifications, PAGE) as AsyncGenerator<Array<{ install_id: string; payload: string }>>) {
    await addShadowRuns(
      db,
      rows.map((r) => ({ install_id: r.install_id, shadow: (JSON.parse(r.payload) as { shadow?: unknown }).shadow })),
    );
  }
}

const count = (c: ColumnDefinitionBuilder) => c.notNull();

export function shadowRollup(_flavor: Flavor): Record<string, Migration> {
  return {
    '0008_shadow_rollup': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('rollup_shadow')
          .addColumn('shadow_version', 'text', count)
          .addColumn('install_id', 'text', count)
          .addColumn('runs', 'bigint', count)
          .addColumn('failures', 'bigint', count)
          .addColumn('disagreements', 'bigint', count)
          .addColumn('top5_overlap', 'bigint', count)
          .addPrimaryKeyConstraint('rollup_shadow_pk', ['shadow_version', 'install_id'])
          .execute();
        // "Delete my data" removes an install's rows.
        await db.schema.createIndex('rollup_shadow_install').on('rollup_shadow').columns(['install_id']).execute();
        await backfill(db);
      },
      async down(db: Kysely<any>) {
        await db.schema.dropTable('rollup_shadow').execute();
      },
    },
  };
}

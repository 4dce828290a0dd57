/**
 * 0011: the rollout guard's per-install tally (rollup_guard, ../guard-rollups.ts),
 * so a guard tick reads whole hours from it and only the partial first and
 * last hours of its window from raw events (issue #17). insertBatch keeps it
 * in its own transaction; existing events are folded in here.
 */
import type { ColumnDefinitionBuilder, Kysely, Migration } from 'kysely';
import type { Flavor } from './index.ts';
import { backfillGuard } from '../guard-rollups.ts';

const count = (c: ColumnDefinitionBuilder) => c.notNull();

export function guardRollup(flavor: Flavor): Record<string, Migration> {
  return {
    '0011_guard_rollup': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('rollup_guard')
          .addColumn('arm', 'text', count)
          .addColumn('hour', 'text', count)
          .addColumn('install_id', 'text', count)
          .addColumn('identifications', 'bigint', count)
          .addColumn('abstains', 'bigint', count)
          .addColumn('errors', 'bigint', count)
          // A float sum (totalMs has fractions): SQLite's real is 8 bytes, as is PostgreSQL's double precision.
          .addColumn('latency_sum', flavor === 'postgres' ? 'double precision' : 'real', count)
          .addColumn('latency_n', 'bigint', count)
          .addColumn('corrected', 'bigint', count)
          .addColumn('status_reports', 'bigint', count)
          .addColumn('failures', 'bigint', count)
          .addPrimaryKeyConstraint('rollup_guard_pk', ['arm', 'hour', 'install_id'])
          .execute();
        // "Delete my data" removes an install's rows.
        await db.schema.createIndex('rollup_guard_install').on('rollup_guard').columns(['install_id']).execute();
        await backfillGuard(db);
      },
      async down(db: Kysely<any>) {
        await db.schema.dropTable('rollup_guard').execute();
      },
    },
  };
}

/**
 * 0014: what installs past the per-install cap said, by day as well as by
 * hour (rollup_heavy_days beside rollup_heavy). A month of day buckets read
 * from the hourly table grouped 24 rows into one at every query: on 10
 * million events that was most of the drift tick and the daily dashboard
 * (issue #17). ../rollups.ts upsertHeavy keeps both; the day rows of what is
 * already stored are summed from the hours here.
 */
import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration } from 'kysely';
import type { Flavor } from './index.ts';

const count = (c: ColumnDefinitionBuilder) => c.notNull();

export function heavyDays(_flavor: Flavor): Record<string, Migration> {
  return {
    '0014_heavy_days': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('rollup_heavy_days')
          .addColumn('install_id', 'text', count)
          .addColumn('model_version', 'text', count)
          .addColumn('day', 'text', count)
          .addColumn('dim', 'text', count)
          .addColumn('key', 'text', count)
          .addColumn('n', 'bigint', count)
          .addPrimaryKeyConstraint('rollup_heavy_days_pk', ['install_id', 'model_version', 'day', 'dim', 'key'])
          .execute();
        await sql`insert into rollup_heavy_days (install_id, model_version, day, dim, key, n)
          select install_id, model_version, substr(hour, 1, 10), dim, key, sum(n) from rollup_heavy group by install_id, model_version, substr(hour, 1, 10), dim, key`.execute(db);
      },
      async down(db: Kysely<any>) {
        await db.schema.dropTable('rollup_heavy_days').execute();
      },
    },
  };
}

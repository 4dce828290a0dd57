/**
 * 0003: monitoring. Drift alerts (one row per version, day and metric,
 * updated when recomputed), per-day data-quality counters that only exist
 * at ingest time (duplicates and refused events by reason), and the
 * reference window chosen per model version for drift.
 */
import type { Kysely, Migration } from 'kysely';
import type { Flavor } from './index.ts';

export function monitoring(_flavor: Flavor): Record<string, Migration> {
  return {
    '0003_monitoring': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('drift_alerts')
          .addColumn('model_version', 'text', (c) => c.notNull())
          .addColumn('day', 'text', (c) => c.notNull())
          // 'prediction' (distribution of top-1 taxa) or 'confidence' (top-1 histogram)
          .addColumn('metric', 'text', (c) => c.notNull())
          .addColumn('psi', 'double precision', (c) => c.notNull())
          .addColumn('js', 'double precision', (c) => c.notNull())
          .addColumn('level', 'text', (c) => c.notNull())
          .addColumn('n', 'integer', (c) => c.notNull())
          .addColumn('reference_from', 'text', (c) => c.notNull())
          .addColumn('reference_to', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('drift_alerts_pk', ['model_version', 'day', 'metric'])
          .execute();
        await db.schema.createIndex('drift_alerts_day').on('drift_alerts').columns(['day']).execute();

        await db.schema
          .createTable('quality_counts')
          .addColumn('day', 'text', (c) => c.notNull())
          // 'duplicate' or 'rejected:<reason>'
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('count', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('quality_counts_pk', ['day', 'kind'])
          .execute();

        await db.schema
          .createTable('drift_references')
          .addColumn('model_version', 'text', (c) => c.primaryKey())
          .addColumn('from_day', 'text', (c) => c.notNull())
          .addColumn('to_day', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();

        // Monitoring reads identifications by type and hour.
        await db.schema.createIndex('events_type_hour').on('events').columns(['type', 'hour']).execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.dropIndex('events_type_hour').execute();
        await db.schema.dropTable('drift_references').execute();
        await db.schema.dropTable('quality_counts').execute();
        await db.schema.dropTable('drift_alerts').execute();
      },
    },
  };
}

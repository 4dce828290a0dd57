/**
 * 0002: model rollouts. The registry manifest holds each version's
 * immutable metadata; what changes (a version's status, the running
 * canary, who changed what and why) lives here.
 *
 * - model_status: one row per version whose status was ever set
 *   (candidate, canary, active, retired) and, for a shadow candidate, the
 *   share of identifications devices run it on.
 * - rollouts: one row per canary, with its sticky-bucket id, percentage,
 *   control version and outcome (running, promoted, rolled_back).
 * - model_changes: the change log, every change with when, who and why.
 * - job_leases: one row per background job; a conditional update takes the
 *   lease, so only one server instance acts at a time.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { Flavor } from './index.ts';

export function rollouts(_flavor: Flavor): Record<string, Migration> {
  return {
    '0002_rollouts': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('model_status')
          .addColumn('version', 'text', (c) => c.primaryKey())
          .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('candidate', 'canary', 'active', 'retired')`))
          .addColumn('shadow_rate', 'double precision')
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('rollouts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('version', 'text', (c) => c.notNull())
          .addColumn('control_version', 'text', (c) => c.notNull())
          .addColumn('percent', 'double precision', (c) => c.notNull().check(sql`percent >= 0 and percent <= 100`))
          .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('running', 'promoted', 'rolled_back')`))
          .addColumn('plan', 'text', (c) => c.notNull())
          .addColumn('started_at', 'text', (c) => c.notNull())
          .addColumn('stepped_at', 'text', (c) => c.notNull())
          .addColumn('ended_at', 'text')
          .execute();
        await db.schema.createIndex('rollouts_state').on('rollouts').columns(['state', 'started_at']).execute();

        await db.schema
          .createTable('model_changes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('version', 'text')
          .addColumn('rollout_id', 'text')
          .addColumn('percent', 'double precision')
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('details', 'text')
          .execute();
        await db.schema.createIndex('model_changes_at').on('model_changes').columns(['at', 'id']).execute();

        await db.schema
          .createTable('job_leases')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('owner', 'text')
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .execute();
        await db.insertInto('job_leases').values({ name: 'rollout-guard', owner: null, expires_at: '1970-01-01T00:00:00.000Z' }).execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.dropTable('job_leases').execute();
        await db.schema.dropTable('model_changes').execute();
        await db.schema.dropTable('rollouts').execute();
        await db.schema.dropTable('model_status').execute();
      },
    },
  };
}

/**
 * 0006: job_ticks, one row per periodic job and tick that some server
 * instance ran (server/jobs/lease.ts). The primary key (job, tick) is what
 * makes "no job runs twice for the same tick" hold across instances: an
 * instance inserts the row before it acts, and only the one whose insert
 * wrote the row goes on. owner names the instance (pid and a random part),
 * so a test or an operator can see which instance ran which tick.
 */
import type { Kysely, Migration } from 'kysely';
import type { Flavor } from './index.ts';

export function jobTicks(_flavor: Flavor): Record<string, Migration> {
  return {
    '0006_job_ticks': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('job_ticks')
          .addColumn('job', 'text', (c) => c.notNull())
          .addColumn('tick', 'bigint', (c) => c.notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('started_at', 'text', (c) => c.notNull())
          .addColumn('finished_at', 'text')
          .addPrimaryKeyConstraint('job_ticks_pk', ['job', 'tick'])
          .execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.dropTable('job_ticks').execute();
      },
    },
  };
}

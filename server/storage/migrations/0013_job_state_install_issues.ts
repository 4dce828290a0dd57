/**
 * 0013: two small tables that make per-deployment state shared by every
 * instance on the database rather than kept in one process or on one disk:
 * - job_state: one JSON state per periodic job (server/jobs/job-state.ts);
 *   the retrain watch keeps its count at the last retrain there, so a watch
 *   on another machine that takes the job over starts from it;
 * - install_issues: credentials issued per client address key and hour
 *   (server/storage/install-issues.ts), so INSTALLS_PER_HOUR holds across
 *   instances. address_key is a salted hash of the address (an IPv6 /64),
 *   never the address; hour is the hour's start (ISO). The retention job
 *   deletes past hours.
 */
import type { Kysely, Migration } from 'kysely';
import type { Flavor } from './index.ts';

export function jobStateInstallIssues(_flavor: Flavor): Record<string, Migration> {
  return {
    '0013_job_state_install_issues': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('job_state')
          .addColumn('job', 'text', (c) => c.primaryKey())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('install_issues')
          .addColumn('address_key', 'text', (c) => c.notNull())
          .addColumn('hour', 'text', (c) => c.notNull())
          .addColumn('n', 'integer', (c) => c.notNull())
          .addPrimaryKeyConstraint('install_issues_pk', ['address_key', 'hour'])
          .execute();
      },
      async down(db: Kysely<any>) {
        await db.schema.dropTable('install_issues').execute();
        await db.schema.dropTable('job_state').execute();
      },
    },
  };
}

/**
 * How many install credentials each client address was issued this hour,
 * counted in the database (install_issues, migration 0013) so that the limit
 * holds across server instances, not once per process.
 *
 * One statement takes a slot: insert (key, hour, 1), or on conflict add one
 * only while the count is under the limit. Both databases run it atomically
 * (SQLite serializes writers; PostgreSQL locks the conflicting row and
 * rechecks the condition on its latest version), so concurrent requests on
 * several instances can never take more slots than the limit.
 */
import type { Kysely } from 'kysely';
import type { FeedbackStore } from './types.ts';
import { truncateToHour } from '../../core/telemetry.ts';

interface InstallIssueRow {
  address_key: string;
  hour: string;
  n: number;
}
interface InstallIssueTables {
  install_issues: InstallIssueRow;
}

const HOUR_MS = 3_600_000;
const db = (store: FeedbackStore) => store.db as unknown as Kysely<InstallIssueTables>;

/** The start of the hour `now` falls in, as stored. */
export const hourOf = (now: Date) => truncateToHour(now);

/** Seconds until the next hour, when a refused address may try again. */
export const secondsToNextHour = (now: Date) => Math.ceil((HOUR_MS - (now.getTime() % HOUR_MS)) / 1000);

/** Takes one of `limit` slots of this address key in the current hour; false when all are taken. */
export async function takeIssueSlot(store: FeedbackStore, addressKey: string, limit: number, now = new Date()): Promise<boolean> {
  const taken = await db(store)
    .insertInto('install_issues')
    .values({ address_key: addressKey, hour: hourOf(now), n: 1 })
    .onConflict((oc) =>
      oc
        .columns(['address_key', 'hour'])
        .doUpdateSet((eb) => ({ n: eb('install_issues.n', '+', 1) }))
        .where('install_issues.n', '<', limit),
    )
    .returning('n')
    .execute();
  return taken.length === 1;
}

/** Deletes the counts of hours before the current one (the retention job). */
export async function pruneIssueCounts(store: FeedbackStore, now = new Date()): Promise<number> {
  const res = await db(store).deleteFrom('install_issues').where('hour', '<', hourOf(now)).executeTakeFirst();
  return Number(res.numDeletedRows);
}

/** This hour's count of one address key (for tests). */
export async function issuedThisHour(store: FeedbackStore, addressKey: string, now = new Date()): Promise<number> {
  const row = await db(store).selectFrom('install_issues').select('n').where('address_key', '=', addressKey).where('hour', '=', hourOf(now)).executeTakeFirst();
  return row ? Number(row.n) : 0;
}

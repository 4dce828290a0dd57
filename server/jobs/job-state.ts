/**
 * A small JSON state per periodic job in the database (job_state, migration
 * 0013), so whichever instance takes the job's next turn starts from what the
 * last one left: the retrain watch keeps its count at the last retrain here,
 * where every watch process on every machine reads the same value.
 */
import type { Kysely } from 'kysely';
import type { FeedbackStore } from '../storage/types.ts';

interface JobStateRow {
  job: string;
  state: string;
  updated_at: string;
}
interface JobStateTables {
  job_state: JobStateRow;
}

const db = (store: FeedbackStore) => store.db as unknown as Kysely<JobStateTables>;

/** The job's state as last written, or undefined when none was. */
export async function readJobState<T>(store: FeedbackStore, job: string): Promise<T | undefined> {
  const row = await db(store).selectFrom('job_state').select('state').where('job', '=', job).executeTakeFirst();
  return row ? (JSON.parse(row.state) as T) : undefined;
}

/** Replaces the job's state (one upsert). */
export async function writeJobState(store: FeedbackStore, job: string, state: unknown, now = new Date()): Promise<void> {
  const row = { job, state: JSON.stringify(state), updated_at: now.toISOString() };
  await db(store)
    .insertInto('job_state')
    .values(row)
    .onConflict((oc) => oc.column('job').doUpdateSet({ state: row.state, updated_at: row.updated_at }))
    .execute();
}

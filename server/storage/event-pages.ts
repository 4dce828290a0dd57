/**
 * A query's rows a page at a time, in order of an event id column (the key
 * of events and corrections alike), so a backfill or a pass over one
 * install's events never holds a whole table in memory.
 */
import { sql, type SelectQueryBuilder } from 'kysely';

export async function* pagesByEventId<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>, size: number, column = 'event_id'): AsyncGenerator<O[]> {
  // The rows name the column without its table alias ("e.event_id" comes back as event_id).
  const key = column.slice(column.lastIndexOf('.') + 1);
  let after = '';
  for (;;) {
    const rows = await query
      .where(sql<boolean>`${sql.ref(column)} > ${after}`)
      .orderBy(sql.ref(column))
      .limit(size)
      .execute();
    if (!rows.length) return;
    yield rows;
    after = String((rows[rows.length - 1] as Record<string, unknown>)[key]);
  }
}

/**
 * The default store: one SQLite file (DATA_DIR/wildsight.db), so `npm start`
 * keeps feedback with no database server to run.
 *
 * WAL lets readers (the admin API) work while a batch is written, and
 * synchronous=FULL makes each commit reach the disk before the request is
 * answered: an event that got a 2xx survives a crash or a power cut.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { KyselyFeedbackStore } from './kysely-store.ts';
import type { Database } from './rows.ts';

export const SQLITE_FILE_NAME = 'wildsight.db';

export function openSqliteStore(file: string): KyselyFeedbackStore {
  mkdirSync(path.dirname(file), { recursive: true });
  const database = new BetterSqlite3(file);
  const mode = database.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') {
    database.close();
    throw new Error(`SQLite would not use WAL for ${file} (got "${String(mode)}"); put DATA_DIR on a local disk`);
  }
  database.pragma('synchronous = FULL');
  // Another process (a second server, a test reading the file) may hold the write lock for a moment.
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  return new KyselyFeedbackStore(db, 'sqlite', file);
}

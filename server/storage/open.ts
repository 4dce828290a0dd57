/** Picks the backend from configuration and brings its schema up to date. */
import path from 'node:path';
import { openPostgresStore } from './postgres.ts';
import { openSqliteStore, SQLITE_FILE_NAME } from './sqlite.ts';
import type { FeedbackStore } from './types.ts';

export interface StoreConfig {
  /** PostgreSQL when set; otherwise SQLite under dataDir. */
  databaseUrl?: string;
  databaseSchema?: string;
  dataDir: string;
  onPoolError?: (err: Error) => void;
}

export async function openStore(cfg: StoreConfig): Promise<FeedbackStore> {
  const store = cfg.databaseUrl ? openPostgresStore(cfg.databaseUrl, { schema: cfg.databaseSchema, onPoolError: cfg.onPoolError }) : openSqliteStore(path.join(cfg.dataDir, SQLITE_FILE_NAME));
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}

/**
 * The PostgreSQL store, used when DATABASE_URL is set (several server
 * processes can share it). A commit is durable under PostgreSQL's defaults
 * (synchronous_commit=on). DATABASE_SCHEMA puts the tables in their own
 * schema, which the tests and the bench use for a clean slate each run.
 */
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { KyselyFeedbackStore } from './kysely-store.ts';
import type { Database } from './rows.ts';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresOptions {
  schema?: string;
  /** Connections in the pool; each request holds one only while it runs. */
  poolMax?: number;
  onPoolError?: (err: Error) => void;
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres (unparsable DATABASE_URL)';
  }
}

export function openPostgresStore(url: string, opts: PostgresOptions = {}): KyselyFeedbackStore {
  const { schema } = opts;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`DATABASE_SCHEMA "${schema}" is not a plain lower-case identifier`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolMax ?? 10,
    connectionTimeoutMillis: 10_000,
    // Set at connect time so every pooled connection sees the same tables.
    options: schema ? `-c search_path=${schema}` : undefined,
  });
  // An idle connection dropped by the server must not take the process down;
  // the pool replaces it and the next query reports any real outage.
  pool.on('error', (err) => opts.onPoolError?.(err));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const prepare = async () => {
    if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  };
  return new KyselyFeedbackStore(db, 'postgres', `${redactUrl(url)}${schema ? ` (schema ${schema})` : ''}`, prepare);
}

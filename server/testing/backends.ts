/**
 * The two real backends the server tests run against: a SQLite file in a
 * temporary folder, and PostgreSQL (TEST_DATABASE_URL) in a schema made
 * fresh for each suite and dropped after it.
 *
 * Without TEST_DATABASE_URL the PostgreSQL suites are skipped locally (with
 * a message saying how to run them) but fail in CI (CI=true): a CI run that
 * silently tested one backend would claim more than it checked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { openStore } from '../storage/open.ts';
import { SQLITE_FILE_NAME } from '../storage/sqlite.ts';
import type { FeedbackStore } from '../storage/types.ts';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || undefined;
export const IN_CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

export interface TestDb {
  /** For buildApp. */
  appOptions: { dataDir?: string; databaseUrl?: string; databaseSchema?: string };
  /** For a server started as a child process. */
  env: Record<string, string>;
  openStore(): Promise<FeedbackStore>;
  /** Every stored event id, read with the plain driver rather than the code under test. */
  storedEventIds(): Promise<Set<string>>;
  cleanup(): Promise<void>;
}

export interface TestBackend {
  name: 'sqlite' | 'postgres';
  /** false: skip this backend here (never in CI). */
  runnable: boolean;
  create(): Promise<TestDb>;
}

const sqlite: TestBackend = {
  name: 'sqlite',
  runnable: true,
  async create() {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'wildsight-test-'));
    const file = path.join(dataDir, SQLITE_FILE_NAME);
    return {
      appOptions: { dataDir },
      env: { DATA_DIR: dataDir },
      openStore: () => openStore({ dataDir }),
      async storedEventIds() {
        const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
        try {
          return new Set(db.prepare('select event_id from events').pluck().all() as string[]);
        } finally {
          db.close();
        }
      },
      cleanup: () => rm(dataDir, { recursive: true, force: true }),
    };
  },
};

async function withClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const postgres: TestBackend = {
  name: 'postgres',
  runnable: !!TEST_DATABASE_URL || IN_CI,
  async create() {
    if (!TEST_DATABASE_URL) {
      throw new Error('TEST_DATABASE_URL is not set, and CI must test PostgreSQL too: run `bash scripts/pg-test-setup.sh` (as root) and export the URL it prints');
    }
    const url = TEST_DATABASE_URL;
    const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`;
    return {
      appOptions: { databaseUrl: url, databaseSchema: schema },
      env: { DATABASE_URL: url, DATABASE_SCHEMA: schema },
      openStore: () => openStore({ databaseUrl: url, databaseSchema: schema, dataDir: '/nonexistent' }),
      storedEventIds: () =>
        withClient(async (c) => {
          const res = await c.query<{ event_id: string }>(`select event_id from "${schema}".events`);
          return new Set(res.rows.map((r) => r.event_id));
        }),
      cleanup: () =>
        withClient(async (c) => {
          await c.query(`drop schema if exists "${schema}" cascade`);
        }),
    };
  },
};

export const BACKENDS: TestBackend[] = [sqlite, postgres];

if (!postgres.runnable) {
  console.warn(
    '\n[wildsight] PostgreSQL suites SKIPPED: TEST_DATABASE_URL is not set. Run `export TEST_DATABASE_URL=$(bash scripts/pg-test-setup.sh | tail -n1)` to test both backends (CI=true makes this an error).\n',
  );
}

/**
 * "Never two retrains at once", also across processes: a PostgreSQL advisory
 * lock (pg_try_advisory_lock on a dedicated connection) when the feedback
 * store is PostgreSQL, otherwise an exclusive lock file beside the SQLite
 * database (created with O_EXCL; a file left by a dead process is taken over).
 */
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export type Release = () => Promise<void>;

export interface RetrainLock {
  readonly kind: 'postgres-advisory' | 'file';
  /** The release function when this caller now holds the lock; null when someone else does. */
  tryAcquire(): Promise<Release | null>;
}

/** Arbitrary, fixed: "wildsight retrain" as a 63-bit key. */
export const ADVISORY_KEY = 0x5769_6c64_7274n;

export function advisoryLock(databaseUrl: string, key: bigint = ADVISORY_KEY): RetrainLock {
  return {
    kind: 'postgres-advisory',
    async tryAcquire() {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key.toString()]);
        if (!rows[0].ok) {
          await client.end();
          return null;
        }
      } catch (err) {
        await client.end().catch(() => {});
        throw err;
      }
      return async () => {
        try {
          await client.query('SELECT pg_advisory_unlock($1::bigint)', [key.toString()]);
        } finally {
          await client.end().catch(() => {});
        }
      };
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function fileLock(file: string): RetrainLock {
  const take = (): Release | null => {
    mkdirSync(path.dirname(file), { recursive: true });
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return null;
    }
    writeSync(fd, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }));
    closeSync(fd);
    return async () => {
      try {
        unlinkSync(file);
      } catch {
        /* already gone */
      }
    };
  };
  return {
    kind: 'file',
    async tryAcquire() {
      const got = take();
      if (got) return got;
      // A holder that died leaves its file behind: take it over, once.
      try {
        const { pid } = JSON.parse(readFileSync(file, 'utf8')) as { pid: number };
        if (Number.isInteger(pid) && !alive(pid)) {
          unlinkSync(file);
          return take();
        }
      } catch {
        /* being written or removed right now: treat as held */
      }
      return null;
    },
  };
}

/**
 * An exclusive lock file across processes on one machine (created with
 * O_EXCL; a file left by a dead process is taken over). The model registry's
 * lock (node/registry-lock.ts) is one, since a registry folder lives on one
 * machine. The retrain watch no longer uses a lock of its own: watches take
 * turns under the retrain-watch job lease in the database (pipeline/watch.ts),
 * which also works across machines and hands the job over when a holder dies.
 */
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export type Release = () => Promise<void>;

export interface FileLock {
  readonly kind: 'file';
  /** The release function when this caller now holds the lock; null when someone else does. */
  tryAcquire(): Promise<Release | null>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function fileLock(file: string): FileLock {
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

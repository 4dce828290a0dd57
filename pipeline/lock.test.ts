/** The exclusive lock file the model registry's lock is made of (pipeline/lock.ts). */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileLock } from './lock.ts';

describe('lock file', () => {
  it('a held lock file blocks; one left by a dead process is taken over; release removes it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wildsight-lock-'));
    const file = path.join(dir, 'registry.lock');
    const first = await fileLock(file).tryAcquire();
    expect(first).not.toBeNull();
    expect(await fileLock(file).tryAcquire()).toBeNull();
    await first!();
    writeFileSync(file, JSON.stringify({ pid: 2 ** 22 + 12345, since: 'long ago' }));
    const taken = await fileLock(file).tryAcquire();
    expect(taken).not.toBeNull();
    await taken!();
    expect(existsSync(file)).toBe(false);
  });
});

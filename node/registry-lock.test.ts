import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { REGISTRY_LOCK_FILE, RegistryBusyError, withRegistryLock } from './registry-lock.ts';

const dir = () => mkdtempSync(path.join(tmpdir(), 'wildsight-reglock-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('withRegistryLock', () => {
  it('runs one registration at a time: the second waits for the first', async () => {
    const d = dir();
    const order: string[] = [];
    const first = withRegistryLock(d, async () => {
      order.push('a-start');
      await sleep(300);
      order.push('a-end');
    });
    await sleep(20);
    const second = withRegistryLock(d, async () => {
      order.push('b-start');
      order.push('b-end');
    });
    await Promise.all([first, second]);
    expect(order).toEqual(['a-start', 'a-end', 'b-start', 'b-end']);
    expect(existsSync(path.join(d, REGISTRY_LOCK_FILE))).toBe(false);
  });
  it('gives up with RegistryBusyError when the lock stays held', async () => {
    const d = dir();
    let release!: () => void;
    const held = withRegistryLock(
      d,
      () =>
        new Promise<void>((r) => {
          release = r;
        }),
    );
    await sleep(20);
    await expect(withRegistryLock(d, () => 1, { waitMs: 200 })).rejects.toBeInstanceOf(RegistryBusyError);
    release();
    await held;
  });
  it('releases the lock when the work throws', async () => {
    const d = dir();
    await expect(
      withRegistryLock(d, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await withRegistryLock(d, () => 'next', { waitMs: 100 })).toBe('next');
  });
  it('takes over a lock left by a process that died', async () => {
    const d = dir();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(path.join(d, REGISTRY_LOCK_FILE), JSON.stringify({ pid: Number(dead.stdout), since: new Date().toISOString() }));
    expect(await withRegistryLock(d, () => 'taken', { waitMs: 100 })).toBe('taken');
  });
});

import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { advisoryLock, fileLock, type RetrainLock } from './lock.ts';
import { readState, tick } from './watch.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two watchers over one store and one lock: they tick together again and again; count overlapping runs. */
async function raceWatchers(makeLock: () => RetrainLock) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wildsight-watch-'));
  const stateFile = path.join(dir, 'state.json');
  let accepted = 0;
  let active = 0,
    maxActive = 0,
    runs = 0;
  const watcher = (lock: RetrainLock) => ({
    lock,
    stateFile,
    threshold: 5,
    countAccepted: async () => accepted,
    runRetrain: async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      runs++;
      await sleep(40);
      active--;
      return { runId: `run-${runs}`, registered: false };
    },
  });
  const a = watcher(makeLock()),
    b = watcher(makeLock());
  const outcomes: string[] = [];
  for (let round = 0; round < 10; round++) {
    accepted += 5;
    const [x, y] = await Promise.all([tick(a), tick(b)]);
    outcomes.push(`${x.status}/${y.status}`);
  }
  return { maxActive, runs, outcomes, state: readState(stateFile), accepted };
}

describe('retrain lock (file, for SQLite)', () => {
  it('two concurrent watchers never both run, and every batch of new corrections is retrained once', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wildsight-lock-'));
    const r = await raceWatchers(() => fileLock(path.join(dir, 'retrain.lock')));
    expect(r.maxActive).toBe(1);
    expect(r.runs).toBe(10);
    for (const o of r.outcomes) expect(['ran/busy', 'busy/ran', 'ran/waiting', 'waiting/ran']).toContain(o);
    expect(r.state.acceptedAtLastRun).toBe(r.accepted);
    expect(existsSync(path.join(dir, 'retrain.lock'))).toBe(false);
  });

  it('does not run below the threshold', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wildsight-lock-'));
    let runs = 0;
    const out = await tick({
      lock: fileLock(path.join(dir, 'l')),
      stateFile: path.join(dir, 's.json'),
      threshold: 10,
      countAccepted: async () => 9,
      runRetrain: async () => {
        runs++;
        return { runId: null, registered: false };
      },
    });
    expect(out).toEqual({ status: 'waiting', accepted: 9, newSinceLastRun: 9 });
    expect(runs).toBe(0);
  });

  it('a held lock file blocks; one left by a dead process is taken over', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wildsight-lock-'));
    const file = path.join(dir, 'retrain.lock');
    const first = await fileLock(file).tryAcquire();
    expect(first).not.toBeNull();
    expect(await fileLock(file).tryAcquire()).toBeNull();
    await first!();
    writeFileSync(file, JSON.stringify({ pid: 2 ** 22 + 12345, since: 'long ago' }));
    const taken = await fileLock(file).tryAcquire();
    expect(taken).not.toBeNull();
    await taken!();
  });
});

const pgUrl = process.env.TEST_DATABASE_URL;
describe.skipIf(!pgUrl)('retrain lock (PostgreSQL advisory lock)', () => {
  it('two concurrent watchers never both run', async () => {
    const key = BigInt(Math.floor(Math.random() * 1e12));
    const r = await raceWatchers(() => advisoryLock(pgUrl!, key));
    expect(r.maxActive).toBe(1);
    expect(r.runs).toBe(10);
  });

  it('a second session cannot take a held lock', async () => {
    const key = BigInt(Math.floor(Math.random() * 1e12));
    const held = await advisoryLock(pgUrl!, key).tryAcquire();
    expect(held).not.toBeNull();
    expect(await advisoryLock(pgUrl!, key).tryAcquire()).toBeNull();
    await held!();
    const again = await advisoryLock(pgUrl!, key).tryAcquire();
    expect(again).not.toBeNull();
    await again!();
  });
});

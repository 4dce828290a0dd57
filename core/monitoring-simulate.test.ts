/**
 * The drift simulator end to end (scripts/simulate.ts, the real command):
 * a week of telemetry into a fresh SQLite store, drift from day 5. The alert
 * must fire on day 5 and on no day before, and no bootstrap resample of the
 * reference period (days 1-4) may raise one.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../node/paths.ts';

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('npm run simulate -- drift', () => {
  it('alerts on day 5 and not before; no bootstrap resample of the reference alerts', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'wildsight-simtest-'));
    dirs.push(dataDir);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/simulate.ts', 'drift', '--days', '7', '--drift-day', '5', '--seed', '1', '--data-dir', dataDir], {
      cwd: REPO_ROOT,
      maxBuffer: 1 << 20,
    });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]);
    expect(result.firstAlertDay).toBe(5);
    expect(result.alertDays[0]).toBe(5);
    expect(result.alertDays.every((d: number) => d >= 5)).toBe(true);
    expect(result.bootstrap).toEqual({ resamples: 20, alerts: 0 });
    expect(result.events.stored).toBeGreaterThan(30_000);
    expect(result.events.rejected).toBeGreaterThan(0);
    expect(result.events.duplicates).toBeGreaterThan(0);
  }, 120_000);
});

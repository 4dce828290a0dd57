/**
 * The monitoring dashboard against a real server holding simulated data:
 * `npm run simulate -- drift` into a fresh folder, a server on that folder
 * (its own port and admin token), then #/admin in Chromium. The charts must
 * be drawn (canvases with non-blank pixels) and the drift alert of day 5
 * shown; the species-pack section says it has nothing, then, once pack runs
 * are written into the same store, draws its two charts and its table; a screenshot goes to test-results/dashboard.png and reports/dashboard.png.
 */
import { test, expect } from '@playwright/test';
import { execFile, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServerProcess } from '../node/server-process.ts';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { openStore } from '../server/storage/open.ts';
import { correction, identification, TAXON_IDS } from '../server/testing/fixtures.ts';
import type { TelemetryEvent } from '../core/telemetry.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TOKEN = 'e2e-dashboard-token-not-a-secret';

/** The real server as a child process on a free port, with its own store. */
async function startServer(dataDir: string): Promise<{ url: string; proc: ChildProcess }> {
  const server = await startServerProcess({ DATA_DIR: dataDir, ADMIN_TOKEN: TOKEN, DATABASE_URL: '' }, 60_000);
  return { url: server.url, proc: server.child };
}

/** Identifications that ran the bird pack (1.0.0 two days ago and yesterday, 1.1.0 yesterday), a tenth of them corrected, written into the server's store. */
async function seedPackRuns(dataDir: string) {
  const store = await openStore({ dataDir });
  try {
    const events: TelemetryEvent[] = [];
    const installs = Array.from({ length: 20 }, () => randomUUID());
    for (const [ago, version, n] of [
      [2, '1.0.0', 120],
      [1, '1.0.0', 100],
      [1, '1.1.0', 60],
    ] as const) {
      for (let i = 0; i < n; i++) {
        const hour = `${new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10)}T08:00:00.000Z`;
        const run = identification({
          installId: installs[i % 20],
          hour,
          pack: { id: 'inat-birds', version, routedBy: i % 3 ? 'rollup' : 'user', top5: [{ taxonId: TAXON_IDS[10 + (i % 4)], p: 0.5 + (i % 5) / 10 }] },
        });
        events.push(run);
        if (i % 10 === 0) events.push(correction({ installId: run.installId, correctsEventId: run.eventId, modelVersion: run.modelVersion, hour, taxonId: TAXON_IDS[3] }));
      }
    }
    await store.insertBatch(events, new Date());
  } finally {
    await store.close();
  }
}

test('the dashboard draws its charts from the real server holding a simulated drifting week', async ({ page }) => {
  test.setTimeout(180_000);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wildsight-dash-'));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'scripts/simulate.ts', 'drift', '--days', '7', '--drift-day', '5', '--per-day', '3000', '--seed', '2', '--data-dir', dataDir],
    { cwd: ROOT },
  );
  const sim = JSON.parse(stdout.trim());
  expect(sim.firstAlertDay).toBe(5);
  const { url, proc } = await startServer(dataDir);
  try {
    await page.setViewportSize({ width: 1400, height: 1000 });
    await page.goto(`${url}/#/admin`);
    await page.getByTestId('admin-token').fill('wrong-token-wrong-token');
    await page.getByTestId('admin-sign-in').click();
    await expect(page.getByTestId('admin-error')).toContainText('not right');
    await page.getByTestId('admin-token').fill(TOKEN);
    await page.getByTestId('admin-sign-in').click();
    await expect(page.getByTestId('dashboard')).toBeVisible({ timeout: 60_000 });
    // The token lives in sessionStorage only.
    expect(await page.evaluate(() => [sessionStorage.getItem('wildsight.adminToken'), localStorage.getItem('wildsight.adminToken')])).toEqual([TOKEN, null]);

    const charts = ['identifications', 'rates', 'confidence', 'drift', 'latency'];
    for (const c of charts) await expect(page.locator(`[data-testid="chart-${c}"] canvas`)).toBeVisible();
    // Non-blank pixels on every canvas (chart.js draws without animation here).
    const painted = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLCanvasElement>('[data-testid^="chart-"] canvas')].map((c) => {
        const ctx = c.getContext('2d')!;
        const { data } = ctx.getImageData(0, 0, c.width, c.height);
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
        return { id: c.closest('[data-testid]')!.getAttribute('data-testid'), width: c.width, height: c.height, painted: n };
      }),
    );
    expect(painted.map((p) => p.id).sort()).toEqual(charts.map((c) => `chart-${c}`).sort());
    for (const p of painted) {
      expect(p.width * p.height, p.id!).toBeGreaterThan(10_000);
      expect(p.painted, `${p.id} has drawn pixels`).toBeGreaterThan(2_000);
    }

    // The drift panel: alerts from the drift day on, none before it.
    const lastReferenceDay = sim.reference.days.to; // the drift starts the day after
    const alertDays = await page.locator('[data-testid="alert-row"][data-level="alert"] td:first-child').allTextContents();
    expect(alertDays.length).toBeGreaterThan(0);
    expect(alertDays.every((d) => d > lastReferenceDay)).toBe(true);
    await expect(page.getByTestId('versions-table').locator('tbody tr')).toHaveCount(2);
    await expect(page.getByTestId('quality-table').locator('tbody tr')).toHaveCount(7);

    // The simulated week ran no species pack: the section says so.
    await expect(page.getByTestId('packs-empty')).toContainText('No identification ran a species pack');

    // Then two days of pack runs in the same store (two versions of one pack, corrections of some), and the page again.
    await seedPackRuns(dataDir);
    await page.reload();
    await expect(page.getByTestId('packs-table').locator('tbody tr')).toHaveCount(2);
    await expect(page.getByTestId('packs-table').locator('tbody tr').first()).toContainText('inat-birds');
    const packCharts = ['chart-pack-runs-inat-birds', 'chart-pack-corrections-inat-birds'];
    for (const id of packCharts) await expect(page.locator(`[data-testid="${id}"] canvas`)).toBeVisible();
    const packPainted = await page.evaluate(
      (ids) =>
        ids.map((id) => {
          const c = document.querySelector<HTMLCanvasElement>(`[data-testid="${id}"] canvas`)!;
          const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
          let n = 0;
          for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
          return n;
        }),
      packCharts,
    );
    for (const n of packPainted) expect(n).toBeGreaterThan(2_000);

    await page.screenshot({ path: 'test-results/dashboard.png', fullPage: true });
    mkdirSync(path.join(ROOT, 'reports'), { recursive: true });
    copyFileSync('test-results/dashboard.png', path.join(ROOT, 'reports', 'dashboard.png'));
  } finally {
    proc.kill();
    if (proc.exitCode === null) await new Promise((r) => proc.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
});

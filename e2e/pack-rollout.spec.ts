/**
 * A species pack's rollout on a real device: a server of its own (buildApp
 * on a free port) over a temporary copy of the registry with a second bird
 * pack version (server/testing/pack-version.ts) and a fresh SQLite store.
 * A device holding the bird pack moves to the canary its bucket picks,
 * verified, between identifications, deletes the old bytes after the
 * switch, reports identifications with the new pack version, and goes back
 * to the control when the canary is rolled back.
 */
import { test, expect, type Page } from '@playwright/test';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../server/app.ts';
import { REGISTRY_DIR } from '../node/paths.ts';
import { addPackVersion } from '../server/testing/pack-version.ts';
import { readManifest } from '../node/registry.ts';
import { DATA } from './paths.ts';
import { E2E_ADMIN_TOKEN } from './admin.ts';
import { allowReports } from './consent.ts';

const houseFinch = path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00004375.JPEG');
const stored = (page: Page) => page.evaluate(async () => (await (await caches.open('wildsight-models-v1')).keys()).map((k) => k.url));

test.setTimeout(300_000);

test('a device holding the bird pack follows its canary to the new version and back after a rollback', async ({ browser }) => {
  const registryDir = mkdtempSync(path.join(tmpdir(), 'wildsight-e2e-packroll-'));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wildsight-e2e-packroll-data-'));
  cpSync(REGISTRY_DIR, registryDir, { recursive: true });
  const next = await addPackVersion(registryDir, 'inat-birds');
  expect(next.version).toBe('1.0.1');
  const old = readManifest(registryDir)!.packs!.find((p) => p.id === 'inat-birds' && p.version === '1.0.0')!;
  const app = await buildApp({ registryDir, dataDir, adminToken: E2E_ADMIN_TOKEN, logger: false, rateLimitMax: 100_000, rolloutGuard: { intervalMs: 0 } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const admin = async (route: string, body: unknown) => {
    const res = await fetch(`${url}/v1/admin/packs/inat-birds/${route}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${E2E_ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, `${route}: ${await res.clone().text()}`).toBe(200);
  };
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'warning' || m.type() === 'error') console.log(`[page ${m.type()}] ${m.text()}`);
  });
  try {
    await page.goto(`${url}/#/model`);
    await allowReports(page);
    const row = page.locator('[data-testid="pack"][data-pack="inat-birds"]');
    await row.getByTestId('pack-download').click();
    await expect(row).toHaveAttribute('data-installed', 'yes', { timeout: 120_000 });
    await expect(row).toContainText('version 1.0.0');

    // Every device is in a 100% canary without holdback; the next read of /v1/models moves this one.
    await admin('1.0.1/canary', { percent: 100, holdback: 0, reason: 'e2e: retrained birds head' });
    await page.reload();
    await expect(row).toContainText('version 1.0.1', { timeout: 120_000 });
    // The new bytes verified and kept, the old ones deleted once the switch was made.
    await expect.poll(async () => (await stored(page)).some((u) => u.includes(old.sha256)), { timeout: 60_000 }).toBe(false);
    expect((await stored(page)).some((u) => u.includes(next.sha256))).toBe(true);

    // Identifications now carry the canary's pack version, which the guard reads per pack arm.
    await page.goto(`${url}/#/`);
    await page.getByTestId('photo-input').setInputFiles(houseFinch);
    await expect(page.getByTestId('pack-result')).toHaveAttribute('data-pack', 'inat-birds', { timeout: 120_000 });
    await expect
      .poll(async () => (await app.store.db.selectFrom('events').select(['pack_id', 'pack_version']).where('type', '=', 'identification').execute()).map((r) => `${r.pack_id}@${r.pack_version}`), {
        timeout: 60_000,
      })
      .toEqual(['inat-birds@1.0.1']);

    // Rolled back: the device returns to the control, downloaded and verified again.
    await admin('rollout/rollback', { reason: 'e2e: back to the converted pack' });
    await page.goto(`${url}/#/model`);
    await page.reload();
    await expect(row).toContainText('version 1.0.0', { timeout: 120_000 });
    await expect.poll(async () => (await stored(page)).some((u) => u.includes(old.sha256)), { timeout: 60_000 }).toBe(true);
    await expect.poll(async () => (await stored(page)).some((u) => u.includes(next.sha256)), { timeout: 60_000 }).toBe(false);
  } finally {
    await context.close();
    await app.close();
    rmSync(registryDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
});

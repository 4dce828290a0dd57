import { test, expect, chromium } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../harness/chromium.ts';
import path from 'node:path';
import { DATA } from './paths.ts';
import { openApp, waitForServiceWorker } from './app.ts';

const beetle = path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00000361.JPEG');

test('after one online visit the app opens, identifies and keeps history with no network', async ({ page, context }) => {
  await openApp(page);
  await waitForServiceWorker(page);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('offline')).toBeVisible();
  await expect(page.getByTestId('model-version')).toHaveText('1.0.0', { timeout: 60_000 });
  await page.getByTestId('photo-input').setInputFiles(beetle);
  await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-taxon', 'tiger-beetle');
  await expect(page.getByTestId('saved')).toBeVisible();

  // History survives a reload (still offline).
  await page.goto('/#/history');
  await page.reload();
  await expect(page.getByTestId('history-item')).toHaveCount(1);
  await expect(page.getByTestId('history-item').first()).toHaveAttribute('data-taxon', 'tiger-beetle');

  // Open it and delete it.
  await page.getByTestId('history-item').first().locator('a').click();
  await expect(page.getByTestId('record')).toBeVisible();
  await page.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByTestId('history-empty')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('history-empty')).toBeVisible();
});

test('delete all empties the history', async ({ page }) => {
  await openApp(page);
  for (const f of ['ILSVRC2012_val_00000361.JPEG', 'ILSVRC2012_val_00000355.JPEG']) {
    await page.getByTestId('photo-input').setInputFiles(path.join(DATA, 'imagenet-val-animals', f));
    await expect(page.getByTestId('saved')).toBeVisible();
    await page.getByTestId('saved').evaluate((el) => el.remove());
  }
  await page.goto('/#/history');
  await expect(page.getByTestId('history-item')).toHaveCount(2);
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Delete all' }).click();
  await expect(page.getByTestId('history-empty')).toBeVisible();
});

test('a stored model whose bytes were altered is detected and not used', async ({ page }) => {
  await openApp(page);
  // The worker keeps the model in the Cache API under its sha256.
  const key = await page.evaluate(async () => {
    const cache = await caches.open('wildsight-models-v1');
    const keys = await cache.keys();
    return keys.map((k) => k.url);
  });
  expect(key).toHaveLength(1);
  await page.evaluate(async (url) => {
    const cache = await caches.open('wildsight-models-v1');
    const good = new Uint8Array(await (await cache.match(url))!.arrayBuffer());
    good[good.length >> 1] ^= 0xff; // flip one byte in the middle of the weights
    await cache.put(url, new Response(good));
  }, key[0]);

  await page.reload();
  await expect(page.getByTestId('engine-notice')).toContainText('was damaged and has been discarded');
  await page.goto('/#/model');
  await expect(page.getByTestId('model-source')).toContainText('the network');
  // The replacement is good and identifies correctly.
  await page.goto('/#/');
  await page.getByTestId('photo-input').setInputFiles(beetle);
  await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-taxon', 'tiger-beetle');
  // And the store holds intact bytes again: the next start loads from the device without a notice.
  await page.reload();
  await expect(page.getByTestId('model-version')).toHaveText('1.0.0');
  await expect(page.getByTestId('engine-notice')).toHaveCount(0);
  await page.goto('/#/model');
  await expect(page.getByTestId('model-source')).toContainText('this device');
});

test('Chromium considers the app installable', async ({ baseURL }) => {
  // Installability is never granted to incognito-like contexts, so use a real profile.
  const profile = mkdtempSync(path.join(tmpdir(), 'wildsight-profile-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, baseURL });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await openApp(page);
    await waitForServiceWorker(page);
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    expect(installabilityErrors).toEqual([]);
    const manifest = await cdp.send('Page.getAppManifest');
    expect(manifest.errors).toEqual([]);
    expect(JSON.parse(manifest.data!)).toMatchObject({ name: 'Wildsight', display: 'standalone' });
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

import { test, expect, type Page } from '@playwright/test';
import path from 'node:path';
import { DATA } from './paths.ts';
import { openApp, waitForServiceWorker } from './app.ts';

// ImageNet val photos whose class is one species the bird pack knows (models/pack-label-map.json).
const houseFinch = path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00004375.JPEG'); // a launch taxon: the base answer routes it
const limpkin = path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00025929.JPEG'); // not a launch taxon: the base model declines it

const CACHE = 'wildsight-models-v1';
const cachedKeys = (page: Page) => page.evaluate(async (name) => (await (await caches.open(name)).keys()).map((k) => k.url), CACHE);
const usage = (page: Page) => page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);

test('offline, a downloaded bird pack names the species; removing it frees its storage', async ({ page, context }) => {
  await openApp(page);
  await waitForServiceWorker(page);
  const served = await page.evaluate(async () => (await (await fetch('/v1/models')).json()) as { packs?: Array<{ id: string; sha256: string; bytes: number }> });
  const birds = served.packs?.find((p) => p.id === 'inat-birds');
  expect(birds, '/v1/models lists the bird pack').toBeTruthy();

  await page.goto('/#/model');
  const row = page.locator('[data-testid="pack"][data-pack="inat-birds"]');
  await expect(row).toHaveAttribute('data-installed', 'no');
  await expect(row.getByTestId('pack-size')).toHaveText(`${(birds!.bytes / (1024 * 1024)).toFixed(1)} MB`);
  const before = await usage(page);
  await row.getByTestId('pack-download').click();
  await expect(row).toHaveAttribute('data-installed', 'yes', { timeout: 60_000 });
  expect((await cachedKeys(page)).some((k) => k.includes(birds!.sha256))).toBe(true);
  const withPack = await usage(page);

  // No network from here on: the pack comes from the device, verified.
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('offline')).toBeVisible();
  await page.goto('/#/');
  await expect(page.getByTestId('model-version')).toHaveText('1.0.0', { timeout: 60_000 });

  // A launch bird: the base answer rolls up to Aves, so the pack runs by itself.
  await page.getByTestId('photo-input').setInputFiles(houseFinch);
  await expect(page.getByTestId('pack-result')).toHaveAttribute('data-pack', 'inat-birds');
  await expect(page.getByTestId('pack-result')).toHaveAttribute('data-routed-by', 'rollup');
  await expect(page.getByTestId('pack-suggestion').first()).toHaveAttribute('data-taxon', 'haemorhous-mexicanus');
  // The base model's answer stays beside it.
  await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-taxon', 'house-finch');
  await expect(page.getByTestId('saved')).toBeVisible();

  // A bird the base model does not know: declined, until the user says it is a bird.
  await page.getByTestId('saved').evaluate((el) => el.remove());
  await page.getByTestId('photo-input').setInputFiles(limpkin);
  await expect(page.getByTestId('saved')).toBeVisible();
  await expect(page.getByTestId('summary')).toHaveText('Not one of our species.');
  await expect(page.getByTestId('pack-result')).toHaveCount(0);
  await page.locator('[data-testid="pack-ask"][data-pack="inat-birds"]').click();
  await expect(page.getByTestId('pack-result')).toHaveAttribute('data-routed-by', 'user');
  await expect(page.getByTestId('pack-suggestion').first()).toHaveAttribute('data-taxon', 'aramus-guarauna');
  // The tap asks the pack about the same photo: its answer joins that record, no second one (the house finch's and the limpkin's).
  await expect(page.getByTestId('saved')).toBeVisible();
  await page.goto('/#/history');
  await expect(page.getByTestId('history-item')).toHaveCount(2);

  // Removing it (still offline) deletes its bytes from the device.
  await page.goto('/#/model');
  const beforeRemove = await usage(page);
  await row.getByTestId('pack-remove').click();
  await expect(row).toHaveAttribute('data-installed', 'no');
  expect((await cachedKeys(page)).some((k) => k.includes(birds!.sha256))).toBe(false);
  const after = await usage(page);
  console.log(`storage usage: before the download ${before}, after it ${withPack}, before removing ${beforeRemove}, after ${after} (pack ${birds!.bytes} bytes)`);
  expect(withPack - before).toBeGreaterThanOrEqual(birds!.bytes);
  expect(beforeRemove - after).toBeGreaterThanOrEqual(birds!.bytes);

  // Without the pack a bird photo gets the base answer only.
  await page.goto('/#/');
  await page.getByTestId('photo-input').setInputFiles(houseFinch);
  await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-taxon', 'house-finch');
  await expect(page.getByTestId('pack-result')).toHaveCount(0);
});

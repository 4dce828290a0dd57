import { test, expect, type Browser } from '@playwright/test';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REGISTRY_DIR } from '../node/paths.ts';
import { occurrenceKey } from '../core/location-prior.ts';
import { roundToCell } from '../core/telemetry.ts';
import { DATA } from './paths.ts';
import { openApp } from './app.ts';
import { allowReports } from './consent.ts';
import { watchRequests } from './privacy.ts';

// A zebra (launch taxon, Afrotropic only in models/ranges/ranges.json) the model gets right with a strong probability.
const zebra = path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00027429.JPEG');
const NAIROBI = { latitude: -1.28333, longitude: 36.81667, accuracy: 5 };
const PARIS = { latitude: 48.85661, longitude: 2.35222, accuracy: 5 };

async function identifyAt(browser: Browser, baseURL: string | undefined, place: typeof NAIROBI) {
  const context = await browser.newContext({ baseURL, permissions: ['geolocation'], geolocation: place });
  const page = await context.newPage();
  const seen = watchRequests(page);
  await openApp(page);
  await allowReports(page);
  await page.getByTestId('allow-location').check();
  await expect(page.getByTestId('ignore-location')).not.toBeChecked(); // the default: the prior is used
  await page.getByTestId('photo-input').setInputFiles(zebra);
  await expect(page.getByTestId('result')).toBeVisible({ timeout: 60_000 });
  return { context, page, seen };
}

test('with location allowed and "ignore location" off, the answer carries the prior\'s mark; the switch takes it off', async ({ browser, baseURL }) => {
  const { context, page, seen } = await identifyAt(browser, baseURL, NAIROBI);
  const top = page.getByTestId('suggestion').first();
  await expect(top).toHaveAttribute('data-taxon', 'zebra');
  await expect(top.getByTestId('location-mark')).toHaveText(/expected here/);
  await expect(page.getByTestId('location-note')).toContainText('Afrotropic');

  await page.getByTestId('ignore-location').check();
  await expect(page.getByTestId('location-mark')).toHaveCount(0);
  await expect(page.getByTestId('location-note')).toHaveCount(0);
  await page.getByTestId('ignore-location').uncheck();
  await expect(top.getByTestId('location-mark')).toHaveText(/expected here/);

  // The same photo in the "ignore by default" setting: a new photo starts with location ignored.
  await page.getByTestId('ignore-location-default').check();
  await page.getByTestId('photo-input').setInputFiles(zebra);
  await expect(page.getByTestId('ignore-location')).toBeChecked();
  await expect(page.getByTestId('result')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('location-mark')).toHaveCount(0);

  // Nothing finer than the 0.2-degree grid left the device (the report went out meanwhile).
  await expect.poll(() => seen.requests.some((r) => r.startsWith('POST /v1/events')), { timeout: 30_000 }).toBe(true);
  expect(seen.problems).toEqual([]);
  await context.close();
});

test('a zebra photographed in Paris (a zoo) is marked unusual here but still wins on a strong photo', async ({ browser, baseURL }) => {
  const { context, page, seen } = await identifyAt(browser, baseURL, PARIS);
  const top = page.getByTestId('suggestion').first();
  await expect(top).toHaveAttribute('data-taxon', 'zebra');
  await expect(top.getByTestId('location-mark')).toHaveText(/unusual here/);
  await expect(page.getByTestId('location-note')).toContainText('Palearctic');
  expect(seen.problems).toEqual([]);
  await context.close();
});

test("the running version's occurrence table is downloaded and used: zebras reported around Paris every month make the zoo zebra expected", async ({ browser, baseURL }) => {
  // A table as the pipeline writes it beside a version (pipeline/occurrence-table.ts), for the version the app runs; removed afterwards.
  const active = JSON.parse(readFileSync(path.join(REGISTRY_DIR, 'manifest.json'), 'utf8')).active as string;
  const file = path.join(REGISTRY_DIR, active, 'occurrence.json');
  expect(existsSync(file)).toBe(false); // never overwrite a real table
  const cell = roundToCell(PARIS.latitude, PARIS.longitude);
  const cells = Object.fromEntries(Array.from({ length: 12 }, (_, m) => [occurrenceKey(cell.lat, cell.lon, m + 1), { zebra: 500 }]));
  writeFileSync(file, JSON.stringify({ cellDeg: 0.2, minInstalls: 5, cells }) + '\n');
  try {
    const { context, page, seen } = await identifyAt(browser, baseURL, PARIS);
    const top = page.getByTestId('suggestion').first();
    await expect(top).toHaveAttribute('data-taxon', 'zebra');
    // Without the table this is "unusual here" (the test above); the sightings lift it.
    await expect(top.getByTestId('location-mark')).toHaveText(/expected here/);
    await expect(page.getByTestId('location-note')).toContainText('reported sightings there this month');
    expect(seen.requests.filter((r) => r === `GET /models/registry/${active}/occurrence.json`)).toHaveLength(1);
    // Kept on the device for offline use.
    expect(await page.evaluate(async () => (await caches.open('wildsight-occurrence')).keys().then((k) => k.map((r) => new URL(r.url).pathname)))).toEqual([
      `/models/registry/${active}/occurrence.json`,
    ]);
    expect(seen.problems).toEqual([]);
    await context.close();
  } finally {
    // The server's lazily written compressed copies go too (it also drops them once the file is gone).
    for (const f of [file, `${file}.br`, `${file}.gz`]) rmSync(f, { force: true });
  }
});

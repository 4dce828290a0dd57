import { test, expect, type Browser } from '@playwright/test';
import path from 'node:path';
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

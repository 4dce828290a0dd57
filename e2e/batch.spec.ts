import { test, expect } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DATA } from './paths.ts';
import { openApp } from './app.ts';

const dir = path.join(DATA, 'imagenet-samples-animals');
const photos = readdirSync(dir)
  .filter((f) => /\.jpe?g$/i.test(f))
  .sort()
  .slice(0, 50);
const payload = (f: string) => ({ name: f, mimeType: 'image/jpeg', buffer: readFileSync(path.join(dir, f)) });
const corrupt = { name: 'n00000000_corrupt.jpg', mimeType: 'image/jpeg', buffer: Buffer.concat([readFileSync(path.join(dir, photos[0])).subarray(0, 20), Buffer.alloc(2000, 0x42)]) };

test('a batch of 50 photos completes with progress to 100%; a corrupt file reports its own error', async ({ page }) => {
  test.setTimeout(300_000);
  await openApp(page, '/#/batch');
  const files = [...photos.slice(0, 25).map(payload), corrupt, ...photos.slice(25).map(payload)];
  await page.getByTestId('batch-input').setInputFiles(files);
  await expect(page.getByTestId('batch-status')).toContainText('Done: 51 photos', { timeout: 240_000 });
  await expect(page.getByTestId('batch-progress')).toHaveAttribute('value', '100');
  await expect(page.getByTestId('batch-ok')).toHaveCount(50);
  await expect(page.getByTestId('batch-error')).toHaveCount(1);
  await expect(page.getByTestId('batch-error')).toContainText('n00000000_corrupt.jpg');
  await expect(page.getByTestId('batch-error')).toContainText('damaged');
  // Results land in history.
  await page.goto('/#/history');
  await expect(page.getByTestId('history-item')).toHaveCount(50);
});

test('cancel stops the rest of a batch', async ({ page }) => {
  test.setTimeout(300_000);
  await openApp(page, '/#/batch');
  await page.getByTestId('batch-input').setInputFiles(photos.map(payload));
  await expect(page.getByTestId('batch-count')).not.toHaveText(/^0 \//, { timeout: 60_000 });
  await page.getByTestId('batch-cancel').click();
  await expect(page.getByTestId('batch-status')).toContainText('Cancelled', { timeout: 60_000 });
  const done = Number((await page.getByTestId('batch-count').textContent())!.split(' ')[0]);
  expect(done).toBeGreaterThan(0);
  expect(done).toBeLessThan(50);
  await page.goto('/#/history');
  await expect(page.getByTestId('history-item')).toHaveCount(done);
});

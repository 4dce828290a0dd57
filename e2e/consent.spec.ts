/**
 * Consent first: nothing goes to /v1/events before the user answers the
 * first-run question, "no" sends nothing afterwards, turning reports off
 * empties the queue, and "Delete my data" removes this install's rows on
 * the server.
 */
import { test, expect, type Page } from '@playwright/test';
import path from 'node:path';
import { DATA } from './paths.ts';
import { openApp } from './app.ts';
import { allowReports, declineReports } from './consent.ts';
import { E2E_ADMIN_TOKEN } from './admin.ts';

const beetle = path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00000361.JPEG');
const auth = { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` };

/** Every POST the page (and its workers) make, by path. */
function posts(page: Page): string[] {
  const seen: string[] = [];
  page.context().on('request', (r) => {
    if (r.method() !== 'GET' && r.method() !== 'HEAD') seen.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });
  return seen;
}

async function identify(page: Page) {
  await page.getByTestId('photo-input').setInputFiles(beetle);
  await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-taxon', 'tiger-beetle');
}

/** Lets the outbox run: it flushes on start, after each report and every 30 s. */
async function flushNow(page: Page) {
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await page.waitForTimeout(1500);
}

test('a first run sends nothing to /v1/events until the user chooses; "yes" sends from then on', async ({ page }) => {
  const sent = posts(page);
  await openApp(page);
  await expect(page.getByTestId('consent')).toBeVisible();
  await expect(page.getByTestId('footer')).toContainText('nothing is sent unless you send a correction');
  await identify(page);
  await flushNow(page);
  expect(sent).toEqual([]);
  await expect(page.getByTestId('outbox-badge')).toHaveCount(0);

  await allowReports(page);
  await expect(page.getByTestId('footer')).toContainText('Anonymous reports are on');
  await identify(page);
  await expect.poll(() => sent.filter((s) => s === 'POST /v1/events').length, { timeout: 30_000 }).toBe(1);
  // The credential was asked for only now that there was something to send.
  expect(sent[0]).toBe('POST /v1/installs');
});

test('choosing "no" sends nothing afterwards, and a reload does not ask again', async ({ page }) => {
  const sent = posts(page);
  await openApp(page);
  await declineReports(page);
  await identify(page);
  await flushNow(page);
  await page.reload();
  await expect(page.getByTestId('model-version')).toHaveText(/\d+\.\d+\.\d+/, { timeout: 60_000 });
  await expect(page.getByTestId('consent')).toHaveCount(0);
  await identify(page);
  await flushNow(page);
  expect(sent).toEqual([]);
  await page.goto('/#/privacy');
  await expect(page.getByTestId('share-reports')).not.toBeChecked();
  await expect(page.getByTestId('install-id')).toContainText('none yet');
});

test('turning reports off empties the queued outbox', async ({ page, context }) => {
  const sent = posts(page);
  await openApp(page);
  await allowReports(page);
  await context.setOffline(true);
  await identify(page);
  await identify(page);
  await expect(page.getByTestId('outbox-badge')).toHaveText('2 to send');
  await page.goto('/#/privacy');
  await expect(page.getByTestId('outbox-length')).toHaveText('2 reports waiting to be sent.');
  await page.getByTestId('share-reports').uncheck();
  await expect(page.getByTestId('outbox-length')).toHaveText('Nothing is waiting to be sent.');
  await context.setOffline(false);
  await flushNow(page);
  expect(sent.filter((s) => s === 'POST /v1/events')).toEqual([]);
});

test('"Delete my data" removes this install\'s rows on the server', async ({ page, request }) => {
  await openApp(page);
  await allowReports(page);
  await identify(page);
  await page.getByTestId('wrong').click();
  await page.getByTestId('species-search').fill('ladybug');
  await page.locator('[data-testid="species-option"][data-taxon="ladybug"]').click();
  await expect(page.getByTestId('correction-status')).toContainText('recorded');
  await expect(page.getByTestId('outbox-badge')).toHaveCount(0, { timeout: 60_000 });

  await page.goto('/#/privacy');
  // The credential came with the first send; the page may show its earlier read for a moment.
  await expect(page.getByTestId('install-id')).toHaveText(/^[0-9a-f-]{36}$/);
  const installId = (await page.getByTestId('install-id').textContent())!.trim();
  const rows = async () => {
    const res = await request.get('/v1/admin/events?limit=1000', { headers: auth });
    expect(res.ok()).toBe(true);
    return ((await res.json()).items as Array<{ installId: string; type: string }>).filter((e) => e.installId === installId);
  };
  const before = await rows();
  expect(before.map((e) => e.type).sort()).toEqual(['correction', 'identification']);

  await page.getByTestId('delete-my-data').click();
  await expect(page.getByTestId('delete-result')).toContainText('Deleted from the server: 2 events (1 of them a correction) and 0 photos');
  expect(await rows()).toEqual([]);
  // A fresh start: the old id is gone from this device too.
  await expect(page.getByTestId('install-id')).toContainText('none yet');
});

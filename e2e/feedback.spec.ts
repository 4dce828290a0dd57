import { test, expect, type Page, type Request } from '@playwright/test';
import path from 'node:path';
import { DATA } from './paths.ts';
import { openApp, waitForServiceWorker } from './app.ts';
import { adminCorrections, adminEvents, E2E_ADMIN_TOKEN } from './admin.ts';
import { watchRequests } from './privacy.ts';
import { allowReports } from './consent.ts';
import { jpegMetadataSegments } from '../core/image-probe.ts';

const beetle = path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00000361.JPEG');
// A photo that carries EXIF: the app must never send it as it is.
const owlWithExif = path.join(DATA, 'imagenet-samples-animals', 'n01622779_great_grey_owl.JPEG');

async function outboxEmpty(page: Page) {
  await expect(page.getByTestId('outbox-badge')).toHaveCount(0, { timeout: 60_000 });
}

/** What waits in the app's outbox (IndexedDB), counted by event type. */
async function outboxTypes(page: Page): Promise<Record<string, number>> {
  return page.evaluate(
    () =>
      new Promise<Record<string, number>>((resolve, reject) => {
        const open = indexedDB.open('wildsight');
        open.onerror = () => reject(open.error ?? new Error('indexedDB.open failed'));
        open.onsuccess = () => {
          const all = open.result.transaction('outbox').objectStore('outbox').getAll();
          all.onerror = () => reject(all.error ?? new Error('outbox getAll failed'));
          all.onsuccess = () => {
            const counts: Record<string, number> = {};
            for (const item of all.result as Array<{ event: { type: string } }>) counts[item.event.type] = (counts[item.event.type] ?? 0) + 1;
            open.result.close();
            resolve(counts);
          };
        };
      }),
  );
}

async function correctTo(page: Page, search: string, taxon: string) {
  await page.getByTestId('wrong').click();
  await page.getByTestId('species-search').fill(search);
  await page.locator(`[data-testid="species-option"][data-taxon="${taxon}"]`).click();
  await expect(page.getByTestId('correction-status')).toContainText('recorded');
}

test('a correction made offline arrives exactly once; a resent batch stores nothing new', async ({ page, context, request }) => {
  await openApp(page);
  await allowReports(page);
  await waitForServiceWorker(page);
  const before = (await adminCorrections(request)).length;

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('model-version')).toHaveText('1.0.0');
  await page.getByTestId('photo-input').setInputFiles(beetle);
  await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-taxon', 'tiger-beetle');
  await correctTo(page, 'ladybug', 'ladybug');
  // The identification report and the correction wait in the outbox, across a reload
  // (beside model-health reports: each start reports the version it loaded).
  await expect.poll(() => outboxTypes(page)).toMatchObject({ identification: 1, correction: 1 });
  await page.reload();
  await expect(page.getByTestId('model-version')).toHaveText('1.0.0');
  await expect.poll(() => outboxTypes(page)).toMatchObject({ identification: 1, correction: 1 });

  const sent: Request[] = [];
  page.context().on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/v1/events')) sent.push(r);
  });
  await context.setOffline(false);
  await outboxEmpty(page);

  const after = await adminCorrections(request);
  const mine = after.filter((c) => c.taxonId === 'ladybug' && c.verdict === 'corrected');
  expect(after.length - before).toBe(1);
  expect(mine).toHaveLength(1);
  const identifications = await adminEvents(request, 'identification');
  expect(identifications.filter((e) => e.eventId === mine[0].correctsEventId)).toHaveLength(1);

  // Deliver the same batch again: accepted as duplicates, nothing stored twice.
  expect(sent.length).toBeGreaterThan(0);
  for (const r of sent) {
    const res = await request.post('/v1/events', { data: r.postDataJSON(), headers: { Authorization: (await r.allHeaders()).authorization } });
    expect(res.status()).toBe(200);
    const body = await res.json();
    expect(body.accepted).toBe(0);
    expect(body.duplicates).toBe(r.postDataJSON().events.length);
  }
  expect((await adminCorrections(request)).length).toBe(after.length);
});

test('no request carries EXIF, a precise location, or photo bytes without the opt-in', async ({ browser, baseURL, request }) => {
  const context = await browser.newContext({ baseURL, permissions: ['geolocation'], geolocation: { latitude: 51.47712, longitude: -0.00123, accuracy: 5 } });
  const page = await context.newPage();
  let photoOptIn = false;
  const seen = watchRequests(page, { photoOptIn: () => photoOptIn });
  await openApp(page);

  // 1. No opt-ins: the report and the correction go out without photo or place.
  await page.getByTestId('photo-input').setInputFiles(owlWithExif);
  await expect(page.getByTestId('result')).toBeVisible();
  await page.getByTestId('wrong').click();
  await page.getByTestId('none-of-these').click();
  await page.getByTestId('proposed-name').fill('Great grey owl');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByTestId('correction-status')).toContainText('recorded');
  await outboxEmpty(page);
  expect(seen.problems).toEqual([]);
  const plain = (await adminCorrections(request)).find((c) => c.proposedName === 'Great grey owl');
  expect(plain).toMatchObject({ hasPhoto: false, cell: null });

  // 2. Both opt-ins: the photo goes without EXIF and at most 1024 px, the place as its 0.2-degree cell.
  await page.getByTestId('photo-input').setInputFiles(owlWithExif);
  await expect(page.getByTestId('result')).toBeVisible();
  await page.getByTestId('share-photo').check();
  await page.getByTestId('share-location').check();
  photoOptIn = true;
  await page.getByTestId('wrong').click();
  await page.getByTestId('none-of-these').click();
  await page.getByTestId('proposed-name').fill('Great grey owl, shared');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByTestId('correction-status')).toContainText('recorded');
  await outboxEmpty(page);
  expect(seen.problems).toEqual([]);
  const shared = (await adminCorrections(request)).find((c) => c.proposedName === 'Great grey owl, shared')!;
  expect(shared).toMatchObject({ hasPhoto: true, cell: { lat: 51.4, lon: 0 } });
  const photo = await request.get(`/v1/admin/corrections/${String(shared.eventId)}/photo`, { headers: { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` } });
  expect(photo.ok()).toBe(true);
  const bytes = new Uint8Array(await photo.body());
  expect(jpegMetadataSegments(bytes)).not.toContain('exif');
  // And nothing anywhere carried the precise fix.
  expect(JSON.stringify(seen.bodies)).not.toContain('51.477');
  await context.close();
});

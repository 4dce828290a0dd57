import { test, expect, type Page, type Response } from '@playwright/test';
import path from 'node:path';
import { DATA } from './paths.ts';
import { openApp, waitForServiceWorker } from './app.ts';
import { allowReports } from './consent.ts';
import { adminCorrections } from './admin.ts';

// A launch bird the base model rolls up to Aves, so the bird pack answers it by itself (House Finch).
const houseFinch = path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00004375.JPEG');

interface QueuedEvent {
  type: string;
  eventId: string;
  correctsEventId?: string;
  verdict?: string;
  taxonId?: string;
  embedding?: number[];
  pack?: { id: string; version: string; embedding?: number[]; top5?: unknown[] };
}

/** The events waiting in the app's outbox (IndexedDB). */
function outboxEvents(page: Page): Promise<QueuedEvent[]> {
  return page.evaluate(
    () =>
      new Promise<QueuedEvent[]>((resolve, reject) => {
        const open = indexedDB.open('wildsight');
        open.onerror = () => reject(open.error ?? new Error('indexedDB.open failed'));
        open.onsuccess = () => {
          const all = open.result.transaction('outbox').objectStore('outbox').getAll();
          all.onerror = () => reject(all.error ?? new Error('outbox getAll failed'));
          all.onsuccess = () => {
            open.result.close();
            resolve((all.result as Array<{ event: QueuedEvent }>).map((i) => i.event));
          };
        };
      }),
  );
}

/**
 * Types a query a key at a time and times each keystroke's input event on
 * the page: from a capturing listener on window (first to run) to a bubbling
 * one (last, after React's root listener filtered the list and rendered it).
 * Also what the Event Timing API reports: inputs whose key-to-next-paint
 * took 16 ms or more (it reports nothing shorter).
 */
async function typeTimed(page: Page, query: string): Promise<{ keys: number; handlerMs: number[]; slowPaintMs: number[] }> {
  await page.evaluate(() => {
    const w = window as unknown as { __keys: { handlerMs: number[]; slowPaintMs: number[] } };
    w.__keys = { handlerMs: [], slowPaintMs: [] };
    let start = 0;
    window.addEventListener('input', () => (start = performance.now()), { capture: true });
    window.addEventListener('input', () => w.__keys.handlerMs.push(+(performance.now() - start).toFixed(2)));
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.name === 'input') w.__keys.slowPaintMs.push(Math.round(e.duration));
    }).observe({ type: 'event', durationThreshold: 16 } as PerformanceObserverInit);
  });
  await page.getByTestId('species-search').pressSequentially(query, { delay: 60 });
  await page.waitForTimeout(300); // Event Timing entries are delivered after the paint they measure.
  const seen = await page.evaluate(() => (window as unknown as { __keys: { handlerMs: number[]; slowPaintMs: number[] } }).__keys);
  return { keys: query.length, ...seen };
}

const typingLine = (what: string, t: Awaited<ReturnType<typeof typeTimed>>) =>
  `picker typing, ${what}: ${t.keys} keys; filter and render per key (ms) ${JSON.stringify(t.handlerMs)}; key to next paint of 16 ms or more: ${JSON.stringify(t.slowPaintMs)}`;

test("offline, a correction of the bird pack's answer names a pack species, carries the pack's embedding and is stored", async ({ page, context, request }) => {
  await openApp(page);
  await allowReports(page);
  await waitForServiceWorker(page);
  const served = await page.evaluate(async () => (await (await fetch('/v1/models')).json()) as { packs?: Array<{ id: string; version: string }> });
  const birds = served.packs?.find((p) => p.id === 'inat-birds');
  expect(birds, '/v1/models lists the bird pack').toBeTruthy();

  await page.goto('/#/model');
  const row = page.locator('[data-testid="pack"][data-pack="inat-birds"]');
  await row.getByTestId('pack-download').click();
  await expect(row).toHaveAttribute('data-installed', 'yes', { timeout: 60_000 });

  // No network from here until the outbox is released: the picker's pack taxa come from the device.
  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('offline')).toBeVisible();
  await page.goto('/#/');
  await expect(page.getByTestId('model-version')).toHaveText('1.0.0', { timeout: 60_000 });
  await page.getByTestId('photo-input').setInputFiles(houseFinch);
  await expect(page.getByTestId('pack-result')).toHaveAttribute('data-pack', 'inat-birds');
  await expect(page.getByTestId('saved')).toBeVisible();
  const packTop5 = await page.getByTestId('pack-suggestion').evaluateAll((els) => els.map((e) => e.getAttribute('data-taxon')));
  expect(packTop5[0]).toBe('haemorhous-mexicanus');
  // "Right" would confirm the pack's species, not the base answer's.
  await expect(page.getByTestId('right')).toHaveAttribute('data-taxon', 'haemorhous-mexicanus');

  // The picker: the pack's top-5 first, in order, then a search by common name over launch and pack taxa.
  await page.getByTestId('wrong').click();
  await expect(page.getByTestId('species-option').first()).toBeVisible();
  const offered = await page.getByTestId('species-option').evaluateAll((els) => els.map((e) => e.getAttribute('data-taxon')));
  expect(offered.slice(0, packTop5.length)).toEqual(packTop5);
  const typing = await typeTimed(page, 'Blue Jay');
  console.log(typingLine("with the bird pack's taxa", typing));
  expect(typing.handlerMs).toHaveLength(typing.keys);
  const blueJay = page.locator('[data-testid="species-option"][data-taxon="cyanocitta-cristata"]');
  await expect(blueJay).toHaveAttribute('data-source', 'pack');
  await expect(blueJay).toContainText('Blue Jay');
  await blueJay.click();
  await expect(page.getByTestId('correction-status')).toContainText('recorded as Blue Jay');

  // Queued as the device will send it: the pack taxon, and the pack's own 1280-d embedding beside the base model's.
  const queued = await outboxEvents(page);
  const correction = queued.find((e) => e.type === 'correction' && e.taxonId === 'cyanocitta-cristata');
  expect(correction, JSON.stringify(queued.map((e) => e.type))).toBeTruthy();
  expect(correction!.verdict).toBe('corrected');
  expect(correction!.pack).toMatchObject({ id: 'inat-birds', version: birds!.version });
  expect(correction!.pack!.embedding).toHaveLength(1280);
  expect(correction!.pack!.embedding!.every((v) => Number.isFinite(v))).toBe(true);
  expect(correction!.embedding).toHaveLength(1280);
  expect(correction!.pack!.embedding).not.toEqual(correction!.embedding);
  const identification = queued.find((e) => e.type === 'identification' && e.eventId === correction!.correctsEventId);
  expect(identification?.pack).toMatchObject({ id: 'inat-birds', version: birds!.version });

  // History names the pack's species, and the correction by its common name.
  await page.goto('/#/history');
  const item = page.getByTestId('history-item').first();
  await expect(item).toHaveAttribute('data-pack-taxon', 'haemorhous-mexicanus');
  await expect(item).toHaveAttribute('data-corrected-to', 'cyanocitta-cristata');
  await expect(item.getByTestId('history-answer')).toHaveText('House Finch');
  await expect(item.getByTestId('history-correction')).toHaveText(' · corrected to Blue Jay');
  await item.locator('a').click();
  await expect(page.getByTestId('pack-result')).toHaveAttribute('data-pack', 'inat-birds');
  await expect(page.getByTestId('correction-done')).toHaveText('You marked this as Blue Jay.');

  // Online: the outbox sends it and the server accepts it.
  const replies: Response[] = [];
  page.on('response', (r) => {
    if (r.request().method() === 'POST' && r.url().endsWith('/v1/events')) replies.push(r);
  });
  await context.setOffline(false);
  await expect(page.getByTestId('outbox-badge')).toHaveCount(0, { timeout: 60_000 });
  const carrying = replies.filter((r) => (r.request().postDataJSON() as { events: QueuedEvent[] }).events.some((e) => e.eventId === correction!.eventId));
  expect(carrying).toHaveLength(1);
  const sent = (carrying[0].request().postDataJSON() as { events: QueuedEvent[] }).events.find((e) => e.eventId === correction!.eventId)!;
  expect(sent.pack?.embedding).toHaveLength(1280);
  expect(carrying[0].status()).toBe(200);
  expect(await carrying[0].json()).toMatchObject({ rejected: [] });
  const stored = (await adminCorrections(request)).filter((c) => c.eventId === correction!.eventId);
  expect(stored).toHaveLength(1);
  expect(stored[0]).toMatchObject({ taxonId: 'cyanocitta-cristata', verdict: 'corrected', correctsEventId: correction!.correctsEventId });
});

test('with no pack on the device the picker offers no pack species', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('photo-input').setInputFiles(houseFinch);
  await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-taxon', 'house-finch');
  await expect(page.getByTestId('pack-result')).toHaveCount(0);
  await page.getByTestId('wrong').click();
  // The same typing over the launch taxa alone: the yardstick for the figure the test above prints.
  const typing = await typeTimed(page, 'Blue Jay');
  console.log(typingLine('launch taxa only', typing));
  await expect(page.getByTestId('species-option')).toHaveCount(0);
  await page.getByTestId('species-search').fill('finch');
  await expect(page.locator('[data-testid="species-option"][data-taxon="house-finch"]')).toHaveAttribute('data-source', 'launch');
  await expect(page.locator('[data-testid="species-option"][data-source="pack"]')).toHaveCount(0);
});

/**
 * An observation of three photos of the same animal: each photo's own answer
 * stays visible, the observation gets one fused answer (here the first photo
 * alone is wrong and the fused answer is right), one correction covers the
 * whole observation, and history lists it once. Old single-photo history
 * is migrated to 1-photo observations.
 */
import { test, expect, type Page, type Request } from '@playwright/test';
import path from 'node:path';
import { DATA } from './paths.ts';
import { openApp } from './app.ts';
import { allowReports } from './consent.ts';
import { adminCorrections, adminEvents } from './admin.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { fuseLogits } from '../core/fusion.ts';

// Three imagenet-val photos labelled 'ringlet' (butterfly); the model alone calls the first a gossamer-winged butterfly.
const RINGLETS = ['ILSVRC2012_val_00006514.JPEG', 'ILSVRC2012_val_00029047.JPEG', 'ILSVRC2012_val_00035107.JPEG'].map((f) => path.join(DATA, 'imagenet-val-animals', f));

async function outboxEmpty(page: Page) {
  await expect(page.getByTestId('outbox-badge')).toHaveCount(0, { timeout: 60_000 });
}

test('a 3-photo observation gets one fused answer and one correction', async ({ page, request }) => {
  // What Node says, photo by photo and fused, with the same core/ code.
  const node = await NodeClassifier.load({ version: '1.0.0' });
  const alone = [];
  for (const f of RINGLETS) alone.push(await node.classifyFile(f));
  const fusedNode = node.interpret(fuseLogits(alone.map((r) => r.logits)));
  await node.release();
  const singles = alone.map((r) => (r.prediction.abstain ? 'other' : r.prediction.top5[0].taxonId));
  expect(singles).toEqual(['gossamer-winged-butterfly', 'ringlet', 'ringlet']);
  expect(fusedNode.top5[0].taxonId).toBe('ringlet');

  const posted: Request[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/v1/events')) posted.push(r);
  });
  await openApp(page, '/?backend=wasm');
  await allowReports(page);

  // Photo 1: its own answer, wrong.
  await page.getByTestId('photo-input').setInputFiles(RINGLETS[0]);
  await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-taxon', 'gossamer-winged-butterfly');
  await expect(page.getByTestId('observation-photos')).toHaveCount(0);
  const href = await page.getByTestId('saved').getByRole('link').getAttribute('href');
  const observationId = decodeURIComponent(href!.replace('#/history/', ''));

  // Photos 2 and 3 join the same observation.
  await expect(page.getByTestId('add-photo')).toContainText('1 of 5');
  await page.getByTestId('add-photo-input').setInputFiles(RINGLETS[1]);
  await expect(page.getByTestId('observation-photo')).toHaveCount(2);
  await expect(page.getByTestId('add-photo')).toContainText('2 of 5');
  await page.getByTestId('add-photo-input').setInputFiles(RINGLETS[2]);
  await expect(page.getByTestId('observation-photo')).toHaveCount(3);

  // One fused answer, right, as Node fuses it; each photo's own answer still shown.
  await expect(page.getByTestId('result')).toHaveCount(1);
  await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-taxon', 'ringlet');
  const shownP = Number(await page.getByTestId('suggestion').first().getByRole('meter').getAttribute('aria-valuenow'));
  expect(Math.abs(shownP - Math.round(fusedNode.top5[0].probability * 100))).toBeLessThanOrEqual(1);
  expect(await page.getByTestId('observation-photo').evaluateAll((els) => els.map((e) => e.getAttribute('data-taxon')))).toEqual(singles);
  // Still the same observation (the same history entry).
  await expect(page.getByTestId('saved').getByRole('link')).toHaveAttribute('href', href!);

  // One correction for the whole observation; no more photos after it.
  await page.getByTestId('right').click();
  await expect(page.getByTestId('correction-status')).toContainText('recorded');
  await expect(page.getByTestId('add-photo')).toHaveCount(0);
  await outboxEmpty(page);

  const mine = (await adminCorrections(request)).filter((c) => c.correctsEventId === observationId);
  expect(mine).toHaveLength(1);
  expect(mine[0]).toMatchObject({ verdict: 'confirmed', taxonId: 'ringlet' });
  const stored = (await adminEvents(request, 'identification')).filter((e) => e.eventId === observationId);
  expect(stored).toHaveLength(1);
  // The server keeps the first copy of an event id: the report was held until the observation closed, so that copy is the fused answer of three photos.
  const report = stored[0].payload as { top5: Array<{ taxonId: string; p: number }>; photoCount?: number };
  expect(report.photoCount).toBe(3);
  expect(report.top5[0].taxonId).toBe('ringlet');
  expect(Math.abs(report.top5[0].p - fusedNode.top5[0].probability)).toBeLessThan(0.01);
  // The correction event said it covers three photos; one identification report for the observation, not one per photo.
  const events = posted.flatMap((r) => (r.postDataJSON() as { events: Array<Record<string, unknown>> }).events);
  expect(events.filter((e) => e.type === 'correction')).toEqual([expect.objectContaining({ correctsEventId: observationId, photoCount: 3 })]);
  // (A correction carries its identification again, under the same event id, so the server can check it; it stores it once.)
  expect(new Set(events.filter((e) => e.type === 'identification').map((e) => e.eventId))).toEqual(new Set([observationId]));

  // History: one entry of three photos, its fused answer, each photo's answer, the correction.
  await page.goto('/?backend=wasm#/history');
  await expect(page.getByTestId('history-item')).toHaveCount(1);
  await expect(page.getByTestId('history-item')).toHaveAttribute('data-photos', '3');
  await expect(page.getByTestId('history-item')).toHaveAttribute('data-taxon', 'ringlet');
  await page.getByTestId('history-item').getByRole('link').click();
  await expect(page.getByTestId('record')).toBeVisible();
  await expect(page.getByTestId('observation-photo')).toHaveCount(3);
  await expect(page.getByTestId('correction-done')).toContainText('right');
});

test('single-photo history from before observations is kept as 1-photo observations', async ({ page }) => {
  // A version-1 database, as the app wrote it before observations, created before the app opens it.
  await page.addInitScript(() => {
    if (sessionStorage.getItem('seeded')) return;
    sessionStorage.setItem('seeded', '1');
    const open = indexedDB.open('wildsight', 1);
    open.onupgradeneeded = () => {
      const db = open.result;
      db.createObjectStore('identifications', { keyPath: 'id' }).createIndex('createdAt', 'createdAt');
      db.createObjectStore('outbox', { keyPath: 'id' }).createIndex('nextAttemptAt', 'nextAttemptAt');
      db.createObjectStore('settings');
      open.transaction!.objectStore('identifications').put({
        id: '6f1d2c1e-5b0a-4c3e-9d7f-2a1b3c4d5e6f',
        createdAt: Date.UTC(2026, 0, 2),
        name: 'old-beetle.jpg',
        thumbnail: null,
        top5: [{ taxonId: 'tiger-beetle', commonName: 'Tiger beetle', scientificName: 'Cicindelinae', rank: 'subfamily', probability: 0.97 }],
        otherProbability: 0.01,
        abstain: false,
        abstainReason: null,
        rollup: null,
        summary: 'This is a tiger beetle.',
        version: '1.0.0',
        backend: 'wasm',
        embedding: new Float32Array(4),
        width: 227,
        height: 227,
        timings: { decodeMs: 1, preprocessMs: 1, inferenceMs: 10, postprocessMs: 0, totalMs: 12 },
        correction: { verdict: 'confirmed', taxonId: 'tiger-beetle', at: Date.UTC(2026, 0, 2) },
      });
    };
    open.onsuccess = () => open.result.close();
  });
  await openApp(page, '/?backend=wasm#/history');
  await expect(page.getByTestId('history-item')).toHaveCount(1);
  await expect(page.getByTestId('history-item')).toHaveAttribute('data-photos', '1');
  // Migrated in place: the stored record now holds its one photo, correction kept.
  const stored = await page.evaluate(
    () =>
      new Promise<{ version: number; photos: number; correction: string }>((resolve, reject) => {
        const open = indexedDB.open('wildsight');
        open.onerror = () => reject(open.error ?? new Error('indexedDB.open failed'));
        open.onsuccess = () => {
          const get = open.result.transaction('identifications').objectStore('identifications').get('6f1d2c1e-5b0a-4c3e-9d7f-2a1b3c4d5e6f');
          get.onsuccess = () => {
            resolve({ version: open.result.version, photos: get.result.photos.length, correction: get.result.correction.verdict });
            open.result.close();
          };
        };
      }),
  );
  expect(stored).toEqual({ version: 2, photos: 1, correction: 'confirmed' });
  await page.getByTestId('history-item').getByRole('link').click();
  await expect(page.getByTestId('correction-done')).toContainText('right');
});

test('a photo is added to an observation from history, which stays one entry', async ({ page }) => {
  const beetles = ['ILSVRC2012_val_00000361.JPEG', 'ILSVRC2012_val_00002279.JPEG'].map((f) => path.join(DATA, 'imagenet-val-animals', f));
  await openApp(page, '/?backend=wasm');
  await page.getByTestId('photo-input').setInputFiles(beetles[0]);
  await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-taxon', 'tiger-beetle');
  await page.getByTestId('saved').getByRole('link').click();
  await expect(page.getByTestId('record')).toBeVisible();
  await expect(page.getByTestId('observation-photos')).toHaveCount(0);
  await page.getByTestId('add-photo-input').setInputFiles(beetles[1]);
  await expect(page.getByTestId('observation-photo')).toHaveCount(2);
  await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-taxon', 'tiger-beetle');
  await expect(page.getByTestId('add-photo')).toContainText('2 of 5');
  await page.goto('/?backend=wasm#/history');
  await expect(page.getByTestId('history-item')).toHaveCount(1);
  await expect(page.getByTestId('history-item')).toHaveAttribute('data-photos', '2');
});

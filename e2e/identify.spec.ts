import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DATA } from './paths.ts';
import { watchRequests } from './privacy.ts';
import { allowReports } from './consent.ts';

async function openApp(page: Page) {
  await page.goto('/');
  await expect(page.getByTestId('model-version')).toHaveText('1.0.0', { timeout: 60_000 });
}

async function pick(page: Page, file: string | { name: string; mimeType: string; buffer: Buffer }) {
  await page.getByTestId('photo-input').setInputFiles(file);
}

test('a launch-species photo is identified correctly on WASM, and the photo stays on the device', async ({ page }) => {
  const seen = watchRequests(page);
  await openApp(page);
  await allowReports(page);
  await expect(page.getByTestId('backend')).toHaveText('WASM');
  // ILSVRC2012_val_00000361 is labelled 300, tiger beetle.
  await pick(page, path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00000361.JPEG'));
  const first = page.getByTestId('suggestion').first();
  await expect(first).toHaveAttribute('data-taxon', 'tiger-beetle');
  await expect(page.getByTestId('summary')).toContainText('tiger beetle');
  await expect(page.getByTestId('suggestion')).toHaveCount(5);
  await expect(page.getByTestId('result-meta')).toContainText('Model 1.0.0 · WASM');
  // The only thing sent is the anonymous report (with the install credential it needs): no photo, no EXIF, no place.
  await expect.poll(() => seen.requests.filter((r) => r === 'POST /v1/events').length, { timeout: 30_000 }).toBeGreaterThan(0);
  expect(seen.problems).toEqual([]);
  const posts = seen.requests.filter((r) => !r.startsWith('GET') && !r.startsWith('HEAD'));
  expect(
    posts.every((r) => r === 'POST /v1/events' || r === 'POST /v1/installs'),
    posts.join(', '),
  ).toBe(true);
});

test('the Chelsea cat is "not one of our species"', async ({ page }) => {
  await openApp(page);
  await pick(page, path.join(DATA, 'fixtures', 'chelsea_cat.png'));
  await expect(page.getByTestId('summary')).toHaveText('Not one of our species.');
});

const jpeg = readFileSync(path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00000361.JPEG'));

function pngHeader(width: number, height: number): Buffer {
  // Signature + IHDR + IEND: enough for the size checks to read.
  const b = Buffer.alloc(8 + 25 + 12);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'ascii');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  b[24] = 8;
  b[25] = 2;
  b.writeUInt32BE(0, 33);
  b.write('IEND', 37, 'ascii');
  return b;
}

const badInputs: Array<[string, { name: string; mimeType: string; buffer: Buffer }, RegExp]> = [
  ['not an image', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('these are my field notes, not a photo') }, /is not an image/],
  [
    'an unsupported format',
    { name: 'IMG_0001.heic', mimeType: 'image/heic', buffer: Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic'), Buffer.alloc(64)]) },
    /HEIC .* not supported/,
  ],
  ['a truncated file', { name: 'cut.jpg', mimeType: 'image/jpeg', buffer: jpeg.subarray(0, Math.floor(jpeg.length / 2)) }, /incomplete/],
  ['a corrupt file', { name: 'broken.jpg', mimeType: 'image/jpeg', buffer: Buffer.concat([jpeg.subarray(0, 20), Buffer.alloc(600, 0x42)]) }, /damaged/],
  ['an empty file', { name: 'empty.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(0) }, /is empty/],
  ['a photo under 64 px', { name: 'tiny.png', mimeType: 'image/png', buffer: pngHeader(50, 40) }, /50 x 40 pixels/],
  ['a photo over 50 megapixels', { name: 'huge.png', mimeType: 'image/png', buffer: pngHeader(10000, 6000) }, /60 megapixels/],
  ['a file over 30 MB', { name: 'big.jpg', mimeType: 'image/jpeg', buffer: Buffer.concat([jpeg, Buffer.alloc(31 * 1024 * 1024)]) }, /MB; photos up to 30 MB/],
];

for (const [what, file, message] of badInputs) {
  test(`${what} gets a clear message and the page keeps working`, async ({ page }) => {
    await openApp(page);
    await pick(page, file);
    await expect(page.getByTestId('photo-error')).toHaveText(message);
    // The page is still usable: a good photo right after is identified.
    await pick(page, path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00000361.JPEG'));
    await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-taxon', 'tiger-beetle');
  });
}

test('the worker itself rejects bad bytes that skip the page checks', async ({ page }) => {
  await openApp(page);
  const outcome = await page.evaluate(async () => {
    const hook = window.__wildsight!;
    await hook.init();
    return hook.classifyBytes(new TextEncoder().encode('not a photo at all'), 'x.jpg');
  });
  expect(outcome).toMatchObject({ error: { code: 'not-an-image' } });
});

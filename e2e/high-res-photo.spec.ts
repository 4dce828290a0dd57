/**
 * Photos from high-resolution phone cameras, tried as a user would: a 108 MP
 * JPEG (made here from a labelled photo) is identified through the picker,
 * decoded by the JPEG decoder at 1/8 scale, and its end-to-end time (picking
 * to answer on screen) is reported beside a 12 MP one's. A 30000 x 30000
 * PNG, which no decoder can decode small, is still refused with a plain
 * message.
 */
import { test, expect, type Page } from '@playwright/test';
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createDeflate } from 'node:zlib';
import { classifyBytesInPage } from '../harness/browser-runner.ts';
import { openApp } from './app.ts';
import { DATA } from './paths.ts';

// ILSVRC2012_val_00000361 is labelled 300, tiger beetle.
const BEETLE = path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00000361.JPEG');

const cameraJpeg = (width: number, height: number) => sharp(readFileSync(BEETLE)).resize(width, height, { fit: 'fill' }).jpeg({ quality: 80 }).toBuffer();

const crc32 = (() => {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  return (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = table[(c ^ b) & 255] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
})();
const chunk = (type: string, data: Buffer) => {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
};

/** A real, complete greyscale PNG of width x height (one grey), deflated row by row so it never sits whole in memory. */
async function bigPng(width: number, height: number): Promise<Buffer> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const deflate = createDeflate({ level: 1 });
  const parts: Buffer[] = [];
  deflate.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise((resolve) => deflate.on('end', resolve));
  const row = Buffer.alloc(width + 1, 0x80);
  row[0] = 0; // filter: none
  for (let y = 0; y < height; y++) if (!deflate.write(row)) await new Promise((r) => deflate.once('drain', r));
  deflate.end();
  await done;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.concat(parts)), chunk('IEND', Buffer.alloc(0))]);
}

/** Picks the photo in the UI and waits for the answer; milliseconds from picking to the answer on screen. */
async function identifyInUi(page: Page, name: string, buffer: Buffer): Promise<number> {
  await page.getByTestId('photo-input').setInputFiles({ name, mimeType: 'image/jpeg', buffer });
  // setInputFiles returns once the file is handed over; the clock starts then.
  const t0 = Date.now();
  await expect(page.getByTestId('summary')).toBeVisible({ timeout: 60_000 });
  const ms = Date.now() - t0;
  await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-taxon', 'tiger-beetle');
  return ms;
}

test('a 108 MP phone JPEG is identified, decoded at 1/8 scale, in about the time of a 12 MP one', async ({ page }) => {
  test.setTimeout(240_000);
  const mp12 = await cameraJpeg(4000, 3000);
  const mp108 = await cameraJpeg(12000, 9000);
  await openApp(page, '/?backend=wasm');

  // The worker's own account: the decoder did the shrinking, and the photo's real size is kept.
  const inWorker = await classifyBytesInPage(page, new Uint8Array(mp108), 'phone-108mp.jpg');
  if ('error' in inWorker) throw new Error(inWorker.error.message);
  expect(inWorker.decodedBy).toBe('jpeg-dct');
  expect([inWorker.width, inWorker.height]).toEqual([12000, 9000]);
  expect(inWorker.top5[0].taxonId).toBe('tiger-beetle');

  // As a user: pick each photo, three times in turn, and take the medians.
  const times: Record<'12 MP' | '108 MP', number[]> = { '12 MP': [], '108 MP': [] };
  for (let i = 0; i < 3; i++) {
    times['12 MP'].push(await identifyInUi(page, 'phone-12mp.jpg', mp12));
    await expect(page.getByTestId('result-meta')).toContainText('Model 1.0.0');
    times['108 MP'].push(await identifyInUi(page, 'phone-108mp.jpg', mp108));
  }
  await expect(page.getByTestId('photo-error')).toHaveCount(0);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
  const line = `end-to-end (pick to answer, median of 3): 12 MP ${median(times['12 MP'])} ms, 108 MP ${median(times['108 MP'])} ms (${(median(times['108 MP']) / median(times['12 MP'])).toFixed(2)}x); files ${(mp12.length / 1e6).toFixed(1)} MB and ${(mp108.length / 1e6).toFixed(1)} MB; all runs ${JSON.stringify(times)}`;
  console.log(line);
  test.info().annotations.push({ type: 'high-res timing', description: line });
});

test('a 30000 x 30000 PNG is refused: it cannot be decoded small', async ({ page }) => {
  test.setTimeout(180_000);
  const png = await bigPng(30000, 30000);
  // A real file: sharp reads the same size from it.
  expect(await sharp(png, { limitInputPixels: false }).metadata()).toMatchObject({ width: 30000, height: 30000, format: 'png' });
  await openApp(page, '/?backend=wasm');
  await page.getByTestId('photo-input').setInputFiles({ name: 'scan.png', mimeType: 'image/png', buffer: png });
  await expect(page.getByTestId('photo-error')).toHaveText('scan.png is 900 megapixels; photos up to 50 megapixels can be identified.');
  await expect(page.getByTestId('result')).toHaveCount(0);
});

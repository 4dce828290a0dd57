/**
 * A 12-megapixel camera JPEG, stored sideways with EXIF orientation 6 as
 * phones write them, is decoded small by the JPEG decoder itself and still
 * shown to the model upright: the page's answer matches Node's (sharp
 * decodes it in full and applies the orientation) within the same
 * tolerance that separates upright from sideways.
 */
import { test, expect } from '@playwright/test';
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NodeClassifier } from '../node/node-classifier.ts';
import { classifyBytesInPage } from '../harness/browser-runner.ts';
import { DATA } from './paths.ts';

/** Four colours, one per quadrant, so any turn or mirror of the photo shows. */
function quadrants(width: number, height: number): Buffer {
  const raw = Buffer.alloc(width * height * 3);
  const colours = [
    [220, 30, 30],
    [30, 200, 30],
    [30, 30, 220],
    [235, 235, 235],
  ];
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set(colours[(y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1)], (y * width + x) * 3);
  return raw;
}

/** The colour at the centre of each quadrant (top-left, top-right, bottom-left, bottom-right) of packed RGBA or RGB pixels. */
function quadrantColours(data: ArrayLike<number>, width: number, height: number, channels: number): number[][] {
  return [
    [0.25, 0.25],
    [0.75, 0.25],
    [0.25, 0.75],
    [0.75, 0.75],
  ].map(([fx, fy]) => {
    const i = (Math.floor(fy * height) * width + Math.floor(fx * width)) * channels;
    return [data[i], data[i + 1], data[i + 2]];
  });
}

type Top5 = { top5: Array<{ taxonId: string; probability: number }> };
const probabilityOf = (p: Top5, id: string) => p.top5.find((s) => s.taxonId === id)?.probability ?? 0;

test('a sideways 12 MP camera JPEG is decoded at reduced scale, upright, and identified as in Node', async ({ page }) => {
  // ILSVRC2012_val_00000361 is labelled 300, tiger beetle.
  const source = readFileSync(path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00000361.JPEG'));
  const upright = await sharp(source).resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
  // Pixels stored rotated a quarter turn back; orientation 6 tells viewers to turn them upright.
  const stored = await sharp(upright).rotate(-90).toBuffer();
  const camera = new Uint8Array(await sharp(stored).withMetadata({ orientation: 6 }).jpeg({ quality: 90 }).toBuffer());

  const node = await NodeClassifier.load({ version: '1.0.0' });
  const expected = (await node.classifyBytes(camera, 'camera.jpg')).prediction;
  const sideways = (await node.classifyBytes(new Uint8Array(stored), 'sideways.jpg')).prediction;
  await node.release();
  const top = expected.top5[0].taxonId;
  expect(top).toBe('tiger-beetle');
  // How far the answer moves when the photo is not turned upright: the check below must be tighter than this.
  const sidewaysGap = Math.abs(probabilityOf(expected, top) - probabilityOf(sideways, top));
  expect(sidewaysGap).toBeGreaterThan(0.1);

  await page.goto('/?backend=wasm');
  const info = await page.evaluate(() => window.__wildsight!.init());
  expect(info.version).toBe('1.0.0');
  const got = await classifyBytesInPage(page, camera, 'camera.jpg');
  if ('error' in got) throw new Error(got.error.message);
  expect(got.decodedBy).toBe('jpeg-dct');
  expect([got.width, got.height]).toEqual([4000, 3000]);
  expect(got.top5[0].taxonId).toBe(top);
  const gap = Math.abs(probabilityOf(got, top) - probabilityOf(expected, top));
  console.log(
    `12 MP camera photo: node p=${probabilityOf(expected, top).toFixed(3)}, page p=${probabilityOf(got, top).toFixed(3)}, sideways p=${probabilityOf(sideways, top).toFixed(3)}, decode ${got.timings.decodeMs.toFixed(0)} ms`,
  );
  expect(gap).toBeLessThan(sidewaysGap / 2);
});

test('every EXIF orientation of a big JPEG decoded at reduced scale comes out as sharp shows it', async ({ page }) => {
  await page.goto('/?backend=wasm');
  await page.evaluate(() => window.__wildsight!.init());
  const raw = quadrants(2400, 1600);
  for (let orientation = 1; orientation <= 8; orientation++) {
    const jpeg = await sharp(raw, { raw: { width: 2400, height: 1600, channels: 3 } })
      .jpeg({ quality: 92 })
      .withMetadata({ orientation })
      .toBuffer();
    // sharp's rotate() with no angle applies the EXIF orientation: the reference.
    const shown = await sharp(jpeg).rotate().raw().toBuffer({ resolveWithObject: true });
    const expected = quadrantColours(shown.data, shown.info.width, shown.info.height, shown.info.channels);
    const got = await page.evaluate(
      async ({ b64 }) => {
        const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
        const [item] = await window.__wildsight!.classifyBatchBytes([{ bytes, name: 'turned.jpg' }], 1, { thumbnails: true });
        if ('error' in item) throw new Error(item.error.message);
        const thumb = await createImageBitmap(item.thumbnail!);
        const canvas = new OffscreenCanvas(thumb.width, thumb.height);
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(thumb, 0, 0);
        return { decodedBy: item.decodedBy, width: item.width, height: item.height, thumb: [thumb.width, thumb.height], data: Array.from(ctx.getImageData(0, 0, thumb.width, thumb.height).data) };
      },
      { b64: jpeg.toString('base64') },
    );
    expect(got.decodedBy, `orientation ${orientation}`).toBe('jpeg-dct');
    expect([got.width, got.height], `orientation ${orientation}`).toEqual([shown.info.width, shown.info.height]);
    const colours = quadrantColours(got.data, got.thumb[0], got.thumb[1], 4);
    colours.forEach((c, q) => c.forEach((v, k) => expect(Math.abs(v - expected[q][k]), `orientation ${orientation}, quadrant ${q}`).toBeLessThan(40)));
  }
});

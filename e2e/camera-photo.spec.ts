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
import { classifyBytesInPage } from '../node/browser-runner.ts';
import { DATA } from './paths.ts';

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
  console.log(`12 MP camera photo: node p=${probabilityOf(expected, top).toFixed(3)}, page p=${probabilityOf(got, top).toFixed(3)}, sideways p=${probabilityOf(sideways, top).toFixed(3)}, decode ${got.timings.decodeMs.toFixed(0)} ms`);
  expect(gap).toBeLessThan(sidewaysGap / 2);
});

/**
 * The browser app and the Node CLI give the same answers: every photo of
 * imagenet-val-animals through the page's worker (WASM) and through
 * onnxruntime-node, compared on the answer and the top-5 probabilities.
 */
import { test, expect } from '@playwright/test';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { NodeClassifier } from '../node/node-classifier.ts';
import { readLabelledPhotos } from '../node/labelled-photos.ts';
import { loadTaxonomy } from '../node/registry.ts';
import { classifyBytesInPage } from '../harness/browser-runner.ts';
import { DATA } from './paths.ts';

test('browser and Node agree on top-1 for at least 99% of imagenet-val-animals', async ({ page }) => {
  test.setTimeout(600_000);
  const dir = path.join(DATA, 'imagenet-val-animals');
  const photos = readLabelledPhotos(dir, path.join(dir, 'labels.csv'), loadTaxonomy());
  await page.goto('/?backend=wasm');
  const info = await page.evaluate(() => window.__wildsight!.init());
  expect(info.backend).toBe('wasm');
  const node = await NodeClassifier.load({ version: info.version });
  let agree = 0;
  let maxDiff = 0;
  for (const photo of photos) {
    const bytes = new Uint8Array(readFileSync(photo.file));
    const a = (await node.classifyBytes(bytes, photo.file)).prediction;
    const b = await classifyBytesInPage(page, bytes, path.basename(photo.file));
    if ('error' in b) throw new Error(`${photo.file}: ${b.error.message}`);
    const answer = (p: { abstain: boolean; top5: Array<{ taxonId: string }> }) => (p.abstain ? 'other' : p.top5[0].taxonId);
    if (answer(a) === answer(b)) agree++;
    for (const s of a.top5) {
      const t = b.top5.find((x) => x.taxonId === s.taxonId);
      if (t) maxDiff = Math.max(maxDiff, Math.abs(s.probability - t.probability));
    }
    maxDiff = Math.max(maxDiff, Math.abs(a.otherProbability - b.otherProbability));
  }
  await node.release();
  const summary = { n: photos.length, top1_agreement: agree / photos.length, max_prob_diff: maxDiff };
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/parity.json', JSON.stringify(summary) + '\n');
  console.log(`parity: ${JSON.stringify(summary)}`);
  expect(summary.top1_agreement).toBeGreaterThanOrEqual(0.99);
});

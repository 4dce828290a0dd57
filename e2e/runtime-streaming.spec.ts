/**
 * `?runtime=streaming` (the cold-start A/B in bench:pwa): onnxruntime-web
 * compiles the stored runtime by streaming its URL, which the service worker
 * answers from the Cache API, and only after that copy was verified.
 */
import { test, expect, type Page } from '@playwright/test';
import path from 'node:path';
import { DATA } from './paths.ts';

const beetle = path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00000361.JPEG');

async function loadedAndIdentifies(page: Page) {
  await expect(page.getByTestId('model-version')).toHaveText('1.0.0', { timeout: 60_000 });
  await page.getByTestId('photo-input').setInputFiles(beetle);
  await expect(page.getByTestId('suggestion').first()).toHaveAttribute('data-taxon', 'tiger-beetle');
}

async function storedRuntimeKey(page: Page): Promise<string> {
  const keys = await page.evaluate(async () => (await (await caches.open('wildsight-ort')).keys()).map((k) => k.url));
  const key = keys.find((u) => new URL(u).pathname === '/ort/ort-wasm-simd-threaded.wasm');
  expect(key, keys.join(', ')).toMatch(/\?sha256=[0-9a-f]{64}$/);
  return key!;
}

async function controlled(page: Page) {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller), { timeout: 30_000 }).toBe(true);
}

test('a warm start streams the stored runtime through the service worker and identifies as before', async ({ page }) => {
  await page.goto('/?runtime=streaming');
  await loadedAndIdentifies(page);
  const key = await storedRuntimeKey(page);
  await controlled(page);
  const runtimeFetches: Array<{ fromServiceWorker: boolean }> = [];
  page.on('response', (r) => {
    if (r.url() === key && !r.request().serviceWorker()) runtimeFetches.push({ fromServiceWorker: r.fromServiceWorker() });
  });
  await page.reload();
  await loadedAndIdentifies(page);
  // onnxruntime-web fetched the runtime itself (no bytes handed over), and the service worker answered it.
  expect(runtimeFetches).toEqual([{ fromServiceWorker: true }]);
});

test('a damaged stored runtime is replaced before it is streamed', async ({ page }) => {
  await page.goto('/?runtime=streaming');
  await loadedAndIdentifies(page);
  const key = await storedRuntimeKey(page);
  await controlled(page);
  await page.evaluate(async (url) => {
    const cache = await caches.open('wildsight-ort');
    const bytes = new Uint8Array(await (await cache.match(url))!.arrayBuffer());
    bytes[bytes.length >> 1] ^= 0xff;
    await cache.put(url, new Response(bytes, { headers: { 'Content-Type': 'application/wasm' } }));
  }, key);
  const refetched = page.waitForRequest((r) => r.url() === key && !r.serviceWorker());
  await page.reload();
  await refetched;
  await loadedAndIdentifies(page);
});

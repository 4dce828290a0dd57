/**
 * The service worker's precache gets compressed delivery too. On a first
 * visit the worker fetches every precache entry (seen through Playwright's
 * service-worker network events). Its response must carry
 * `Content-Encoding: br` unless the format is already compressed, and when
 * it crossed the network, fewer bytes than the file. A hashed asset the page
 * (or its inference worker) loaded a moment before is answered from the
 * HTTP cache instead: no bytes on the wire then, and its headers are those
 * of the network response that filled the cache, so the encoding check
 * still says how those bytes travelled. What lands in Cache Storage must be
 * the file's exact bytes, decoded.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test, expect, type Request } from '@playwright/test';
import { openApp, waitForServiceWorker } from './app.ts';
import { readPrecacheManifest } from '../node/precache-manifest.ts';
import { ALREADY_COMPRESSED } from '../node/precompress.ts';

test('the precache downloads compressed files and stores their exact bytes', async ({ page, context }) => {
  const fromWorker: Request[] = [];
  context.on('requestfinished', (req) => {
    if (req.serviceWorker()) fromWorker.push(req);
  });
  await openApp(page);
  await waitForServiceWorker(page);

  const entries = readPrecacheManifest();
  let raw = 0;
  let wire = 0;
  const fromHttpCache: string[] = [];
  for (const { url, file } of entries) {
    const onDisk = readFileSync(file);
    const req = fromWorker.find((r) => new URL(r.url()).pathname === url);
    expect(req, `the service worker never fetched ${url}`).toBeTruthy();
    const res = (await req!.response())!;
    expect(res.status(), url).toBe(200);
    const encoding = (await res.allHeaders())['content-encoding'];
    // Chromium reports a body size of 0 or less when the HTTP cache answered.
    const size = (await req!.sizes()).responseBodySize;
    if (size > 0) wire += size;
    else fromHttpCache.push(url);
    if (ALREADY_COMPRESSED.test(file)) {
      expect(encoding, url).toBeUndefined();
    } else {
      expect(encoding, `${url} reached the precache uncompressed`).toBe('br');
      if (size > 0) expect(size, `${url}: ${size} bytes on the wire for a ${onDisk.length}-byte file`).toBeLessThan(onDisk.length);
    }
    raw += onDisk.length;

    // Cache Storage holds the decoded bytes (Workbox keys revisioned entries with a query, hence ignoreSearch).
    const cachedSha = await page.evaluate(async (u) => {
      const hit = await caches.match(u, { ignoreSearch: true });
      if (!hit) return null;
      const digest = await crypto.subtle.digest('SHA-256', await hit.arrayBuffer());
      return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    }, url);
    expect(cachedSha, `${url} in Cache Storage`).toBe(createHash('sha256').update(onDisk).digest('hex'));
  }
  // The WASM runtime's binary and the model are not precached: the inference worker downloads them once (e2e/first-visit.spec.ts).
  expect(entries.filter((e) => /\.(wasm|onnx)$/.test(e.url))).toEqual([]);
  console.log(
    `precache: ${entries.length} files, ${(raw / 1e6).toFixed(2)} MB raw, ${(wire / 1e6).toFixed(2)} MB on the wire for the service worker's downloads; from the HTTP cache: ${fromHttpCache.join(', ') || 'none'}`,
  );
});

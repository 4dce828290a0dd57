/**
 * Acceptance for compressed delivery: every file the service worker
 * precaches (read from the built dist/sw.js), plus the WASM runtime and the
 * active model, which the inference worker downloads once instead, is
 * fetched from a real server with `Accept-Encoding: br`, as a browser's
 * precache fetch would be. Each must come back brotli-compressed unless its
 * format is already compressed, smaller than the file, and decode to the
 * exact bytes on disk. Needs `npm run build` and `npm run models:build`
 * (npm test runs both first); it prints what the precache moves on the wire.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDb } from '../testing/backends.ts';
import { startApp, type RunningApp } from '../testing/http.ts';
import { DIST_DIR, REGISTRY_DIR } from '../../node/paths.ts';
import { readPrecacheManifest, readWorkerFetched, type PrecacheEntry } from '../../node/precache-manifest.ts';
import { decodeBody, rawGet } from '../../node/raw-get.ts';
import { ALREADY_COMPRESSED } from '../../node/precompress.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('the precache goes out compressed', () => {
  let db: TestDb;
  let server: RunningApp;
  let entries: PrecacheEntry[];

  beforeAll(async () => {
    if (!existsSync(path.join(DIST_DIR, 'sw.js'))) throw new Error('dist/sw.js is missing: run `npm run build` first');
    entries = [...readPrecacheManifest(), ...readWorkerFetched()];
    db = await BACKENDS[0].create();
    server = await startApp({ ...db.appOptions, distDir: DIST_DIR, registryDir: REGISTRY_DIR, rolloutGuard: { intervalMs: 0 } });
  });
  afterAll(async () => {
    await server?.close();
    await db?.cleanup();
  });

  it('precaches the app shell and the runtime loader, and leaves the runtime binary and the model to the worker', () => {
    const precached = readPrecacheManifest().map((e) => e.url);
    expect(precached).toContain('/index.html');
    expect(precached).toContain('/ort/ort-wasm-simd-threaded.mjs');
    // The worker downloads these once; precaching them too downloads them twice on a first visit.
    expect(precached.filter((u) => /\.(wasm|onnx)$/.test(u))).toEqual([]);
    const urls = entries.map((e) => e.url);
    expect(urls).toContain('/ort/ort-wasm-simd-threaded.wasm');
    expect(urls.some((u) => /^\/models\/registry\/\d+\.\d+\.\d+\/model\.onnx$/.test(u))).toBe(true);
  });

  for (const accept of ['br', 'gzip'] as const) {
    it(`sends every precached file ${accept}-compressed where that saves bytes, decoding to the file on disk`, async () => {
      const rows: Array<{ url: string; raw: number; wire: number; encoding: string }> = [];
      for (const { url, file } of entries) {
        const onDisk = readFileSync(file);
        const res = await rawGet(server.url + url, { 'accept-encoding': accept });
        expect(res.status, url).toBe(200);
        expect(String(res.headers.vary), url).toMatch(/accept-encoding/i);
        const encoding = res.headers['content-encoding'] ?? 'identity';
        if (ALREADY_COMPRESSED.test(file)) {
          expect(encoding, `${url} is already compressed`).toBe('identity');
        } else {
          expect(encoding, `${url} went out uncompressed`).toBe(accept);
          expect(res.body.length, `${url}: compressed is not smaller`).toBeLessThan(onDisk.length);
        }
        expect(sha256(decodeBody(res)), `${url} decodes to other bytes than ${file}`).toBe(sha256(onDisk));
        rows.push({ url, raw: onDisk.length, wire: res.body.length, encoding });
      }
      const raw = rows.reduce((s, r) => s + r.raw, 0);
      const wire = rows.reduce((s, r) => s + r.wire, 0);
      const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
      console.log(
        `precache, runtime and model with Accept-Encoding: ${accept}: ${rows.length} files, ${mb(raw)} raw, ${mb(wire)} on the wire (saves ${((1 - wire / raw) * 100).toFixed(1)}%)\n` +
          rows.map((r) => `  ${r.url}: ${r.raw} -> ${r.wire} (${r.encoding})`).join('\n'),
      );
      expect(wire).toBeLessThan(raw);
    });
  }
});

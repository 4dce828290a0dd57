/**
 * npm run bench:wire — bytes on the wire for a first visit, fetched from the
 * real server as built: every file the service worker precaches (app shell,
 * WASM runtime, the active model) plus the registry manifest and taxonomy it
 * warms. "before" asks for no compression (what every client got before
 * compressed delivery), "after" asks as Chromium does (`gzip, deflate, br,
 * zstd`). Each decoded body is checked against the file on disk. Also
 * prints the count with the runtime and model fetched a second time, since
 * the inference worker and the precache still download them separately.
 */
import './built.ts'; // first: builds what is missing before the imports below load
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../server/app.ts';
import { readPrecacheManifest } from '../node/precache-manifest.ts';
import { decodeBody, rawGet } from '../node/raw-get.ts';
import { REGISTRY_DIR, TAXONOMY_FILE } from '../node/paths.ts';

const CHROMIUM_ACCEPT = 'gzip, deflate, br, zstd';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;

const dataDir = mkdtempSync(path.join(tmpdir(), 'wildsight-wire-'));
const app = await buildApp({ logger: false, dataDir, rolloutGuard: { intervalMs: 0 } });
try {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const files = [
    ...readPrecacheManifest(),
    { url: '/models/registry/manifest.json', file: path.join(REGISTRY_DIR, 'manifest.json') },
    { url: '/models/taxonomy.json', file: TAXONOMY_FILE },
  ];
  const rows: Array<{ url: string; before: number; after: number; encoding: string }> = [];
  for (const { url, file } of files) {
    const onDisk = readFileSync(file);
    const before = await rawGet(base + url, { 'accept-encoding': 'identity' });
    const after = await rawGet(base + url, { 'accept-encoding': CHROMIUM_ACCEPT });
    for (const res of [before, after]) {
      if (res.status !== 200 || sha256(decodeBody(res)) !== sha256(onDisk)) throw new Error(`${url}: status ${res.status} or bytes differ from ${file}`);
    }
    rows.push({ url, before: before.body.length, after: after.body.length, encoding: after.headers['content-encoding'] ?? 'identity' });
  }
  const sum = (k: 'before' | 'after', only?: RegExp) => rows.filter((r) => !only || only.test(r.url)).reduce((s, r) => s + r[k], 0);
  const twice = /^\/(ort\/ort-wasm-simd-threaded\.wasm|models\/registry\/[\d.]+\/model\.onnx)$/;
  for (const r of rows) console.log(`${r.url.padEnd(48)} ${String(r.before).padStart(9)} -> ${String(r.after).padStart(9)} ${r.encoding}`);
  const result = {
    files: rows.length,
    firstVisit: { before: sum('before'), after: sum('after') },
    model: { before: sum('before', /\.onnx$/), after: sum('after', /\.onnx$/) },
    wasmRuntime: { before: sum('before', /\.wasm$/), after: sum('after', /\.wasm$/) },
    withRuntimeAndModelTwice: { before: sum('before') + sum('before', twice), after: sum('after') + sum('after', twice) },
  };
  console.log(`first visit (precache + registry manifest + taxonomy, ${rows.length} files): ${mb(result.firstVisit.before)} before, ${mb(result.firstVisit.after)} after`);
  console.log(`  of which the WASM runtime ${mb(result.wasmRuntime.before)} -> ${mb(result.wasmRuntime.after)}, the model ${mb(result.model.before)} -> ${mb(result.model.after)}`);
  console.log(`  with the runtime and model downloaded twice (worker and precache, as the page does today): ${mb(result.withRuntimeAndModelTwice.before)} -> ${mb(result.withRuntimeAndModelTwice.after)}`);
  console.log(JSON.stringify(result));
} finally {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}

/**
 * npm run bench:wire — bytes on the wire for a first visit, from the real
 * server as built, two ways:
 *
 * 1. File by file: every file a first visit needs (what the service worker
 *    precaches, the WASM runtime and the active model the inference worker
 *    downloads, the registry manifest and taxonomy), fetched uncompressed
 *    ("before" compressed delivery) and as Chromium asks (`gzip, deflate,
 *    br, zstd`); each decoded body is checked against its file.
 * 2. As a browser really does it: a fresh Chromium profile opens the app and
 *    every response of the page, its worker and its service worker is summed
 *    (encoded bytes) until a model is loaded, the service worker controls the
 *    page and the network is quiet (e2e/first-visit.ts). It also says how
 *    often the runtime and the model crossed the network.
 *
 * 3. A head-only update (bench/head-pack-wire.ts): what a device on 1.0.0
 *    downloads to move to a retrained version, by its head pack against the
 *    full file.
 *
 * `--dist DIR` measures another build (e.g. one from before a change);
 * `--retrained REGISTRY` measures the head packs registered there instead of
 * the two made up here (bench/head-pack-wire.ts).
 */
import './built.ts'; // first: builds what is missing before the imports below load
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { buildApp } from '../server/app.ts';
import { readPrecacheManifest, readWorkerFetched } from '../node/precache-manifest.ts';
import { decodeBody, rawGet } from '../node/raw-get.ts';
import { DIST_DIR, REGISTRY_DIR, TAXONOMY_FILE } from '../node/paths.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../harness/chromium.ts';
import { firstVisit, HEAVY } from '../e2e/first-visit.ts';
import { measureHeadOnlyUpdate } from './head-pack-wire.ts';

const CHROMIUM_ACCEPT = 'gzip, deflate, br, zstd';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
const distArg = process.argv.indexOf('--dist');
const distDir = distArg > 0 ? path.resolve(process.argv[distArg + 1]) : DIST_DIR;

const dataDir = mkdtempSync(path.join(tmpdir(), 'wildsight-wire-'));
const app = await buildApp({ logger: false, dataDir, distDir, rolloutGuard: { intervalMs: 0 } });
try {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const byUrl = new Map(
    [
      ...readPrecacheManifest(distDir),
      ...readWorkerFetched(distDir),
      { url: '/models/registry/manifest.json', file: path.join(REGISTRY_DIR, 'manifest.json') },
      { url: '/models/taxonomy.json', file: TAXONOMY_FILE },
    ].map((f) => [f.url, f]),
  );
  const rows: Array<{ url: string; before: number; after: number; encoding: string }> = [];
  for (const { url, file } of byUrl.values()) {
    const onDisk = readFileSync(file);
    const before = await rawGet(base + url, { 'accept-encoding': 'identity' });
    const after = await rawGet(base + url, { 'accept-encoding': CHROMIUM_ACCEPT });
    for (const res of [before, after]) {
      if (res.status !== 200 || sha256(decodeBody(res)) !== sha256(onDisk)) throw new Error(`${url}: status ${res.status} or bytes differ from ${file}`);
    }
    rows.push({ url, before: before.body.length, after: after.body.length, encoding: after.headers['content-encoding'] ?? 'identity' });
  }
  const sum = (k: 'before' | 'after', only?: RegExp) => rows.filter((r) => !only || only.test(r.url)).reduce((s, r) => s + r[k], 0);
  for (const r of rows) console.log(`${r.url.padEnd(48)} ${String(r.before).padStart(9)} -> ${String(r.after).padStart(9)} ${r.encoding}`);
  console.log(`every file once (${rows.length} files): ${mb(sum('before'))} uncompressed, ${mb(sum('after'))} as sent to Chromium`);
  console.log(`  of which the WASM runtime ${mb(sum('before', /\.wasm$/))} -> ${mb(sum('after', /\.wasm$/))}, the model ${mb(sum('before', /\.onnx$/))} -> ${mb(sum('after', /\.onnx$/))}`);

  // The same visit in Chromium, counting what it really fetched.
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  let visit;
  try {
    const context = await browser.newContext({ baseURL: base });
    visit = await firstVisit(context, await context.newPage());
  } finally {
    await browser.close();
  }
  const heavy = visit.fetches.filter((f) => HEAVY.test(f.path));
  for (const f of heavy) console.log(`  ${f.path} fetched by the ${f.from}: ${f.bytes} bytes`);
  console.log(
    `first visit in Chromium (${visit.fetches.length} responses from the network): ${mb(visit.bytes)}; the runtime fetched ${heavy.filter((f) => f.path.endsWith('.wasm')).length}x, the model ${heavy.filter((f) => f.path.endsWith('.onnx')).length}x`,
  );
  const retrainedArg = process.argv.indexOf('--retrained');
  const updates = await measureHeadOnlyUpdate(distDir, CHROMIUM_ACCEPT, retrainedArg > 0 ? path.resolve(process.argv[retrainedArg + 1]) : undefined);
  for (const { from, to, head, headPack: hp, fullFile: ff } of updates) {
    console.log(
      `head-only update ${from} -> ${to} (${head}): head pack ${hp.raw} -> ${hp.sent} bytes ${hp.encoding}, full file ${ff.raw} -> ${ff.sent} bytes ${ff.encoding}; the pack moves ${(ff.sent / hp.sent).toFixed(1)}x fewer bytes`,
    );
  }
  console.log(
    JSON.stringify({
      dist: distDir,
      headOnlyUpdate: updates,
      files: rows.length,
      everyFileOnce: { before: sum('before'), after: sum('after') },
      model: { before: sum('before', /\.onnx$/), after: sum('after', /\.onnx$/) },
      wasmRuntime: { before: sum('before', /\.wasm$/), after: sum('after', /\.wasm$/) },
      firstVisitInChromium: {
        bytes: visit.bytes,
        responses: visit.fetches.length,
        runtimeFetches: heavy.filter((f) => f.path.endsWith('.wasm')).length,
        modelFetches: heavy.filter((f) => f.path.endsWith('.onnx')).length,
      },
    }),
  );
} finally {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}

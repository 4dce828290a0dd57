/**
 * npm run bench:pwa — batch throughput of the app's worker (100 photos at
 * several batch sizes, thumbnails on, as batch import does) and cold start
 * (page load to first result) with an empty profile and with a warm one,
 * in headless Chromium against the real server. Prints a table and writes
 * bench/results/pwa.json.
 */
import './built.ts'; // first: builds what is missing before the imports below load (once per process when bench/run.ts imports this)
import { chromium, type BrowserContext } from '@playwright/test';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../server/app.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../harness/chromium.ts';
import { DATA_DIR_SHARED, REPO_ROOT } from '../node/paths.ts';
import { openApp } from '../harness/browser-runner.ts';
import { median } from '../core/stats.ts';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 5);
export const BATCH_SIZES = [1, 2, 4, 8];
const dir = path.join(DATA_DIR_SHARED, 'imagenet-samples-animals');
const files = readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, 100);
const probe = path.join(dir, files[0]);

const stats = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length });
const fmt = (s: { median: number; min: number; max: number }, d = 1) => `${s.median.toFixed(d)} (${s.min.toFixed(d)}–${s.max.toFixed(d)})`;

export async function throughput(): Promise<{ photos: number; backend: string; threads: number; photosPerSecond: Record<number, { median: number; min: number; max: number; runs: number }> }> {
  const session = await openApp({ backend: 'wasm' });
  const photos = files.map((f) => ({ name: f, b64: readFileSync(path.join(dir, f)).toString('base64') }));
  const out: Record<number, ReturnType<typeof stats>> = {};
  try {
    for (const size of BATCH_SIZES) {
      const rates: number[] = [];
      for (let r = 0; r < REPEATS; r++) {
        const seconds = await session.page.evaluate(async ({ photos, size }) => {
          const decoded = photos.map((p) => ({ name: p.name, bytes: Uint8Array.from(atob(p.b64), (c) => c.charCodeAt(0)) }));
          const t0 = performance.now();
          const items = await window.__wildsight!.classifyBatchBytes(decoded, size, { thumbnails: true });
          if (items.some((i) => 'error' in i)) throw new Error('a photo failed');
          return (performance.now() - t0) / 1000;
        }, { photos, size });
        rates.push(files.length / seconds);
      }
      out[size] = stats(rates);
    }
  } finally {
    await session.close();
  }
  return { photos: files.length, backend: session.info.backend, threads: session.info.threads, photosPerSecond: out };
}

/** Where a start's time went: the page's own milestones and the engine's load phases (ms since navigation or since the load began). */
export interface StartBreakdown { domContentLoadedMs: number; readyMs: number; engineLoadMs: number; runtimeMs: number; sessionMs: number; modelMs: number; warmUpMs: number }

/** Page load to the first result through the real UI (navigate, pick a photo, see the answer). */
async function firstResult(context: BrowserContext, baseUrl: string): Promise<{ ms: number; breakdown: StartBreakdown }> {
  const page = context.pages()[0] ?? (await context.newPage());
  const t0 = Date.now();
  await page.goto(baseUrl);
  await page.getByTestId('model-version').waitFor({ timeout: 120_000 });
  const readyMs = Date.now() - t0;
  await page.getByTestId('photo-input').setInputFiles(probe);
  await page.getByTestId('result').waitFor({ timeout: 120_000 });
  const ms = Date.now() - t0;
  // The same options as the page, so this returns the running engine's info without loading anything.
  const info = await page.evaluate(async () => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const i = await window.__wildsight!.init();
    return { domContentLoadedMs: nav.domContentLoadedEventEnd, engineLoadMs: i.loadMs, runtimeMs: i.loadPhases.runtimeMs, sessionMs: i.loadPhases.sessionMs, modelMs: i.loadPhases.modelMs, warmUpMs: i.warmUpMs ?? 0 };
  });
  return { ms, breakdown: { ...info, readyMs } };
}

const medianBreakdown = (xs: StartBreakdown[]): StartBreakdown =>
  Object.fromEntries(Object.keys(xs[0]).map((k) => [k, median(xs.map((x) => x[k as keyof StartBreakdown]))])) as unknown as StartBreakdown;

export async function coldStart(): Promise<{ emptyCacheMs: { median: number; min: number; max: number; runs: number }; warmCacheMs: { median: number; min: number; max: number; runs: number }; warmBreakdownMs: StartBreakdown }> {
  const app = await buildApp({ logger: { level: 'warn' }, dataDir: mkdtempSync(path.join(tmpdir(), 'wildsight-bench-data-')) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/`;
  const empty: number[] = [];
  const warm: number[] = [];
  const breakdowns: StartBreakdown[] = [];
  try {
    for (let r = 0; r < COLD_RUNS; r++) {
      const profile = mkdtempSync(path.join(tmpdir(), 'wildsight-bench-'));
      try {
        let ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
        empty.push((await firstResult(ctx, baseUrl)).ms);
        // Let the service worker finish precaching before the warm start.
        await ctx.pages()[0].evaluate(async () => { await navigator.serviceWorker.ready; });
        await ctx.close();
        ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
        const w = await firstResult(ctx, baseUrl);
        warm.push(w.ms);
        breakdowns.push(w.breakdown);
        await ctx.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    }
  } finally {
    await app.close();
  }
  return { emptyCacheMs: stats(empty), warmCacheMs: stats(warm), warmBreakdownMs: medianBreakdown(breakdowns) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const tp = await throughput();
  const cs = await coldStart();
  const result = { date: new Date().toISOString(), batch: tp, coldStart: cs };
  mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'pwa.json'), JSON.stringify(result, null, 2) + '\n');

  console.log(`\nBatch throughput, ${tp.photos} photos of imagenet-samples-animals, ${tp.backend} ${tp.threads} threads, thumbnails on (median (min–max) of ${REPEATS}):`);
  console.log('| batch size | photos/s | vs batch 1 |\n|---|---|---|');
  for (const size of BATCH_SIZES) console.log(`| ${size} | ${fmt(tp.photosPerSecond[size])} | ${(tp.photosPerSecond[size].median / tp.photosPerSecond[1].median).toFixed(2)}x |`);
  console.log(`\nCold start, page load to first result (median (min–max) of ${COLD_RUNS}, ms):`);
  console.log(`| cache | ms |\n|---|---|\n| empty | ${fmt(cs.emptyCacheMs, 0)} |\n| warm | ${fmt(cs.warmCacheMs, 0)} |`);
  console.log(`Warm start, where the time went (medians, ms): ${JSON.stringify(cs.warmBreakdownMs, (_k, v) => (typeof v === 'number' ? Math.round(v) : v))}`);
}

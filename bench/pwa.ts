/**
 * npm run bench:pwa — batch throughput of the app's worker (100 photos at
 * several batch sizes, thumbnails on, as batch import does) and cold start
 * (page load to first result) with an empty profile and with a warm one,
 * the WASM runtime compiled from bytes against streamed from the Cache API
 * (paired A/B), and a first visit over a throttled 10 Mbit/s link, in
 * headless Chromium against the real server. Prints a table and writes
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

// BENCH_QUICK=1 (a smoke run of `npm run bench`): one pass per batch size, two cold starts.
const QUICK = process.env.BENCH_QUICK === '1';
const REPEATS = Number(process.env.BENCH_REPEATS ?? (QUICK ? 1 : 3));
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? (QUICK ? 2 : 5));
export const BATCH_SIZES = [1, 2, 4, 8];
const dir = path.join(DATA_DIR_SHARED, 'imagenet-samples-animals');
const files = readdirSync(dir)
  .filter((f) => /\.jpe?g$/i.test(f))
  .sort()
  .slice(0, 100);
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
        const seconds = await session.page.evaluate(
          async ({ photos, size }) => {
            const decoded = photos.map((p) => ({ name: p.name, bytes: Uint8Array.from(atob(p.b64), (c) => c.charCodeAt(0)) }));
            const t0 = performance.now();
            const items = await window.__wildsight!.classifyBatchBytes(decoded, size, { thumbnails: true });
            if (items.some((i) => 'error' in i)) throw new Error('a photo failed');
            return (performance.now() - t0) / 1000;
          },
          { photos, size },
        );
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
export interface StartBreakdown {
  domContentLoadedMs: number;
  readyMs: number;
  engineLoadMs: number;
  runtimeMs: number;
  sessionMs: number;
  modelMs: number;
  warmUpMs: number;
}

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
    return {
      domContentLoadedMs: nav.domContentLoadedEventEnd,
      engineLoadMs: i.loadMs,
      runtimeMs: i.loadPhases.runtimeMs,
      sessionMs: i.loadPhases.sessionMs,
      modelMs: i.loadPhases.modelMs,
      warmUpMs: i.warmUpMs ?? 0,
    };
  });
  return { ms, breakdown: { ...info, readyMs } };
}

const medianBreakdown = (xs: StartBreakdown[]): StartBreakdown =>
  Object.fromEntries(Object.keys(xs[0]).map((k) => [k, median(xs.map((x) => x[k as keyof StartBreakdown]))])) as unknown as StartBreakdown;

export async function coldStart(): Promise<{
  emptyCacheMs: { median: number; min: number; max: number; runs: number };
  warmCacheMs: { median: number; min: number; max: number; runs: number };
  warmBreakdownMs: StartBreakdown;
}> {
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
        await ctx.pages()[0].evaluate(async () => {
          await navigator.serviceWorker.ready;
        });
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

/**
 * Runs `during` while Chromium traces, and counts V8's WebAssembly code-cache
 * events: `v8.wasm.moduleCacheHit` is a module taken from the code cache
 * instead of being compiled, `v8.wasm.cachedModule` one written to it,
 * `v8.wasm.streamFromResponseCallback` a streaming compile of a Response.
 */
async function wasmCacheEvents<T>(context: BrowserContext, during: () => Promise<T>): Promise<{ result: T; events: Record<string, number> }> {
  const page = context.pages()[0] ?? (await context.newPage());
  const cdp = await context.newCDPSession(page);
  const events: Record<string, number> = {};
  cdp.on('Tracing.dataCollected', (e) => {
    for (const ev of e.value) if (/^v8\.wasm\.(moduleCacheHit|cachedModule|streamFromResponseCallback)$/.test(ev.name)) events[ev.name] = (events[ev.name] ?? 0) + 1;
  });
  await cdp.send('Tracing.start', { transferMode: 'ReportEvents', traceConfig: { includedCategories: ['disabled-by-default-devtools.timeline', 'devtools.timeline', 'v8.wasm'] } });
  const result = await during();
  const complete = new Promise((res) => cdp.once('Tracing.tracingComplete', res));
  await cdp.send('Tracing.end');
  await complete;
  await cdp.detach();
  return { result, events };
}

/** Serves the built app with the real server on a free port, with a throwaway data folder. */
async function serveApp() {
  const app = await buildApp({ logger: { level: 'warn' }, dataDir: mkdtempSync(path.join(tmpdir(), 'wildsight-bench-data-')) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, baseUrl: `http://127.0.0.1:${(app.server.address() as { port: number }).port}/` };
}

type Stats = ReturnType<typeof stats>;
export interface CompileArm {
  secondVisitMs: Stats;
  thirdVisitMs: Stats;
  thirdVisitEngineLoadMs: Stats;
  thirdVisitRuntimeStartMs: Stats;
  thirdVisitWasmCacheEvents: Record<string, number>;
}

/**
 * Does compiling the WASM runtime by streaming it from the Cache API let V8
 * reuse its code cache? Paired A/B on warm starts: each round, for each
 * way (`?runtime=bytes`, the verified bytes handed to onnxruntime-web, and
 * `?runtime=streaming`, onnxruntime-web's own instantiateStreaming of the
 * stored copy's URL, answered by the service worker), in alternating order:
 * a fresh profile, a first visit (which stores everything), then two warm
 * starts. V8 writes a module's code cache only after a streaming compile has
 * tiered up, so the third visit is the one that can read it.
 */
export async function runtimeCompileAB(rounds = Number(process.env.BENCH_AB_ROUNDS ?? 4)): Promise<Record<'bytes' | 'streaming', CompileArm>> {
  const { app, baseUrl } = await serveApp();
  const arm0 = () => ({ second: [] as number[], third: [] as number[], load: [] as number[], runtime: [] as number[], events: {} as Record<string, number> });
  const arms = { bytes: arm0(), streaming: arm0() };
  try {
    for (let r = 0; r < rounds; r++) {
      // tsc needs the assertion (the literals widen to string[] without it); the rule does not see the widening.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
      for (const way of (r % 2 ? ['streaming', 'bytes'] : ['bytes', 'streaming']) as Array<keyof typeof arms>) {
        const url = `${baseUrl}?runtime=${way}`;
        const profile = mkdtempSync(path.join(tmpdir(), 'wildsight-bench-'));
        try {
          for (let visit = 1; visit <= 3; visit++) {
            const ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
            // The third visit is traced for V8's code-cache events (both ways alike, so the tracing's cost is paired too).
            const { result: v, events } = visit === 3 ? await wasmCacheEvents(ctx, () => firstResult(ctx, url)) : { result: await firstResult(ctx, url), events: {} };
            if (visit === 1)
              await ctx.pages()[0].evaluate(async () => {
                await navigator.serviceWorker.ready;
              });
            else {
              // Time for V8 to write the code cache after tier-up, as a user's session would give it.
              if (visit === 2) await new Promise((res) => setTimeout(res, 3000));
              (visit === 2 ? arms[way].second : arms[way].third).push(v.ms);
              if (visit === 3) {
                arms[way].load.push(v.breakdown.engineLoadMs);
                arms[way].runtime.push(v.breakdown.sessionMs - v.breakdown.runtimeMs);
              }
              for (const [k, n] of Object.entries(events)) arms[way].events[k] = (arms[way].events[k] ?? 0) + n;
            }
            await ctx.close();
          }
        } finally {
          rmSync(profile, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await app.close();
  }
  const arm = (a: typeof arms.bytes): CompileArm => ({
    secondVisitMs: stats(a.second),
    thirdVisitMs: stats(a.third),
    thirdVisitEngineLoadMs: stats(a.load),
    thirdVisitRuntimeStartMs: stats(a.runtime),
    thirdVisitWasmCacheEvents: a.events,
  });
  return { bytes: arm(arms.bytes), streaming: arm(arms.streaming) };
}

/**
 * A first visit (empty profile) over a simulated 10 Mbit/s link with 40 ms
 * latency (CDP Network.emulateNetworkConditions on the page; Chromium applies
 * it to the page's dedicated workers too), page load to first result.
 */
export async function coldStartThrottled(runs = Number(process.env.BENCH_THROTTLED_RUNS ?? 3)): Promise<{ mbitPerS: number; latencyMs: number; emptyCacheMs: Stats }> {
  const { app, baseUrl } = await serveApp();
  const out: number[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      const profile = mkdtempSync(path.join(tmpdir(), 'wildsight-bench-'));
      try {
        const ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
        const page = ctx.pages()[0] ?? (await ctx.newPage());
        const cdp = await ctx.newCDPSession(page);
        await cdp.send('Network.enable');
        await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 40, downloadThroughput: 10e6 / 8, uploadThroughput: 10e6 / 8 });
        out.push((await firstResult(ctx, baseUrl)).ms);
        await ctx.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    }
  } finally {
    await app.close();
  }
  return { mbitPerS: 10, latencyMs: 40, emptyCacheMs: stats(out) };
}

/** The A/B and the throttled first visit as markdown lines, against the targets. */
export function coldStartExtraLines(ab: Record<'bytes' | 'streaming', CompileArm>, throttled: Awaited<ReturnType<typeof coldStartThrottled>>): string[] {
  const f = (x: Stats) => `${x.median.toFixed(0)} (${x.min.toFixed(0)}–${x.max.toFixed(0)})`;
  const ev = (e: Record<string, number>) =>
    Object.entries(e)
      .map(([k, n]) => `${k.replace('v8.wasm.', '')} ${n}`)
      .join(', ') || 'none';
  return [
    '',
    `WASM runtime compile, paired A/B over ${ab.bytes.thirdVisitMs.runs} rounds (alternating order; fresh profile, first visit, then two warm starts; ms, median (min–max)):`,
    '',
    '| runtime compiled from | 2nd visit, page load to first result | 3rd visit | 3rd: engine load | 3rd: runtime start + session | 3rd: V8 wasm code-cache trace events |',
    '|---|---|---|---|---|---|',
    ...(['bytes', 'streaming'] as const).map(
      (w) =>
        `| ${w === 'bytes' ? 'verified bytes (WebAssembly.instantiate; shipped)' : 'Cache API response (instantiateStreaming via the service worker)'} | ${f(ab[w].secondVisitMs)} | ${f(ab[w].thirdVisitMs)} | ${f(ab[w].thirdVisitEngineLoadMs)} | ${f(ab[w].thirdVisitRuntimeStartMs)} | ${ev(ab[w].thirdVisitWasmCacheEvents)} |`,
    ),
    '',
    `First visit over ${throttled.mbitPerS} Mbit/s with ${throttled.latencyMs} ms latency (CDP throttling), page load to first result: ${f(throttled.emptyCacheMs)} ms (target < 6,000).`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const tp = await throughput();
  const cs = await coldStart();
  const ab = await runtimeCompileAB();
  const throttled = await coldStartThrottled();
  const result = { date: new Date().toISOString(), batch: tp, coldStart: cs, runtimeCompile: ab, coldStartThrottled: throttled };
  mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'pwa.json'), JSON.stringify(result, null, 2) + '\n');

  console.log(`\nBatch throughput, ${tp.photos} photos of imagenet-samples-animals, ${tp.backend} ${tp.threads} threads, thumbnails on (median (min–max) of ${REPEATS}):`);
  console.log('| batch size | photos/s | vs batch 1 |\n|---|---|---|');
  for (const size of BATCH_SIZES) console.log(`| ${size} | ${fmt(tp.photosPerSecond[size])} | ${(tp.photosPerSecond[size].median / tp.photosPerSecond[1].median).toFixed(2)}x |`);
  console.log(`\nCold start, page load to first result (median (min–max) of ${COLD_RUNS}, ms):`);
  console.log(`| cache | ms |\n|---|---|\n| empty | ${fmt(cs.emptyCacheMs, 0)} |\n| warm | ${fmt(cs.warmCacheMs, 0)} |`);
  console.log(`Warm start, where the time went (medians, ms): ${JSON.stringify(cs.warmBreakdownMs, (_k, v) => (typeof v === 'number' ? Math.round(v) : v))}`);
  console.log(coldStartExtraLines(ab, throttled).join('\n'));
}

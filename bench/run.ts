/**
 * npm run bench — the whole benchmark suite in one run, so every comparison
 * is made on the same machine at the same time. Writes
 * bench/results/latest.json and latest.md and prints the table.
 * Every figure is a median over repeated runs with min and max.
 *
 * BENCH_RUNS (default 30) sets the repeats; BENCH_QUICK=1 runs a short pass
 * (fewer runs, rounds and memory samples, the format table's accuracy on
 * 100 photos) that smoke-runs every section in a few minutes.
 */
import './built.ts'; // first: builds what is missing before the imports below load
import sharp from 'sharp';
import { readFileSync, readdirSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants as zlib } from 'node:zlib';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { NodeClassifier } from '../node/node-classifier.ts';
import { openApp, type BrowserSession } from '../harness/browser-runner.ts';
import { readManifest, modelFile } from '../node/registry.ts';
import { DATA_DIR_SHARED, DIST_DIR, REPO_ROOT } from '../node/paths.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../harness/chromium.ts';
import { median } from '../core/stats.ts';
import { serveUsual } from './usual/server.ts';
import { throughput, coldStart, runtimeCompileAB, coldStartThrottled, coldStartExtraLines } from './pwa.ts';
import { lighthouseMobile, lighthouseTable } from './lighthouse.ts';
import { yardstick, yardstickTable } from './litert.ts';
import { packLatency, packTable } from './packs.ts';
import { formatComparison, type FormatComparison } from './model-format.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 8 : 30));
const BIG_RUNS = Math.max(3, Math.round(RUNS / 3));
/** Blocks per contender: enough to spread each over the run, few enough that each block is several photos. */
const ROUNDS = QUICK ? 2 : 5;
const MEMORY_IDS = QUICK ? 20 : 1000;
/** Memory samples after the warm-up; each waits for a garbage collection, so quick mode takes one. */
const MEMORY_STEPS = QUICK ? 1 : 4;
const WARM_UP_IDS = QUICK ? 5 : 50;

type Stat = { median: number; min: number; max: number; runs: number };
const stat = (xs: number[]): Stat => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length });
const f = (s: Stat | null | undefined, d = 1) => (s ? `${s.median.toFixed(d)} (${s.min.toFixed(d)}–${s.max.toFixed(d)})` : 'n/a');
const log = (m: string) => process.stderr.write(`bench: ${m}\n`);

const manifest = readManifest()!;
const versions = manifest.versions.filter((v) => !v.lineage).map((v) => v.version); // the built versions, not pipeline candidates
const smallPath = path.join(DATA_DIR_SHARED, 'imagenet-samples-animals', 'n01534433_junco.JPEG');
const small = new Uint8Array(readFileSync(smallPath));
// A 12-megapixel JPEG made from it (4000 x 3000), as a phone camera takes them.
const big = new Uint8Array(await sharp(small).resize(4000, 3000).jpeg({ quality: 90 }).toBuffer());

/**
 * One way of identifying a photo, measured in blocks: small(n) and big(n)
 * run n photos each and return a row per photo. The suite interleaves the
 * blocks of every contender (native, app WASM 1 and 2 threads, the usual
 * way), so a slow spell on this shared machine lands on all of them alike
 * and the ratios between them stay fair.
 */
interface Row {
  wall: number;
  inference: number;
  decode?: number;
  preprocess?: number;
  decodedBy?: string;
}
interface Contender {
  small(n: number): Promise<Row[]>;
  big(n: number): Promise<Row[]>;
  close(): Promise<void>;
  meta: Record<string, unknown>;
  unavailable?: string;
}

/** (a) onnxruntime-node on one thread: inference alone, and end to end with sharp's decode. */
async function nativeContender(version: string): Promise<Contender> {
  const c = await NodeClassifier.load({ version, threads: 1 });
  const tensor = await c.tensorFor(small);
  for (let i = 0; i < 5; i++) await c.run(tensor, 1);
  const rows = async (bytes: Uint8Array, n: number) => {
    const out: Row[] = [];
    for (let i = 0; i < n; i++) {
      const inference = (await c.run(tensor, 1)).ms;
      const t0 = performance.now();
      await c.classifyBytes(bytes);
      out.push({ wall: performance.now() - t0, inference });
    }
    return out;
  };
  return { small: (n) => rows(small, n), big: (n) => rows(big, n), close: () => c.release(), meta: {} };
}

async function inPage(session: BrowserSession, bytes: Uint8Array, runs: number): Promise<Row[]> {
  const b64 = Buffer.from(bytes).toString('base64');
  return session.page.evaluate(
    async ({ b64, runs }) => {
      const arr = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      const rows: Array<{ wall: number; decode: number; preprocess: number; inference: number; decodedBy?: string }> = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        const out = await window.__wildsight!.classifyBytes(arr, 'bench.jpg');
        const wall = performance.now() - t0;
        if ('error' in out) throw new Error(out.error.message);
        rows.push({ wall, decode: out.timings.decodeMs, preprocess: out.timings.preprocessMs, inference: out.timings.inferenceMs, decodedBy: out.decodedBy });
      }
      return rows;
    },
    { b64, runs },
  );
}

/** (b), (c) the app's own worker in headless Chromium. */
async function appContender(version: string, backend: 'wasm' | 'webgpu', threads?: number): Promise<Contender> {
  const session = await openApp({ model: version, backend, threads, webgpu: backend === 'webgpu' });
  const meta = { threads: session.info.threads, loadMs: session.info.loadMs };
  if (session.info.backend !== backend) {
    await session.close();
    const none = async () => [];
    return { small: none, big: none, close: async () => {}, meta, unavailable: session.info.fallbackReason ?? 'backend not used' };
  }
  return { small: (n) => inPage(session, small, n), big: (n) => inPage(session, big, n), close: () => session.close(), meta };
}

/** (d) the usual way: no warm-up, so its first call is in its first block. */
async function usualContender(version: string): Promise<Contender> {
  const model = manifest.versions.find((v) => v.version === version)!;
  const server = await serveUsual(readFileSync(modelFile(model)));
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => (window as unknown as { usualReady?: boolean }).usualReady === true);
  const load = await page.evaluate(() => (window as unknown as { usual: { load(u: string): Promise<{ loadMs: number }> } }).usual.load('/model.onnx'));
  const meta: Record<string, unknown> = { loadMs: load.loadMs };
  const run = async (bytes: Uint8Array, n: number): Promise<Row[]> => {
    const rows = await page.evaluate(
      async ({ b64, n }) => {
        const arr = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
        const u = (window as unknown as { usual: { classify(b: Uint8Array): Promise<{ inferenceMs: number; totalMs: number }> } }).usual;
        const out = [];
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          const r = await u.classify(arr);
          out.push({ inference: r.inferenceMs, wall: performance.now() - t0 });
        }
        return out;
      },
      { b64: Buffer.from(bytes).toString('base64'), n },
    );
    meta.firstCallMs ??= rows[0]?.wall;
    return rows;
  };
  return {
    small: (n) => run(small, n),
    big: (n) => run(big, n),
    close: async () => {
      await browser.close();
      await server.close();
    },
    meta,
  };
}

/** The figures of one contender, in the shape the table reads. */
function summary(c: Contender, s: Row[], b: Row[]) {
  if (c.unavailable) return { unavailable: c.unavailable };
  return {
    ...c.meta,
    inferenceMs: stat(s.map((r) => r.inference)),
    e2eSmallMs: stat(s.map((r) => r.wall)),
    e2eBigMs: stat(b.map((r) => r.wall)),
    ...(b[0]?.decode !== undefined
      ? {
          bigDecodedBy: b[0].decodedBy ?? 'full size',
          bigBreakdownMs: { decode: median(b.map((r) => r.decode!)), preprocess: median(b.map((r) => r.preprocess!)), inference: median(b.map((r) => r.inference)) },
          smallBreakdownMs: { decode: median(s.map((r) => r.decode!)), preprocess: median(s.map((r) => r.preprocess!)), inference: median(s.map((r) => r.inference)) },
        }
      : {}),
  };
}

/** Runs every contender in interleaved blocks: ROUNDS rounds of small photos, then of 12 MP ones. */
async function interleaved(contenders: Record<string, Contender>) {
  const names = Object.keys(contenders);
  const s: Record<string, Row[]> = Object.fromEntries(names.map((n) => [n, []]));
  const b: Record<string, Row[]> = Object.fromEntries(names.map((n) => [n, []]));
  const per = Math.ceil(RUNS / ROUNDS);
  const perBig = Math.ceil(BIG_RUNS / ROUNDS);
  for (let r = 0; r < ROUNDS; r++) for (const n of names) s[n].push(...(await contenders[n].small(per)));
  for (let r = 0; r < ROUNDS; r++) for (const n of names) b[n].push(...(await contenders[n].big(perBig)));
  return Object.fromEntries(names.map((n) => [n, summary(contenders[n], s[n], b[n])]));
}

async function memory() {
  const session = await openApp({ backend: 'wasm' });
  try {
    const b64 = Buffer.from(small).toString('base64');
    // The measurement is taken at the next garbage collection, which an idle
    // page may not have for a minute: keep identifying until it arrives.
    const measure = () =>
      session.page.evaluate(
        async ({ b64 }) => {
          const arr = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
          let done = false;
          const pending = (
            performance as unknown as { measureUserAgentSpecificMemory(): Promise<{ bytes: number; breakdown: Array<{ bytes: number; attribution: Array<{ scope: string }> }> }> }
          ).measureUserAgentSpecificMemory();
          void pending.finally(() => {
            done = true;
          });
          while (!done) await window.__wildsight!.classifyBytes(arr, 'm.jpg');
          const m = await pending;
          const worker = m.breakdown.filter((b) => b.attribution.some((a) => a.scope === 'DedicatedWorkerGlobalScope')).reduce((s, b) => s + b.bytes, 0);
          return { totalBytes: m.bytes, workerBytes: worker };
        },
        { b64 },
      );
    const classifyN = (n: number) =>
      session.page.evaluate(
        async ({ b64, n }) => {
          const arr = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
          for (let i = 0; i < n; i++) {
            const out = await window.__wildsight!.classifyBytes(arr, 'm.jpg');
            if ('error' in out) throw new Error(out.error.message);
          }
        },
        { b64, n },
      );
    await classifyN(WARM_UP_IDS);
    const afterWarmUp = await measure();
    const samples = [afterWarmUp];
    for (let step = 0; step < MEMORY_STEPS; step++) {
      await classifyN(MEMORY_IDS / MEMORY_STEPS);
      samples.push(await measure());
    }
    const last = samples.at(-1)!;
    return { identifications: MEMORY_IDS, warmUp: WARM_UP_IDS, steps: MEMORY_STEPS, afterWarmUp, afterAll: last, workerGrowthBytes: last.workerBytes - afterWarmUp.workerBytes, samples };
  } finally {
    await session.close();
  }
}

function sizes() {
  const sizeOf = (bytes: Buffer) => ({ raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, brotli: brotliCompressSync(bytes, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }).length });
  const models = Object.fromEntries(manifest.versions.filter((v) => versions.includes(v.version)).map((v) => [v.version, sizeOf(readFileSync(modelFile(v)))]));
  const shell = { raw: 0, gzip: 0, brotli: 0, files: 0 };
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) {
        walk(full);
        continue;
      }
      if (name.endsWith('.map') || name.includes('asyncify')) continue; // not downloaded by a WASM device
      const s = sizeOf(readFileSync(full));
      shell.raw += s.raw;
      shell.gzip += s.gzip;
      shell.brotli += s.brotli;
      shell.files++;
    }
  };
  walk(DIST_DIR);
  return { models, appShell: shell };
}

const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  runs: RUNS,
  bigRuns: BIG_RUNS,
  machine: `${process.platform} ${process.arch}, ${(await import('node:os')).cpus().length} cores`,
};
const perVersion: Record<string, Record<string, unknown>> = {};
for (const v of versions) {
  log(`${v}: native, app WASM 1 and 2 threads, usual way, interleaved in ${ROUNDS} rounds`);
  const contenders = {
    native: await nativeContender(v),
    wasm1: await appContender(v, 'wasm', 1),
    wasm2: await appContender(v, 'wasm', 2),
    usual: await usualContender(v),
  };
  try {
    perVersion[v] = await interleaved(contenders);
  } finally {
    for (const c of Object.values(contenders)) await c.close();
  }
  // WebGPU through SwiftShader is a software GPU, reported but not a target: a few runs on their own say enough.
  log(`${v}: app webgpu (swiftshader)`);
  const gpu = await appContender(v, 'webgpu');
  try {
    perVersion[v].webgpu = summary(gpu, await gpu.small(Math.min(RUNS, 5)), await gpu.big(2));
  } finally {
    await gpu.close();
  }
}
results.versions = perVersion;
log('LiteRT.js yardstick: the same MobileNetV2 int8 in LiteRT.js, the app worker and native, interleaved');
results.litert = await yardstick({ runs: RUNS, rounds: ROUNDS, log });
log('species packs');
results.packs = await packLatency(RUNS, ROUNDS);
log('model format: 1.0.0 against its weights as int8 + DequantizeLinear, int8 folded, fp16 and fp32');
results.format = await formatComparison({ runs: RUNS, rounds: ROUNDS, evalLimit: QUICK ? 100 : undefined, log: (m) => log(`format: ${m}`) });
log('batch throughput');
results.batch = await throughput();
log('cold start');
results.coldStart = await coldStart();
log('cold start: WASM runtime compiled from bytes against streamed from the Cache API, paired');
const runtimeCompile = await runtimeCompileAB(QUICK ? 1 : 4);
log('cold start: first visit over a throttled 10 Mbit/s link');
const throttled = await coldStartThrottled(QUICK ? 1 : 3);
Object.assign(results, { runtimeCompile, coldStartThrottled: throttled });
log('memory');
results.memory = await memory();
results.sizes = sizes();
log('Lighthouse mobile');
results.lighthouse = await lighthouseMobile(QUICK ? 1 : 3, log);

// ---- the table ----
const lines: string[] = [];
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`;
lines.push(
  `# Wildsight benchmarks (${String(results.date)})`,
  '',
  `Median (min–max) over ${RUNS} runs (${BIG_RUNS} for 12 MP); ${String(results.machine)}. All in one run; native, app WASM and the usual way in ${ROUNDS} interleaved rounds.`,
  '',
);
lines.push(
  '## Inference latency per photo (ms)',
  '',
  '| version | (a) native 1 thread | (b) app WASM 1 thread | (b) app WASM 2 threads | (c) WebGPU SwiftShader | (d) usual way | b2/a | d/b2 |',
  '|---|---|---|---|---|---|---|---|',
);
for (const v of versions) {
  const r = perVersion[v] as any;
  const ratio = (x?: Stat, y?: Stat) => (x && y ? `${(x.median / y.median).toFixed(1)}x` : 'n/a');
  lines.push(
    `| ${v} | ${f(r.native.inferenceMs, 2)} | ${f(r.wasm1.inferenceMs)} | ${f(r.wasm2.inferenceMs)} | ${r.webgpu.unavailable ? `n/a (${r.webgpu.unavailable})` : f(r.webgpu.inferenceMs)} | ${f(r.usual.inferenceMs)} | ${ratio(r.wasm2.inferenceMs, r.native.inferenceMs)} | ${ratio(r.usual.inferenceMs, r.wasm2.inferenceMs)} |`,
  );
}
lines.push('', ...(results.format as FormatComparison).lines);
lines.push('', ...yardstickTable(results.litert as Awaited<ReturnType<typeof yardstick>>));
lines.push(
  '',
  '## End to end per photo (ms): decode, preprocess, inference, post-process',
  '',
  '| version | photo | native | app WASM 2 threads | usual way | usual / app |',
  '|---|---|---|---|---|---|',
);
for (const v of versions) {
  const r = perVersion[v] as any;
  for (const [label, key] of [
    ['500 x 375', 'e2eSmallMs'],
    ['12 MP (4000 x 3000)', 'e2eBigMs'],
  ] as const) {
    lines.push(`| ${v} | ${label} | ${f(r.native[key])} | ${f(r.wasm2[key])} | ${f(r.usual[key])} | ${(r.usual[key].median / r.wasm2[key].median).toFixed(1)}x |`);
  }
  const bd = r.wasm2.bigBreakdownMs;
  lines.push(
    `| ${v} | 12 MP breakdown (app) | | decode ${bd.decode.toFixed(0)}${r.wasm2.bigDecodedBy ? ` (${r.wasm2.bigDecodedBy})` : ''}, preprocess ${bd.preprocess.toFixed(0)}, inference ${bd.inference.toFixed(0)} | | |`,
  );
}
lines.push('', ...packTable(results.packs as Awaited<ReturnType<typeof packLatency>>));
const cs = results.coldStart as any;
const wb = cs.warmBreakdownMs;
lines.push(
  '',
  '## Cold start: page load to first result (ms)',
  '',
  '| model cache | ms |',
  '|---|---|',
  `| empty (first visit) | ${f(cs.emptyCacheMs, 0)} |`,
  `| warm (service worker and model cached; target < 1,000) | ${f(cs.warmCacheMs, 0)} |`,
);
lines.push(
  '',
  `Warm start, where the time went (medians): page parsed at ${wb.domContentLoadedMs.toFixed(0)} ms; the engine's load took ${wb.engineLoadMs.toFixed(0)} ms, of which the WASM runtime's start and the session ${(wb.sessionMs - wb.runtimeMs).toFixed(0)} ms (the runtime's JavaScript ready at ${wb.runtimeMs.toFixed(0)} ms, the model's bytes verified at ${wb.modelMs.toFixed(0)} ms, in parallel); warm-up run ${wb.warmUpMs.toFixed(0)} ms; model shown as ready at ${wb.readyMs.toFixed(0)} ms.`,
);
lines.push(...coldStartExtraLines(runtimeCompile, throttled));
const bt = results.batch as any;
lines.push(
  '',
  `## Batch throughput: ${bt.photos} photos (photos/s, WASM ${bt.threads} threads)`,
  '',
  '| batch size | photos/s |',
  '|---|---|',
  ...Object.entries(bt.photosPerSecond).map(([k, s]) => `| ${k} | ${f(s as Stat)} |`),
);
const m = results.memory as any;
lines.push(
  '',
  `## Memory over ${m.identifications} identifications (worker JS heap + WASM memory, measureUserAgentSpecificMemory)`,
  '',
  '| after | worker | page total |',
  '|---|---|---|',
  ...m.samples.map((s: any, i: number) => `| ${i === 0 ? `warm-up (${m.warmUp})` : `${m.warmUp + (i * m.identifications) / m.steps}+`} | ${mb(s.workerBytes)} | ${mb(s.totalBytes)} |`),
  '',
  `Worker growth after warm-up: ${(m.workerGrowthBytes / 1024 / 1024).toFixed(2)} MB.`,
);
const sz = results.sizes as any;
lines.push(
  '',
  '## Size on the wire',
  '',
  '| what | raw | gzip | brotli |',
  '|---|---|---|---|',
  ...Object.entries(sz.models).map(([v, s]: [string, any]) => `| model ${v} | ${mb(s.raw)} | ${mb(s.gzip)} | ${mb(s.brotli)} |`),
  `| app shell (${sz.appShell.files} files, incl. the WASM runtime) | ${mb(sz.appShell.raw)} | ${mb(sz.appShell.gzip)} | ${mb(sz.appShell.brotli)} |`,
);
lines.push('', ...lighthouseTable(results.lighthouse as Awaited<ReturnType<typeof lighthouseMobile>>));
const table = lines.join('\n') + '\n';
mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'latest.json'), JSON.stringify(results, null, 2) + '\n');
writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'latest.md'), table);
console.log(table);

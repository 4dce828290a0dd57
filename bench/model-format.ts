/**
 * npm run bench:format — would another ONNX format of the default model's
 * weights run faster in the browser without costing accuracy?
 *
 * onnxruntime-web's int8 kernels are slow on WASM, so the same int8 weights
 * are rewritten in QDQ form (node/qdq-graph.ts) and run with the session
 * config `session.disable_quant_qdq`: onnxruntime then folds the weights to
 * float once and runs float kernels, rounding each activation to its int8
 * grid. Compared in one run against 1.0.0 as shipped:
 *   - accuracy: `npm run eval`'s scoring on imagenet-val-animals (Node);
 *   - speed: inference per photo, native 1 thread and onnxruntime-web WASM
 *     with 2 threads in headless Chromium, interleaved rounds, medians.
 * Prints a table and writes bench/results/model-format.json.
 */
import Fastify from 'fastify';
import fastifyStatic from '@fastify/static';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { chromium } from '@playwright/test';
import cliProgress from 'cli-progress';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../harness/chromium.ts';
import { decodeModel, encodeModel } from '../node/onnx-graph.ts';
import { toQdq } from '../node/qdq-graph.ts';
import { BASES, buildSpeciesModel } from '../node/species-model.ts';
import { loadTaxonIndex, loadTaxonomy, modelFile, readManifest } from '../node/registry.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { readLabelledPhotos } from '../node/labelled-photos.ts';
import { DATA_DIR_SHARED, IMAGENET_DIR, REPO_ROOT } from '../node/paths.ts';
import { summarize } from '../core/eval-score.ts';
import { median } from '../core/stats.ts';
import { ensureModels } from '../node/ensure-built.ts';

ensureModels('the benchmark');

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const ROUNDS = 3;
const FLOAT_KERNELS = { session: { disable_quant_qdq: '1' } };

const manifest = readManifest()!;
const shipped = manifest.versions.find((v) => v.version === '1.0.0')!;
const shippedBytes = new Uint8Array(readFileSync(modelFile(shipped)));
const zoo = decodeModel(readFileSync(path.join(IMAGENET_DIR, BASES['mobilenetv2-12-int8'].file)));
toQdq(zoo);
const launch = loadTaxonomy().taxa.filter((t) => t.imagenetIndex != null);
const qdqBytes = buildSpeciesModel(encodeModel(zoo), { recipe: BASES['mobilenetv2-12-int8'], speciesIndices: launch.map((t) => t.imagenetIndex!), version: '1.0.0-qdq', labelsSha256: shipped.labelsSha256 });

interface Variant { name: string; bytes: Uint8Array; config?: Record<string, unknown> }
const variants: Variant[] = [
  { name: '1.0.0 as shipped (QOperator int8)', bytes: shippedBytes },
  { name: 'same weights, QDQ, int8 kernels (default options)', bytes: qdqBytes },
  { name: 'same weights, QDQ, float kernels (disable_quant_qdq)', bytes: qdqBytes, config: FLOAT_KERNELS },
];

async function accuracy(v: Variant) {
  const dir = path.join(DATA_DIR_SHARED, 'imagenet-val-animals');
  const photos = readLabelledPhotos(dir, path.join(dir, 'labels.csv'), loadTaxonomy());
  const c = await NodeClassifier.fromBytes(shipped, v.bytes, loadTaxonIndex(), 1, v.config);
  const bar = new cliProgress.SingleBar({ format: `eval ${v.name} [{bar}] {value}/{total}`, clearOnComplete: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
  bar.start(photos.length, 0);
  const scored = await c.score(photos, { onEach: () => bar.increment() });
  bar.stop();
  await c.release();
  const s = summarize(scored);
  return { top1: s.top1, top5: s.top5, other_accuracy: s.other_accuracy, n_launch: s.n_launch };
}

const input = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i) * 1.5);

async function nativeMs(v: Variant): Promise<number[]> {
  const s = await ortNode.InferenceSession.create(v.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3, ...(v.config ? { extra: v.config } : {}) });
  const feed = { input: new ortNode.Tensor('float32', input, [1, 3, 224, 224]) };
  for (let i = 0; i < 5; i++) await s.run(feed);
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) { const t0 = performance.now(); await s.run(feed); ms.push(performance.now() - t0); }
  await s.release();
  return ms;
}

/** A cross-origin isolated page with onnxruntime-web's WASM build, so 2 threads are possible. */
async function wasmPage() {
  const app = Fastify({ logger: false });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Cross-Origin-Embedder-Policy', 'require-corp');
  });
  await app.register(fastifyStatic, { root: path.join(REPO_ROOT, 'node_modules', 'onnxruntime-web', 'dist'), prefix: '/ortdist/' });
  app.get('/', (_req, reply) => reply.type('text/html').send(`<!doctype html><script type="module">
    import * as ort from '/ortdist/ort.wasm.min.mjs';
    ort.env.wasm.wasmPaths = '/ortdist/';
    ort.env.wasm.numThreads = 2;
    const sessions = {};
    window.bench = {
      async load(i, config) {
        const bytes = new Uint8Array(await (await fetch('/model/' + i)).arrayBuffer());
        sessions[i] = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', ...(config ? { extra: config } : {}) });
        return crossOriginIsolated;
      },
      async run(i, runs) {
        const x = new Float32Array(3 * 224 * 224).map((_, k) => Math.sin(k) * 1.5);
        const feed = { input: new ort.Tensor('float32', x, [1, 3, 224, 224]) };
        for (let k = 0; k < 5; k++) await sessions[i].run(feed);
        const ms = [];
        for (let k = 0; k < runs; k++) { const t0 = performance.now(); await sessions[i].run(feed); ms.push(performance.now() - t0); }
        return ms;
      },
    };
    window.ready = true;
  </script>`));
  app.get('/model/:i', (req, reply) => reply.type('application/octet-stream').send(Buffer.from(variants[Number((req.params as { i: string }).i)].bytes)));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/`);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  return { page, close: async () => { await browser.close(); await app.close(); } };
}

const stat = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length });
const fmt = (s: ReturnType<typeof stat>, d = 1) => `${s.median.toFixed(d)} (${s.min.toFixed(d)}–${s.max.toFixed(d)})`;

const acc: Array<Awaited<ReturnType<typeof accuracy>>> = [];
for (const v of variants) acc.push(await accuracy(v));
const native: number[][] = variants.map(() => []);
const wasm: number[][] = variants.map(() => []);
const { page, close } = await wasmPage();
try {
  for (let i = 0; i < variants.length; i++) {
    const isolated = await page.evaluate(({ i, config }) => (window as unknown as { bench: { load(i: number, c: unknown): Promise<boolean> } }).bench.load(i, config), { i, config: variants[i].config ?? null });
    if (!isolated) throw new Error('the benchmark page is not cross-origin isolated: WASM threads would be off');
  }
  // Interleaved rounds, so a noisy moment on this machine lands on every variant alike.
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < variants.length; i++) {
      process.stderr.write(`bench:format round ${r + 1}/${ROUNDS}: ${variants[i].name}\n`);
      native[i].push(...(await nativeMs(variants[i])));
      wasm[i].push(...(await page.evaluate(({ i, runs }) => (window as unknown as { bench: { run(i: number, n: number): Promise<number[]> } }).bench.run(i, runs), { i, runs: Math.ceil(RUNS / ROUNDS) })));
    }
  }
} finally {
  await close();
}

const rows = variants.map((v, i) => ({ variant: v.name, bytes: v.bytes.length, ...acc[i], nativeMs: stat(native[i]), wasm2Ms: stat(wasm[i]) }));
const lines = [
  `# Model format: the default model's weights in another form (${new Date().toISOString()})`, '',
  'Median (min–max) ms per photo; accuracy from `npm run eval` scoring in Node on imagenet-val-animals.', '',
  '| variant | size | top-1 | other declined | native 1 thread | WASM 2 threads | WASM / native |', '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.variant} | ${(r.bytes / 1024 / 1024).toFixed(2)} MB | ${r.top1.toFixed(4)} | ${r.other_accuracy.toFixed(4)} | ${fmt(r.nativeMs, 2)} | ${fmt(r.wasm2Ms)} | ${(r.wasm2Ms.median / r.nativeMs.median).toFixed(1)}x |`),
  '', `WASM float kernels vs the shipped int8 ones: ${(rows[0].wasm2Ms.median / rows[2].wasm2Ms.median).toFixed(2)}x faster; vs native int8 (the machine's limit for these weights): ${(rows[2].wasm2Ms.median / rows[0].nativeMs.median).toFixed(1)}x.`,
];
const table = lines.join('\n') + '\n';
mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'model-format.json'), JSON.stringify({ date: new Date().toISOString(), runs: RUNS, rows }, null, 2) + '\n');
writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'model-format.md'), table);
console.log(table);

/**
 * npm run bench:format — which format of the default model's weights should
 * devices get? (issue #14)
 *
 * onnxruntime-web's WASM int8 kernels are slow, so 1.0.0's graph (int8
 * QOperator) is compared, in one run, with the same weights in three other
 * forms built by node/model-formats.ts: weight-only int8 (DequantizeLinear
 * into float Conv/MatMul), the same int8 weights dequantized by Cast, Sub
 * and Mul (which onnxruntime folds at load, unlike DequantizeLinear), fp16
 * weights (Cast to float) and plain float32; activations are float in all. For each:
 *   - accuracy: `npm run eval`'s scoring on imagenet-val-animals (Node),
 *     paired against the shipped graph photo by photo: the difference in
 *     top-1 and other_accuracy with Newcombe's 95% interval and McNemar's p
 *     (core/intervals.ts, as the retraining gate uses); nothing is tuned on it;
 *   - wire bytes: raw, brotli (quality 11, as models:build precompresses),
 *     gzip 9;
 *   - speed per photo: onnxruntime-node on 1 thread, and onnxruntime-web
 *     WASM with 1 and 2 threads in headless Chromium (one page per thread
 *     count, since the count is fixed at the runtime's start), the app's
 *     session options, interleaved rounds, medians.
 * Prints a table and writes bench/results/model-format.md and .json.
 * `npm run bench` runs the same comparison through formatComparison().
 * BENCH_QUICK=1 scores the first 100 photos only and runs 2 rounds.
 */
import fastifyStatic from '@fastify/static';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { chromium, type Browser, type Page } from '@playwright/test';
import cliProgress from 'cli-progress';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../harness/chromium.ts';
import { isolatedApp } from '../harness/isolated-server.ts';
import { deriveFormat, FORMATS, type ModelFormat } from '../node/model-formats.ts';
import { loadTaxonIndex, loadTaxonomy, modelFile, readManifest } from '../node/registry.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { readLabelledPhotos } from '../node/labelled-photos.ts';
import { compress } from '../node/precompress.ts';
import { DATA_DIR_SHARED, REPO_ROOT } from '../node/paths.ts';
import { scorePhoto, summarize, type ScoredPhoto } from '../core/eval-score.ts';
import { OTHER_LABEL } from '../core/taxonomy.ts';
import { mcnemar, pairedCounts, pairedDifference } from '../core/intervals.ts';
import { median } from '../core/stats.ts';
import { ensureModels } from '../node/ensure-built.ts';

ensureModels('the benchmark');

const EVAL_SET = 'imagenet-val-animals';

const manifest = readManifest()!;
const shipped = manifest.versions.find((v) => v.version === '1.0.0')!;
const shippedBytes = new Uint8Array(readFileSync(modelFile(shipped)));

interface Variant {
  format: ModelFormat;
  name: string;
  bytes: Uint8Array;
}
const variants: Variant[] = FORMATS.map((f) => ({ format: f.format, name: f.title, bytes: deriveFormat(shippedBytes, f.format, `1.0.0-${f.format}`) }));

/** Every variant on every photo of the eval set; each photo is decoded once and its tensor given to all. */
async function accuracy(limit?: number): Promise<ScoredPhoto[][]> {
  const dir = path.join(DATA_DIR_SHARED, EVAL_SET);
  const photos = readLabelledPhotos(dir, path.join(dir, 'labels.csv'), loadTaxonomy()).slice(0, limit);
  const taxa = loadTaxonIndex();
  const classifiers = await Promise.all(variants.map((v) => NodeClassifier.fromBytes(shipped, v.bytes, taxa, 2)));
  const scored: ScoredPhoto[][] = variants.map(() => []);
  const bar = new cliProgress.SingleBar(
    { format: `eval ${EVAL_SET}, ${variants.length} formats [{bar}] {value}/{total} photos`, clearOnComplete: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(photos.length, 0);
  let skipped = 0;
  for (const photo of photos) {
    let tensor: Float32Array | null = null;
    try {
      tensor = await classifiers[0].tensorFor(new Uint8Array(readFileSync(photo.file)), photo.file);
    } catch {
      skipped++;
    }
    if (tensor) {
      for (let i = 0; i < classifiers.length; i++) {
        const { logits, ms } = await classifiers[i].run(tensor, 1);
        scored[i].push(scorePhoto(path.basename(photo.file), photo.label, classifiers[i].interpret(logits[0]), ms));
      }
    }
    bar.increment();
  }
  bar.stop();
  for (const c of classifiers) await c.release();
  if (skipped) process.stderr.write(`bench:format: ${skipped} photos could not be read (left out of every variant alike)\n`);
  return scored;
}

/** What the user is shown: "not one of our species", or the first suggestion. */
const answer = (p: ScoredPhoto) => (p.abstain ? OTHER_LABEL : p.top5[0]);

/** Paired against the shipped graph: top-1 on launch photos, "other declined" on the rest. */
function paired(reference: ScoredPhoto[], candidate: ScoredPhoto[]) {
  const launch = (p: ScoredPhoto) => p.label !== OTHER_LABEL;
  const top1 = (p: ScoredPhoto) => !p.abstain && p.top5[0] === p.label;
  const one = (keep: (p: ScoredPhoto) => boolean, right: (p: ScoredPhoto) => boolean) => {
    const idx = reference.map((p, i) => (keep(p) ? i : -1)).filter((i) => i >= 0);
    const t = pairedCounts(
      idx.map((i) => right(reference[i])),
      idx.map((i) => right(candidate[i])),
    );
    const d = pairedDifference(t);
    const m = mcnemar(t.onlyCurrent, t.onlyCandidate);
    return { difference: round(d.difference), lo: round(d.lo), hi: round(d.hi), losses: t.onlyCurrent, gains: t.onlyCandidate, mcnemarP: round(m.p), n: d.n };
  };
  return {
    top1: one(launch, top1),
    other_accuracy: one(
      (p) => !launch(p),
      (p) => p.abstain,
    ),
    /** Photos whose first answer changed at all, right or wrong. */
    answerChanged: reference.filter((p, i) => answer(p) !== answer(candidate[i])).length,
  };
}

async function wire(bytes: Uint8Array) {
  const b = Buffer.from(bytes);
  return { raw: b.length, brotli: (await compress(b, 'br')).length, gzip: (await compress(b, 'gzip')).length };
}

const input = new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i) * 1.5);

async function nativeMs(v: Variant, runs: number): Promise<number[]> {
  const s = await ortNode.InferenceSession.create(v.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const feed = { input: new ortNode.Tensor('float32', input, [1, 3, 224, 224]) };
  for (let i = 0; i < 5; i++) await s.run(feed);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await s.run(feed);
    ms.push(performance.now() - t0);
  }
  await s.release();
  return ms;
}

/** A cross-origin isolated server with onnxruntime-web's WASM build (the app's session options), so 2 threads are possible. */
async function wasmServer(shared?: Browser) {
  const app = isolatedApp();
  await app.register(fastifyStatic, { root: path.join(REPO_ROOT, 'node_modules', 'onnxruntime-web', 'dist'), prefix: '/ortdist/' });
  app.get('/', (req, reply) =>
    reply.type('text/html').send(`<!doctype html><script type="module">
    import * as ort from '/ortdist/ort.wasm.min.mjs';
    ort.env.wasm.wasmPaths = '/ortdist/';
    ort.env.wasm.numThreads = ${Number((req.query as { threads?: string }).threads ?? 1)};
    const sessions = {};
    window.bench = {
      async load(i) {
        const bytes = new Uint8Array(await (await fetch('/model/' + i)).arrayBuffer());
        sessions[i] = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
        return crossOriginIsolated;
      },
      async run(i, runs) {
        const x = new Float32Array(3 * 224 * 224).map((_, k) => Math.sin(k) * 1.5);
        const feed = { input: new ort.Tensor('float32', x, [1, 3, 224, 224]) };
        for (let k = 0; k < 3; k++) await sessions[i].run(feed);
        const ms = [];
        for (let k = 0; k < runs; k++) { const t0 = performance.now(); await sessions[i].run(feed); ms.push(performance.now() - t0); }
        return ms;
      },
    };
    window.ready = true;
  </script>`),
  );
  app.get('/model/:i', (req, reply) => reply.type('application/octet-stream').send(Buffer.from(variants[Number((req.params as { i: string }).i)].bytes)));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const browser = shared ?? (await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true }));
  const context = await browser.newContext();
  const port = (app.server.address() as { port: number }).port;
  const pageWith = async (threads: number): Promise<Page> => {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/?threads=${threads}`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    for (let i = 0; i < variants.length; i++) {
      const isolated = await page.evaluate((i) => (window as unknown as { bench: { load(i: number): Promise<boolean> } }).bench.load(i), i);
      if (!isolated) throw new Error('the benchmark page is not cross-origin isolated: WASM threads would be off');
    }
    return page;
  };
  return {
    pageWith,
    close: async () => {
      await context.close();
      if (!shared) await browser.close();
      await app.close();
    },
  };
}

const wasmRun = (page: Page, i: number, runs: number) =>
  page.evaluate(({ i, runs }) => (window as unknown as { bench: { run(i: number, n: number): Promise<number[]> } }).bench.run(i, runs), { i, runs });

const round = (x: number, d = 4) => Number(x.toFixed(d));
const stat = (xs: number[]) => ({ median: round(median(xs), 2), min: round(Math.min(...xs), 2), max: round(Math.max(...xs), 2), runs: xs.length });
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`;
const signed = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;

export interface FormatComparison {
  date: string;
  runs: number;
  rounds: number;
  evalSet: string;
  evalLimit: number | null;
  rows: Array<Record<string, unknown>>;
  lines: string[];
}

/**
 * The whole comparison: accuracy (paired against 1.0.0), wire bytes, and
 * speed in interleaved rounds. Pass a browser to share one Chromium with
 * the rest of `npm run bench`; evalLimit scores only the first photos.
 */
export async function formatComparison(opts: { runs: number; rounds: number; evalLimit?: number; browser?: Browser; log?: (m: string) => void }): Promise<FormatComparison> {
  const RUNS = opts.runs;
  const ROUNDS = opts.rounds;
  const log = opts.log ?? ((m: string) => process.stderr.write(`bench:format: ${m}\n`));
  const scored = await accuracy(opts.evalLimit);
  const sizes: Array<Awaited<ReturnType<typeof wire>>> = [];
  for (const v of variants) sizes.push(await wire(v.bytes));

  const native: number[][] = variants.map(() => []);
  const wasm1: number[][] = variants.map(() => []);
  const wasm2: number[][] = variants.map(() => []);
  const server = await wasmServer(opts.browser);
  try {
    const page1 = await server.pageWith(1);
    const page2 = await server.pageWith(2);
    const per = Math.ceil(RUNS / ROUNDS);
    // Interleaved rounds, each in a rotated order, so a noisy moment on this shared machine lands on every variant alike.
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < variants.length; k++) {
        const i = (k + r) % variants.length;
        log(`round ${r + 1}/${ROUNDS}: ${variants[i].format}`);
        native[i].push(...(await nativeMs(variants[i], per)));
        wasm1[i].push(...(await wasmRun(page1, i, per)));
        wasm2[i].push(...(await wasmRun(page2, i, per)));
      }
    }
  } finally {
    await server.close();
  }

  const rows = variants.map((v, i) => {
    const s = summarize(scored[i]);
    return {
      format: v.format,
      variant: v.name,
      bytes: sizes[i],
      top1: s.top1,
      other_accuracy: s.other_accuracy,
      n_launch: s.n_launch,
      n_other: s.n_other,
      vsShipped: i === 0 ? null : paired(scored[0], scored[i]),
      nativeMs: stat(native[i]),
      wasm1Ms: stat(wasm1[i]),
      wasm2Ms: stat(wasm2[i]),
      wasm2Speedup: round(median(wasm2[0]) / median(wasm2[i]), 2),
      wasm1Speedup: round(median(wasm1[0]) / median(wasm1[i]), 2),
    };
  });

  const pairText = (p: NonNullable<(typeof rows)[number]['vsShipped']>['top1']) => `${signed(p.difference)} [${signed(p.lo)}, ${signed(p.hi)}] (−${p.losses}/+${p.gains}, p=${p.mcnemarP.toFixed(2)})`;
  const lines = [
    `## Model format: the default model's weights in other forms (${new Date().toISOString()})`,
    '',
    `\`npm run bench:format\`. Accuracy: \`npm run eval\`'s scoring in Node on ${EVAL_SET}${opts.evalLimit ? ` (quick: its first ${opts.evalLimit} photos only)` : ''} (${rows[0].n_launch} launch photos, ${rows[0].n_other} other), each format paired photo by photo with 1.0.0 as shipped: difference in points, Newcombe 95% interval, photos lost/gained, McNemar p. Speed: median (min–max) ms per photo over ${RUNS} runs in ${ROUNDS} interleaved rounds; WASM is onnxruntime-web in headless Chromium with the app's session options. Brotli quality 11, gzip 9.`,
    '',
    '| format | raw | brotli | gzip | top-1 | Δ top-1 vs shipped | other declined | Δ other vs shipped | native 1 thread | WASM 1 thread | WASM 2 threads | WASM 2 threads speed-up |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.variant} | ${mb(r.bytes.raw)} | ${mb(r.bytes.brotli)} | ${mb(r.bytes.gzip)} | ${r.top1.toFixed(4)} | ${r.vsShipped ? pairText(r.vsShipped.top1) : '—'} | ${r.other_accuracy.toFixed(4)} | ${r.vsShipped ? pairText(r.vsShipped.other_accuracy) : '—'} | ${r.nativeMs.median.toFixed(2)} (${r.nativeMs.min.toFixed(1)}–${r.nativeMs.max.toFixed(1)}) | ${r.wasm1Ms.median.toFixed(1)} (${r.wasm1Ms.min.toFixed(1)}–${r.wasm1Ms.max.toFixed(1)}) | ${r.wasm2Ms.median.toFixed(1)} (${r.wasm2Ms.min.toFixed(1)}–${r.wasm2Ms.max.toFixed(1)}) | ${r.wasm2Speedup.toFixed(2)}x |`,
    ),
    '',
    ...rows
      .slice(1)
      .map(
        (r) =>
          `- ${r.format}: first answer changed on ${r.vsShipped!.answerChanged} of ${scored[0].length} photos; WASM 1 thread ${r.wasm1Speedup.toFixed(2)}x, 2 threads ${r.wasm2Speedup.toFixed(2)}x the shipped graph's speed.`,
      ),
  ];
  return { date: new Date().toISOString(), runs: RUNS, rounds: ROUNDS, evalSet: EVAL_SET, evalLimit: opts.evalLimit ?? null, rows, lines };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.env.BENCH_QUICK === '1';
  const r = await formatComparison({ runs: Number(process.env.BENCH_RUNS ?? (quick ? 8 : 30)), rounds: quick ? 2 : 5, evalLimit: quick ? 100 : undefined });
  const { lines, ...json } = r;
  lines[0] = lines[0].replace(/^## /, '# ');
  const table = lines.join('\n') + '\n';
  mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'model-format.json'), JSON.stringify(json, null, 2) + '\n');
  writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'model-format.md'), table);
  console.log(table);
}

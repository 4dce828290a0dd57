/**
 * npm run bench:litert — the LiteRT.js yardstick alone (`npm run bench` runs
 * it too). The same network, MobileNetV2 1.0 224 int8, three ways in one
 * Chromium build and one run: LiteRT.js (XNNPACK, WASM) on
 * ../shared/models/inat/mobilenet_v2_1.0_224_quant.tflite, the app's
 * onnxruntime-web worker on model 1.0.0 (the ONNX zoo's MobileNetV2-int8),
 * each with 1 and 2 threads, and onnxruntime-node on one thread as native.
 * Inference per photo only (input tensor in, outputs read back), measured in
 * interleaved rounds so a slow spell on this shared machine lands on every
 * contender alike. This is a yardstick: the app keeps onnxruntime-web.
 * Prints a table and writes bench/results/litert.json.
 */
import './built.ts'; // first: builds what is missing before the imports below load
import sharp from 'sharp';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { NodeClassifier } from '../node/node-classifier.ts';
import { openApp } from '../harness/browser-runner.ts';
import { openLiteRt } from '../harness/litert-runner.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../harness/chromium.ts';
import { DATA_DIR_SHARED, REPO_ROOT } from '../node/paths.ts';
import { median } from '../core/stats.ts';

export const TFLITE = path.join(REPO_ROOT, '..', 'shared', 'models', 'inat', 'mobilenet_v2_1.0_224_quant.tflite');
const LABELS = path.join(REPO_ROOT, '..', 'shared', 'models', 'inat', 'imagenet_labels.txt');
/** The ONNX version that is the same network: the app's default. */
export const ONNX_VERSION = '1.0.0';
const PHOTO = path.join(DATA_DIR_SHARED, 'imagenet-samples-animals', 'n01443537_goldfish.JPEG');

type Stat = { median: number; min: number; max: number; runs: number };
const stat = (xs: number[]): Stat => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length });

export interface Yardstick {
  network: string;
  runs: number;
  rounds: number;
  ms: { native: Stat; ours1: Stat; ours2: Stat; litert1: Stat; litert2: Stat };
  ratios: { ours1ToLitert1: number; ours2ToLitert2: number; ours2ToNative: number; litert2ToNative: number };
  litert: { wasmFile: string | null; crossOriginIsolated: boolean; compileMs: number; top1: string };
  ours: { threads: [number, number]; backend: string };
}

/** One contender: n timed inferences, each returning its ms. */
type Timed = (n: number) => Promise<number[]>;

export async function yardstick(opts: { runs?: number; rounds?: number; log?: (m: string) => void } = {}): Promise<Yardstick> {
  const runs = opts.runs ?? 30;
  const rounds = opts.rounds ?? 5;
  const log = opts.log ?? (() => {});
  const photo = new Uint8Array(readFileSync(PHOTO));
  // LiteRT's model takes raw RGB bytes, NHWC (its first layer does the scaling); ours a normalized NCHW float tensor the app makes itself.
  const rgb = new Uint8Array(await sharp(photo).resize(224, 224, { fit: 'cover' }).removeAlpha().raw().toBuffer());

  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  const native = await NodeClassifier.load({ version: ONNX_VERSION, threads: 1 });
  const closers: Array<() => Promise<unknown>> = [() => browser.close(), () => native.release()];
  try {
    log('LiteRT.js: loading its threaded WASM build and compiling for 1 and 2 threads');
    const lrt = await openLiteRt({ threads: true, browser });
    closers.unshift(() => lrt.close());
    const lm1 = await lrt.compile(TFLITE, { numThreads: 1 });
    const lm2 = await lrt.compile(TFLITE, { numThreads: 2 });
    log(`onnxruntime-web: the app's worker on ${ONNX_VERSION}, 1 and 2 threads`);
    // Each app session has a Chromium (the same binary, same flags) of its own: a page behind another tab is hidden, and the app releases its worker when hidden.
    const app1 = await openApp({ model: ONNX_VERSION, backend: 'wasm', threads: 1 });
    closers.unshift(() => app1.close());
    const app2 = await openApp({ model: ONNX_VERSION, backend: 'wasm', threads: 2 });
    closers.unshift(() => app2.close());
    for (const s of [app1, app2]) if (s.info.backend !== 'wasm') throw new Error(`the app did not start on WASM: ${s.info.fallbackReason}`);

    const tensor = await native.tensorFor(photo);
    const b64 = Buffer.from(photo).toString('base64');
    const ours =
      (s: typeof app1): Timed =>
      (n) =>
        s.page.evaluate(
          async ({ b64, n }) => {
            const arr = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
            const out: number[] = [];
            for (let i = 0; i < n; i++) {
              const r = await window.__wildsight!.classifyBytes(arr, 'yardstick.jpg');
              if ('error' in r) throw new Error(r.error.message);
              out.push(r.timings.inferenceMs);
            }
            return out;
          },
          { b64, n },
        );
    const contenders: Record<keyof Yardstick['ms'], Timed> = {
      native: async (n) => {
        const out = [];
        for (let i = 0; i < n; i++) out.push((await native.run(tensor, 1)).ms);
        return out;
      },
      ours1: ours(app1),
      ours2: ours(app2),
      litert1: async (n) => (await lrt.run(lm1, [rgb], n)).timingsMs,
      litert2: async (n) => (await lrt.run(lm2, [rgb], n)).timingsMs,
    };
    // Warm-up, untimed: first runs pay for tier-up and allocation.
    for (const run of Object.values(contenders)) await run(5);
    const ms = Object.fromEntries(Object.keys(contenders).map((k) => [k, [] as number[]])) as Record<keyof Yardstick['ms'], number[]>;
    const per = Math.ceil(runs / rounds);
    for (let r = 0; r < rounds; r++) {
      log(`round ${r + 1}/${rounds}`);
      for (const [k, run] of Object.entries(contenders)) ms[k as keyof Yardstick['ms']].push(...(await run(per)));
    }
    const s = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, stat(v)])) as Yardstick['ms'];
    const top = (await lrt.run(lm1, [rgb], 1)).outputs[0].bytes;
    let best = 0;
    for (let i = 1; i < top.length; i++) if (top[i] > top[best]) best = i;
    return {
      network: `MobileNetV2 1.0 224 int8: ${path.basename(TFLITE)} (LiteRT.js) and model ${ONNX_VERSION}, the ONNX zoo's mobilenetv2-12-int8 (onnxruntime)`,
      runs: ms.native.length,
      rounds,
      ms: s,
      ratios: {
        ours1ToLitert1: s.ours1.median / s.litert1.median,
        ours2ToLitert2: s.ours2.median / s.litert2.median,
        ours2ToNative: s.ours2.median / s.native.median,
        litert2ToNative: s.litert2.median / s.native.median,
      },
      litert: { wasmFile: lrt.runtime.wasmFile, crossOriginIsolated: lrt.runtime.crossOriginIsolated, compileMs: lm1.compileMs, top1: readFileSync(LABELS, 'utf8').split('\n')[best] ?? String(best) },
      ours: { threads: [app1.info.threads, app2.info.threads], backend: app1.info.backend },
    };
  } finally {
    for (const c of closers) await c().catch(() => {});
  }
}

/** The yardstick as markdown lines (the bench's table and bench:litert print the same). */
export function yardstickTable(y: Yardstick): string[] {
  const f = (s: Stat) => `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
  const x = (r: number) => `${r.toFixed(2)}x`;
  return [
    `## LiteRT.js yardstick: inference per photo (ms), same network, same Chromium, ${y.rounds} interleaved rounds, ${y.runs} runs each`,
    '',
    `${y.network}. LiteRT.js ${y.litert.wasmFile ?? '?'} (XNNPACK), cross-origin isolated: ${y.litert.crossOriginIsolated}; its top-1 for the photo: ${y.litert.top1}.`,
    '',
    '| threads | ours: onnxruntime-web (app worker) | LiteRT.js | ours / LiteRT.js (target ≤ 2x) | native onnxruntime-node, 1 thread | ours / native | LiteRT.js / native |',
    '|---|---|---|---|---|---|---|',
    `| 1 | ${f(y.ms.ours1)} | ${f(y.ms.litert1)} | ${x(y.ratios.ours1ToLitert1)} | ${f(y.ms.native)} | ${x(y.ms.ours1.median / y.ms.native.median)} | ${x(y.ms.litert1.median / y.ms.native.median)} |`,
    `| 2 | ${f(y.ms.ours2)} | ${f(y.ms.litert2)} | ${x(y.ratios.ours2ToLitert2)} | ${f(y.ms.native)} | ${x(y.ratios.ours2ToNative)} | ${x(y.ratios.litert2ToNative)} |`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.env.BENCH_QUICK === '1';
  const y = await yardstick({ runs: Number(process.env.BENCH_RUNS ?? (quick ? 8 : 30)), rounds: quick ? 2 : 5, log: (m) => process.stderr.write(`bench:litert: ${m}\n`) });
  mkdirSync(path.join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(REPO_ROOT, 'bench', 'results', 'litert.json'), JSON.stringify({ date: new Date().toISOString(), ...y }, null, 2) + '\n');
  console.log(yardstickTable(y).join('\n'));
}

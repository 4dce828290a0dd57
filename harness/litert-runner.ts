/**
 * Runs a .tflite model with LiteRT.js (@litertjs/core, XNNPACK on the CPU)
 * in headless Chromium and returns its raw output tensors and timings. The
 * benchmark uses it as a yardstick for onnxruntime-web on the same network;
 * the TFLite->ONNX converter's exactness check uses it as an oracle
 * (openOraclePage below: the outputs come back byte for byte, and the
 * converted ONNX runs in onnxruntime-web on the same page and input).
 *
 * LiteRT.js's (and onnxruntime-web's) ES modules and WASM files ship in their
 * npm packages: they are served from node_modules by a small server of our own, with the isolation
 * headers its threaded build needs (SharedArrayBuffer), and nothing is
 * fetched from anywhere else.
 */
import fastifyStatic from '@fastify/static';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';
import { isolatedApp } from './isolated-server.ts';
import { REPO_ROOT } from '../node/paths.ts';

export type LiteRtDType = 'float32' | 'int32' | 'uint8' | 'int8' | 'int16' | 'float64' | 'int64' | 'bool';
export interface LiteRtTensorDetails {
  name: string;
  index: number;
  dtype: LiteRtDType;
  shape: number[];
}
/** One raw tensor: its bytes as the model holds them (little-endian), with dtype and shape. */
export interface RawTensor {
  dtype: LiteRtDType;
  shape: number[];
  bytes: Uint8Array;
}
export interface CompiledTflite {
  key: string;
  numThreads: number;
  compileMs: number;
  inputs: LiteRtTensorDetails[];
  outputs: LiteRtTensorDetails[];
}
export interface LiteRtRun {
  timingsMs: number[];
  outputs: RawTensor[];
}

export interface LiteRtSession {
  page: Page;
  /** Which WASM build LiteRT.js picked (threaded or not) and how long loading it took. */
  runtime: { threads: boolean; wasmFile: string | null; loadMs: number; crossOriginIsolated: boolean };
  /** Compiles a model for XNNPACK with numThreads threads (1 = the calling thread only). */
  compile(model: Uint8Array | string, opts?: { numThreads?: number }): Promise<CompiledTflite>;
  /** Runs a compiled model `runs` times on the same inputs (in input order); returns each run's ms and the last run's outputs. */
  run(model: CompiledTflite, inputs: Array<Uint8Array | ArrayBufferView>, runs?: number): Promise<LiteRtRun>;
  /** Loads an ONNX model in onnxruntime-web (WASM, 1 thread) on the same page; returns its key for runOnnx. */
  loadOnnx(model: Uint8Array): Promise<string>;
  /** Runs it on one float32 input named "input"; float outputs by name. */
  runOnnx(key: string, input: Float32Array, shape: number[]): Promise<Record<string, Float32Array>>;
  close(): Promise<void>;
}

const PACKAGES = path.join(REPO_ROOT, 'node_modules', '@litertjs');

/** Serves the runner page, LiteRT.js from node_modules and the models handed to compile(), cross-origin isolated. */
async function serve(models: Map<string, Uint8Array>) {
  const app = isolatedApp();
  await app.register(fastifyStatic, { root: path.join(PACKAGES, 'core'), prefix: '/litert/core/', decorateReply: false });
  await app.register(fastifyStatic, { root: path.join(PACKAGES, 'wasm-utils'), prefix: '/litert/wasm-utils/', decorateReply: false });
  await app.register(fastifyStatic, { root: path.join(REPO_ROOT, 'node_modules', 'onnxruntime-web', 'dist'), prefix: '/ort/', decorateReply: false });
  const page = readFileSync(path.join(REPO_ROOT, 'harness', 'litert', 'page.html'), 'utf8');
  app.get('/', (_req, reply) => reply.type('text/html').send(page));
  app.get<{ Params: { key: string } }>('/model/:key', (req, reply) => {
    const bytes = models.get(req.params.key);
    if (!bytes) return reply.code(404).send({ error: 'no such model' });
    return reply.type('application/octet-stream').send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}/`, close: () => app.close() };
}

const b64 = (v: Uint8Array | ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');

/**
 * Opens a page with LiteRT.js loaded. threads: true loads its threaded WASM
 * build (then compile() may ask for more than one thread); pass a browser to
 * share one Chromium with other contenders.
 */
export async function openLiteRt(opts: { threads?: boolean; browser?: Browser } = {}): Promise<LiteRtSession> {
  const models = new Map<string, Uint8Array>();
  const server = await serve(models);
  const ownBrowser = opts.browser ? null : await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  const browser = opts.browser ?? ownBrowser!;
  const context = await browser.newContext();
  const close = async () => {
    await context.close();
    await ownBrowser?.close();
    await server.close();
  };
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page
      .waitForFunction(() => (window as unknown as { __litertReady?: boolean }).__litertReady === true, undefined, { timeout: 30_000 })
      .catch((e: Error) => {
        throw new Error(`LiteRT.js page did not start: ${errors.join('; ') || e.message}`);
      });
    const threads = opts.threads ?? false;
    const loaded = await page.evaluate((threads) => window.__litert!.init({ threads }), threads);
    const crossOriginIsolated = await page.evaluate(() => window.__litert!.crossOriginIsolated);
    let n = 0;
    return {
      page,
      runtime: { threads, ...loaded, crossOriginIsolated },
      async compile(model, o = {}) {
        const key = `m${n++}`;
        const bytes = typeof model === 'string' ? new Uint8Array(readFileSync(model)) : model;
        models.set(key, bytes);
        const numThreads = o.numThreads ?? 1;
        const out = await page
          .evaluate(({ url, key, numThreads }) => window.__litert!.compile(key, url, numThreads), { url: `/model/${key}`, key, numThreads })
          .catch((e: Error) => {
            models.delete(key);
            throw new Error(`LiteRT.js could not compile the model (${bytes.length} bytes): ${e.message.replace(/^page\.evaluate: /, '')}`);
          });
        return { key, numThreads, ...out };
      },
      async run(model, inputs, runs = 1) {
        const shaped = inputs.map((data, i) => ({ b64: b64(data), shape: model.inputs[i]?.shape ?? [] }));
        const out = await page.evaluate(({ key, shaped, runs }) => window.__litert!.run(key, shaped, runs), { key: model.key, shaped, runs });
        return { timingsMs: out.timingsMs, outputs: out.outputs.map((o) => ({ dtype: o.dtype, shape: o.shape, bytes: new Uint8Array(Buffer.from(o.b64, 'base64')) })) };
      },
      async loadOnnx(model) {
        const key = `m${n++}`;
        models.set(key, model);
        await page.evaluate(({ key, url }) => window.__onnx!.load(key, url), { key, url: `/model/${key}` });
        return key;
      },
      async runOnnx(key, input, shape) {
        const out = await page.evaluate(({ key, b64, shape }) => window.__onnx!.run(key, b64, shape), { key, b64: b64(input), shape });
        // A fresh ArrayBuffer at offset 0, so the Float32Array over it is aligned (Buffer's pool is not).
        return Object.fromEntries(
          Object.entries(out).map(([name, s]) => {
            const u = new Uint8Array(Buffer.from(s, 'base64'));
            return [name, new Float32Array(u.buffer, 0, u.byteLength / 4)];
          }),
        );
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The converter's oracle (harness/tflite-exactness.ts): LiteRT.js and onnxruntime-web on one page, models by key. */
export interface OraclePage {
  /** Makes `bytes` loadable on the page under `key` (a .tflite or an .onnx). */
  addModel(key: string, bytes: Uint8Array): void;
  /** Compiles a .tflite in LiteRT.js (1 thread); returns its output tensor names. */
  loadTflite(key: string): Promise<string[]>;
  /** Runs it on one uint8 input; raw output bytes by tensor name. */
  runTflite(key: string, input: Uint8Array, shape: number[]): Promise<Record<string, Uint8Array>>;
  loadOnnx(key: string): Promise<void>;
  /** Runs an ONNX model in onnxruntime-web (WASM) on one float32 `input`; float outputs by name. */
  runOnnx(key: string, input: Float32Array, shape: number[]): Promise<Record<string, Float32Array>>;
  close(): Promise<void>;
}

/**
 * The oracle over one LiteRT.js session (unthreaded build, as the check
 * wants bytes, not speed). LiteRT.js returns only graph outputs: give it a
 * model whose logits and embedding were exposed as outputs
 * (node/tflite/read.ts exposeTensors).
 */
export async function openOraclePage(opts: { browser?: Browser } = {}): Promise<OraclePage> {
  const session = await openLiteRt({ browser: opts.browser });
  const bytes = new Map<string, Uint8Array>();
  const tflite = new Map<string, CompiledTflite>();
  const onnx = new Map<string, string>();
  const need = (key: string) => {
    const b = bytes.get(key);
    if (!b) throw new Error(`no model added as "${key}"`);
    return b;
  };
  return {
    addModel: (key, b) => {
      bytes.set(key, b);
    },
    async loadTflite(key) {
      const m = await session.compile(need(key));
      tflite.set(key, m);
      return m.outputs.map((o) => o.name);
    },
    async runTflite(key, input, shape) {
      const m = tflite.get(key);
      if (!m) throw new Error(`no .tflite loaded as "${key}"`);
      const { outputs } = await session.run({ ...m, inputs: [{ ...m.inputs[0], shape }] }, [input]);
      return Object.fromEntries(outputs.map((o, i) => [m.outputs[i].name, o.bytes]));
    },
    async loadOnnx(key) {
      onnx.set(key, await session.loadOnnx(need(key)));
    },
    runOnnx(key, input, shape) {
      const k = onnx.get(key);
      if (!k) throw new Error(`no .onnx loaded as "${key}"`);
      return session.runOnnx(k, input, shape);
    },
    close: () => session.close(),
  };
}

/** The page's API (harness/litert/page.html), as page.evaluate sees it. */
declare global {
  interface Window {
    __litert?: {
      crossOriginIsolated: boolean;
      init(o: { threads: boolean }): Promise<{ loadMs: number; wasmFile: string | null }>;
      compile(key: string, url: string, numThreads: number): Promise<{ compileMs: number; inputs: LiteRtTensorDetails[]; outputs: LiteRtTensorDetails[] }>;
      run(key: string, inputs: Array<{ b64: string; shape: number[] }>, runs: number): Promise<{ timingsMs: number[]; outputs: Array<{ dtype: LiteRtDType; shape: number[]; b64: string }> }>;
    };
    __onnx?: {
      load(key: string, url: string): Promise<void>;
      run(key: string, b64: string, shape: number[]): Promise<Record<string, string>>;
    };
  }
}

/**
 * The oracle for the TFLite-to-ONNX converter: the original .tflite run by
 * LiteRT.js (@litertjs/core, XNNPack in WebAssembly) in Debian Chromium, and
 * on the same page the converted ONNX in onnxruntime-web (WASM), so both
 * engines see identical input bytes. Everything is served from
 * node_modules by a loopback server here; nothing comes from a CDN.
 *
 * LiteRT.js returns only graph outputs: give it a model whose logits and
 * embedding were exposed as outputs (node/tflite/read.ts exposeTensors).
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';
import { REPO_ROOT } from '../node/paths.ts';

const NM = path.join(REPO_ROOT, 'node_modules');
/** URL prefix -> folder served under it. */
const STATIC: Record<string, string> = {
  '/litert/core/': path.join(NM, '@litertjs', 'core', 'dist'),
  '/litert/wasm/': path.join(NM, '@litertjs', 'core', 'wasm'),
  '/litert/wasm-utils/': path.join(NM, '@litertjs', 'wasm-utils', 'dist'),
  '/ort/': path.join(NM, 'onnxruntime-web', 'dist'),
};
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json' };

// The page: an import map for LiteRT.js's one bare import, then both engines behind window.__oracle.
const PAGE = `<!doctype html><meta charset="utf-8"><title>litert oracle</title>
<script type="importmap">{"imports":{"@litertjs/core":"/litert/core/index.js","@litertjs/wasm-utils":"/litert/wasm-utils/index.js"}}</script>
<script type="module">
import { loadLiteRt, loadAndCompile, Tensor } from '@litertjs/core';
import * as ort from '/ort/ort.wasm.min.mjs';
ort.env.wasm.wasmPaths = '/ort/';
ort.env.wasm.numThreads = 1;
const litert = new Map(), sessions = new Map();
const fromB64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const toB64 = (a) => { const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength); let s = ''; for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000)); return btoa(s); };
const fetchBytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
window.__oracle = {
  async init() { await loadLiteRt('/litert/wasm/'); return true; },
  async loadTflite(key) { litert.set(key, await loadAndCompile(await fetchBytes('/model/' + key), { accelerator: 'wasm' })); return litert.get(key).getOutputDetails().map((d) => d.name); },
  async runTflite(key, b64, shape) {
    const model = litert.get(key);
    const input = new Tensor(fromB64(b64), shape);
    const outs = await model.run([input]);
    input.delete();
    const names = model.getOutputDetails().map((d) => d.name);
    const res = {};
    for (let i = 0; i < outs.length; i++) { res[names[i]] = toB64(outs[i].toTypedArray()); outs[i].delete(); }
    return res;
  },
  async loadOnnx(key) { sessions.set(key, await ort.InferenceSession.create(await fetchBytes('/model/' + key), { executionProviders: ['wasm'] })); return true; },
  async runOnnx(key, b64, shape) {
    const u = fromB64(b64);
    const x = new Float32Array(u.buffer, u.byteOffset, u.byteLength / 4);
    const out = await sessions.get(key).run({ input: new ort.Tensor('float32', x, shape) });
    const res = {};
    for (const [name, t] of Object.entries(out)) res[name] = toB64(t.data);
    return res;
  },
};
window.__oracleReady = true;
</script>`;

export interface OraclePage {
  /** Makes `bytes` loadable on the page under `key` (a .tflite or an .onnx). */
  addModel(key: string, bytes: Uint8Array): void;
  /** Compiles a .tflite in LiteRT.js; returns its output tensor names. */
  loadTflite(key: string): Promise<string[]>;
  /** Runs it on one uint8 input; raw output bytes by tensor name. */
  runTflite(key: string, input: Uint8Array, shape: number[]): Promise<Record<string, Uint8Array>>;
  loadOnnx(key: string): Promise<void>;
  /** Runs an ONNX model in onnxruntime-web (WASM) on one float32 `input`; float outputs by name. */
  runOnnx(key: string, input: Float32Array, shape: number[]): Promise<Record<string, Float32Array>>;
  close(): Promise<void>;
}

/** Opens the oracle page in `browser` (a Playwright fixture's), or in a Chromium launched here and closed with the page. */
export async function openOraclePage(opts: { browser?: Browser } = {}): Promise<OraclePage> {
  const models = new Map<string, Uint8Array>();
  // Not awaited by node:http: the body answers every request itself, a 404 for anything that fails.
  const server = createServer((req, res) => void (async () => {
    try {
      const url = new URL(req.url ?? '/', 'http://x').pathname;
      if (url === '/') { res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE); return; }
      if (url.startsWith('/model/')) {
        const bytes = models.get(decodeURIComponent(url.slice('/model/'.length)));
        if (!bytes) { res.writeHead(404).end(); return; }
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes);
        return;
      }
      const prefix = Object.keys(STATIC).find((p) => url.startsWith(p));
      const rel = prefix ? path.normalize(url.slice(prefix.length)) : '';
      if (!prefix || rel.startsWith('..') || path.isAbsolute(rel)) { res.writeHead(404).end(); return; }
      const body = await readFile(path.join(STATIC[prefix], rel));
      res.writeHead(200, { 'content-type': TYPES[path.extname(rel)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  })());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  let owned: Browser | null = null;
  try {
    const browser = opts.browser ?? (owned = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS }));
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (window as unknown as { __oracleReady?: boolean }).__oracleReady === true, null, { timeout: 30_000 }).catch(() => {
      throw new Error(`the oracle page did not start: ${errors.join('; ') || 'no page error reported'}`);
    });
    await call(page, 'init');
    return {
      addModel: (key, bytes) => { models.set(key, bytes); },
      loadTflite: (key) => call(page, 'loadTflite', key) as Promise<string[]>,
      runTflite: async (key, input, shape) => decodeAll(await call(page, 'runTflite', key, b64(input), shape) as Record<string, string>, (buf) => new Uint8Array(buf)),
      loadOnnx: async (key) => { await call(page, 'loadOnnx', key); },
      runOnnx: async (key, input, shape) => decodeAll(await call(page, 'runOnnx', key, b64(input), shape) as Record<string, string>, (buf) => new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4)),
      close: async () => { await page.close(); await owned?.close(); await closeServer(server); },
    };
  } catch (err) {
    await owned?.close();
    await closeServer(server);
    throw err;
  }
}

type OracleFn = (...args: unknown[]) => Promise<unknown>;

function call(page: Page, fn: string, ...args: unknown[]): Promise<unknown> {
  return page.evaluate(({ fn, args }) => {
    const oracle = (window as unknown as { __oracle: Record<string, OracleFn> }).__oracle;
    return oracle[fn](...args);
  }, { fn, args });
}

const b64 = (a: Uint8Array | Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

function decodeAll<T>(out: Record<string, string>, as: (buf: Uint8Array) => T): Record<string, T> {
  // A fresh ArrayBuffer at offset 0, so Float32Array views over it are aligned (Buffer's pool is not).
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, as(new Uint8Array(Buffer.from(v, 'base64')))]));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

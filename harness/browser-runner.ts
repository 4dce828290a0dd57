/**
 * Drives the real built app in headless Chromium: serves dist/ and the
 * registry with the real server, opens the page, and classifies photos
 * through the page's own inference worker (window.__wildsight).
 */
import { readFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { buildApp } from '../server/app.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, WEBGPU_ARGS } from './chromium.ts';
import type { LabelledPhoto } from '../node/labelled-photos.ts';
import { scorePhoto, type ScoredPhoto } from '../core/eval-score.ts';
import type { ClassifyResult, EngineInfo, PhotoFailure } from '../workers/inference/types.ts';

export interface BrowserSession {
  page: Page;
  info: EngineInfo;
  baseUrl: string;
  close(): Promise<void>;
}

export async function openApp(opts: { model?: string; backend?: string; threads?: number; webgpu?: boolean; extraArgs?: string[] } = {}): Promise<BrowserSession> {
  // A throwaway feedback store: runs and benchmarks must not touch anyone's data.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wildsight-run-'));
  const app = await buildApp({ logger: { level: 'warn' }, dataDir });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const baseUrl = `http://127.0.0.1:${port}`;
  let browser: Browser | null = null;
  try {
    const webgpu = opts.webgpu ?? opts.backend === 'webgpu';
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...(webgpu ? WEBGPU_ARGS : []), ...(opts.extraArgs ?? [])] });
    const page = await browser.newPage();
    const params = new URLSearchParams();
    if (opts.model) params.set('model', opts.model);
    if (opts.backend) params.set('backend', opts.backend);
    if (opts.threads) params.set('threads', String(opts.threads));
    await page.goto(`${baseUrl}/?${params}`);
    const info = await page.evaluate(() => window.__wildsight!.init());
    const b = browser;
    return {
      page,
      info,
      baseUrl,
      close: async () => {
        await b.close();
        await app.close();
      },
    };
  } catch (err) {
    await browser?.close();
    await app.close();
    throw err;
  }
}

export async function classifyBytesInPage(page: Page, bytes: Uint8Array, name: string): Promise<ClassifyResult | PhotoFailure> {
  const b64 = Buffer.from(bytes).toString('base64');
  return page.evaluate(
    async ({ b64, name }) => {
      const bin = atob(b64);
      const arr = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) arr[i] = bin.charCodeAt(i);
      const out = await window.__wildsight!.classifyBytes(arr, name);
      // The embedding is not needed here and is large to ship back.
      return 'error' in out ? out : { ...out, embedding: new Float32Array(0) };
    },
    { b64, name },
  );
}

export async function classifyInBrowser(photos: LabelledPhoto[], opts: { model?: string; backend?: string; onProgress?: () => void }) {
  const session = await openApp({ model: opts.model, backend: opts.backend });
  const scored: ScoredPhoto[] = [];
  try {
    for (const photo of photos) {
      const out = await classifyBytesInPage(session.page, new Uint8Array(await readFile(photo.file)), path.basename(photo.file));
      if ('error' in out) console.error(`${photo.file}: ${out.error.message}`);
      else scored.push(scorePhoto(path.basename(photo.file), photo.label, out, out.timings.inferenceMs));
      opts.onProgress?.();
    }
  } finally {
    await session.close();
  }
  return { scored, model: session.info.version, backend: `${session.info.backend}${session.info.backend === 'wasm' ? `-${session.info.threads}t` : ''}` };
}

/**
 * What a first visit really moves: every response the page, its inference
 * worker and its service worker got from the network, counted by the
 * encoded (compressed) body bytes Chromium received, until the app has
 * loaded a model, the service worker is active and controls the page, and
 * the network has been quiet for a moment. A response the service worker
 * answered for the page is not counted (its own fetch, if any, is), nor is
 * one the HTTP cache answered (Chromium reports no body bytes for it).
 * Used by e2e/first-visit.spec.ts and `npm run bench:wire`.
 */
import type { BrowserContext, Page, Request } from '@playwright/test';

export interface Fetch {
  path: string;
  from: 'page' | 'service-worker';
  bytes: number;
}
export interface FirstVisit {
  fetches: Fetch[];
  bytes: number;
}

/** Paths of the files that must cross the network at most once: the WASM runtime and any model. */
export const HEAVY = /^\/(ort\/ort-wasm-simd-threaded\.wasm|models\/registry\/[^/]+\/model\.onnx)$/;

export async function firstVisit(context: BrowserContext, page: Page, opts: { quietMs?: number; timeoutMs?: number } = {}): Promise<FirstVisit> {
  const quietMs = opts.quietMs ?? 1500;
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  const finished: Request[] = [];
  let last = Date.now();
  const seen = (req: Request) => {
    finished.push(req);
    last = Date.now();
  };
  // Requests of the page and its dedicated worker arrive on the page; the service worker's on the context.
  page.on('requestfinished', seen);
  context.on('requestfinished', (req) => {
    if (req.serviceWorker()) seen(req);
  });
  page.on('request', () => {
    last = Date.now();
  });

  await page.goto('/');
  await page
    .getByTestId('model-version')
    .filter({ hasText: /\d+\.\d+\.\d+/ })
    .waitFor({ timeout: 60_000 });
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  while (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) {
    if (Date.now() > deadline) throw new Error('the service worker never took control of the page');
    await page.waitForTimeout(200);
  }
  while (Date.now() - last < quietMs) {
    if (Date.now() > deadline) throw new Error('the network never went quiet');
    await page.waitForTimeout(250);
  }

  const fetches: Fetch[] = [];
  for (const req of new Set(finished)) {
    const res = await req.response();
    if (!res || res.fromServiceWorker()) continue;
    const bytes = (await req.sizes()).responseBodySize;
    if (bytes <= 0) continue; // the HTTP cache answered: nothing crossed the network
    fetches.push({ path: new URL(req.url()).pathname, from: req.serviceWorker() ? 'service-worker' : 'page', bytes });
  }
  return { fetches, bytes: fetches.reduce((s, f) => s + f.bytes, 0) };
}

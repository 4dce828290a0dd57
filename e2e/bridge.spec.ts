import { test, expect } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DATA } from './paths.ts';
import { openApp } from './app.ts';

/**
 * The worker bridge (src/inference/bridge.ts) in real Chromium against the
 * real worker: an aborted batch stops in the worker, and a released engine
 * comes back on the next identification, at a cost this test prints.
 */
const dir = path.join(DATA, 'imagenet-samples-animals');
const photos = readdirSync(dir)
  .filter((f) => /\.jpe?g$/i.test(f))
  .sort()
  .slice(0, 40)
  .map((f) => ({ name: f, b64: readFileSync(path.join(dir, f)).toString('base64') }));

test('an aborted batch stops in the worker: it returns fewer photos than it was given, and promptly', async ({ page }) => {
  test.setTimeout(180_000);
  await openApp(page, '/#/batch');
  const out = await page.evaluate(async (photos) => {
    const hook = window.__wildsight!;
    const decoded = photos.map((p) => ({ name: p.name, bytes: Uint8Array.from(atob(p.b64), (c) => c.charCodeAt(0)) }));
    // How long one chunk of 2 takes here, warm, so the abort lands a few chunks in whatever the machine's speed.
    const w0 = performance.now();
    await hook.classifyBatchAbortable(decoded.slice(0, 2), 2, new AbortController().signal);
    const chunkMs = performance.now() - w0;
    const controller = new AbortController();
    const t0 = performance.now();
    const run = hook.classifyBatchAbortable(decoded, 2, controller.signal);
    let abortedAt = 0;
    setTimeout(() => {
      abortedAt = performance.now();
      controller.abort();
    }, chunkMs * 3);
    const outcome = await run;
    const stoppedMs = performance.now() - abortedAt;
    // The worker is free at once: the next call is not queued behind the rest of the batch.
    const n0 = performance.now();
    const next = await hook.classifyBatchAbortable(decoded.slice(0, 2), 2, new AbortController().signal);
    return {
      given: decoded.length,
      processed: outcome.items.length,
      cancelled: outcome.cancelled,
      chunkMs,
      stoppedMs,
      batchMs: abortedAt - t0,
      nextMs: performance.now() - n0,
      nextItems: next.items.length,
    };
  }, photos);
  console.log(
    `aborted batch: the worker processed ${out.processed} of ${out.given} photos; stopped ${out.stoppedMs.toFixed(0)} ms after the abort (one chunk of 2 takes ${out.chunkMs.toFixed(0)} ms)`,
  );
  expect(out.cancelled).toBe(true);
  expect(out.processed).toBeGreaterThan(0);
  expect(out.processed).toBeLessThan(out.given);
  // At most the chunk under way finishes (its model run cannot be interrupted).
  expect(out.stoppedMs).toBeLessThan(out.chunkMs * 3 + 2000);
  expect(out.nextItems).toBe(2);
});

test('the engine is released when idle or hidden and comes back on the next identification; the cost is measured', async ({ page }) => {
  test.setTimeout(180_000);
  await openApp(page, '/');
  const photo = photos[0];
  const out = await page.evaluate(async (b64) => {
    const hook = window.__wildsight!;
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const timed = async () => {
      const t0 = performance.now();
      const r = await hook.classifyBytes(bytes, 'p.jpg');
      return { ms: performance.now() - t0, top: 'error' in r ? null : r.top5[0].taxonId };
    };
    await timed();
    const warm = await timed();
    // An idle period: the bridge lets the worker go.
    const startsBeforeIdle = hook.stats().starts;
    hook.release();
    const afterIdle = await timed();
    const idleResumeMs = hook.stats().lastResumeMs;
    // The page hidden: released at once.
    const releasesBefore = hook.stats().releases;
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
    const releasedWhenHidden = hook.stats().releases - releasesBefore;
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
    const afterHidden = await timed();
    return { warm, afterIdle, idleResumeMs, startsBeforeIdle, releasedWhenHidden, afterHidden, hiddenResumeMs: hook.stats().lastResumeMs, stats: hook.stats() };
  }, photo.b64);
  console.log(
    `idle release: a warm identification ${out.warm.ms.toFixed(0)} ms; the first after a release ${out.afterIdle.ms.toFixed(0)} ms (restart ${out.idleResumeMs!.toFixed(0)} ms: worker, model from the device, session, warm-up); after hidden ${out.afterHidden.ms.toFixed(0)} ms (restart ${out.hiddenResumeMs!.toFixed(0)} ms)`,
  );
  expect(out.releasedWhenHidden).toBe(1);
  expect(out.stats.releases).toBe(2);
  expect(out.afterIdle.top).toBe(out.warm.top);
  expect(out.afterHidden.top).toBe(out.warm.top);
  expect(out.idleResumeMs).toBeGreaterThan(0);
  // The release really let the worker go: the call after it started a new one.
  expect(out.stats.starts).toBeGreaterThan(out.startsBeforeIdle);
});

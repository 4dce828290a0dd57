/**
 * Head-only updates end to end (issue 14), against a real server over a
 * temporary copy of the model registry. Each test registers a retrained
 * 1.1.0 as the pipeline does (harness/retrained-version.ts: 1.0.0's graph
 * with a float head spliced in by the export step, registered by
 * node/registry.ts, which writes its head pack). 1.1.0 then goes to a 100%
 * canary and a device in Chromium follows it.
 */
import { test, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../server/app.ts';
import { REGISTRY_DIR } from '../node/paths.ts';
import { registerRetrained } from '../harness/retrained-version.ts';
import type { ModelVersion } from '../core/manifest.ts';
import { DATA } from './paths.ts';
import { E2E_ADMIN_TOKEN } from './admin.ts';
import { allowReports } from './consent.ts';

const photo = path.join(DATA, 'imagenet-val-animals', 'ILSVRC2012_val_00000361.JPEG');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Server {
  url: string;
  registryDir: string;
  retrained: ModelVersion;
  admin(route: string, body?: unknown): Promise<any>;
  close(): Promise<void>;
}

/** A server whose registry holds a retrained 1.1.0 (child of 1.0.0), in a 100% canary against `active`. */
async function startServer(active: string, damage?: (pack: Buffer) => void): Promise<Server> {
  const registryDir = mkdtempSync(path.join(tmpdir(), 'wildsight-e2e-headpack-'));
  cpSync(REGISTRY_DIR, registryDir, { recursive: true });
  const manifestFile = path.join(registryDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  manifest.active = active;
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));

  const retrained = registerRetrained(registryDir, '1.0.0', '1.1.0');
  if (damage) {
    const file = path.join(registryDir, retrained.headPack!.file);
    const pack = readFileSync(file);
    damage(pack);
    writeFileSync(file, pack);
  }

  const dataDir = mkdtempSync(path.join(tmpdir(), 'wildsight-e2e-data-'));
  const app = await buildApp({ registryDir, dataDir, adminToken: E2E_ADMIN_TOKEN, logger: false, rateLimitMax: 100_000, rolloutGuard: { intervalMs: 0 } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const server: Server = {
    url,
    registryDir,
    retrained,
    async admin(route, body) {
      const res = await fetch(`${url}${route}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { Authorization: `Bearer ${E2E_ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`${route}: HTTP ${res.status} ${JSON.stringify(json)}`);
      return json;
    },
    async close() {
      await app.close();
      rmSync(registryDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await server.admin('/v1/admin/models/1.1.0/canary', { percent: 100, holdback: 0, reason: 'e2e: retrained version by head pack' });
  return server;
}

interface Fetched {
  path: string;
  bytes: number;
  encoding: string;
}

/** A device that records every finished response under /models/registry/1.1.0/ with its encoded body size. */
async function device(browser: Browser): Promise<{ context: BrowserContext; page: Page; fetched: Fetched[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'warning' || m.type() === 'error') console.log(`[page ${m.type()}] ${m.text()}`);
  });
  const fetched: Fetched[] = [];
  context.on('requestfinished', async (r) => {
    const url = new URL(r.url());
    if (!url.pathname.startsWith('/models/registry/1.1.0/')) return;
    const [sizes, response] = await Promise.all([r.sizes(), r.response()]);
    fetched.push({ path: url.pathname, bytes: sizes.responseBodySize, encoding: (await response?.allHeaders())?.['content-encoding'] ?? 'identity' });
  });
  return { context, page, fetched };
}

/** The sha256 of what the device keeps under a model's sha256 (null when nothing). */
const storedSha = (page: Page, sha: string) =>
  page.evaluate(async (key) => {
    const hit = await (await caches.open('wildsight-models-v1')).match(`/model-store/${key}.onnx`);
    if (!hit) return null;
    const digest = await crypto.subtle.digest('SHA-256', await hit.arrayBuffer());
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  }, sha);

test.describe.configure({ mode: 'serial' });
test.setTimeout(240_000);

test('a device on 1.0.0 moves to a retrained 1.1.0 by its head pack, assembled to the manifest sha256', async ({ browser }) => {
  const server = await startServer('1.0.0');
  const { context, page, fetched } = await device(browser);
  try {
    const pack = server.retrained.headPack!;
    expect(pack.backbone.version).toBe('1.0.0');
    expect(pack.bytes).toBeLessThan(server.retrained.bytes / 5);
    const served = await (await fetch(`${server.url}/v1/models`)).json();
    expect(served.versions.find((v: any) => v.version === '1.1.0').headPack).toEqual(pack);

    await page.goto(`${server.url}/#/model`);
    await allowReports(page);
    await expect(page.getByTestId('model-version')).toHaveText('1.1.0', { timeout: 120_000 });
    await expect(page.getByTestId('model-previous')).toContainText('1.0.0');
    await expect(page.getByTestId('model-refused')).toHaveCount(0);

    // Only the pack crossed the network for 1.1.0, never its full file.
    expect(fetched.map((f) => f.path)).toEqual([`/models/registry/${pack.file}`]);
    const moved = fetched[0].bytes;
    console.log(`1.0.0 -> 1.1.0 moved ${moved} bytes (${fetched[0].encoding}); the full file is ${server.retrained.bytes} bytes, the pack ${pack.bytes}`);
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThanOrEqual(pack.bytes);
    expect(moved).toBeLessThan(1_000_000);
    expect(moved).toBeLessThan(server.retrained.bytes / 5);

    // What the device assembled and keeps is 1.1.0's full file, byte for byte.
    const onDisk = sha256(readFileSync(path.join(server.registryDir, server.retrained.file)));
    expect(onDisk).toBe(server.retrained.sha256);
    expect(await storedSha(page, server.retrained.sha256)).toBe(server.retrained.sha256);

    // And it identifies with it.
    await page.goto(`${server.url}/#/`);
    await page.getByTestId('photo-input').setInputFiles(photo);
    await expect(page.getByTestId('saved')).toBeVisible({ timeout: 60_000 });
    await expect
      .poll(
        async () => {
          const { items } = await server.admin('/v1/admin/events?type=identification&limit=10');
          return items.map((e: any) => e.modelVersion);
        },
        { timeout: 60_000 },
      )
      .toContain('1.1.0');
  } finally {
    await context.close();
    await server.close();
  }
});

test('a damaged head pack is refused with its reason; nothing is kept and the device keeps running 1.0.0', async ({ browser }) => {
  // One byte of the new head's weights (the pack's tail) flipped after registration.
  const server = await startServer('1.0.0', (pack) => {
    pack[pack.length - 100] ^= 0xff;
  });
  const { context, page, fetched } = await device(browser);
  try {
    await page.goto(`${server.url}/#/model`);
    await allowReports(page);
    await expect(page.getByTestId('model-refused')).toContainText('1.1.0', { timeout: 120_000 });
    await expect(page.getByTestId('model-refused')).toContainText('head pack');
    await expect(page.getByTestId('model-refused')).toContainText('integrity check');
    await expect(page.getByTestId('model-version')).toHaveText('1.0.0');
    expect(await storedSha(page, server.retrained.sha256)).toBeNull();
    // Refused, not worked around: the full file was not fetched instead.
    expect(fetched.map((f) => f.path)).toEqual([`/models/registry/${server.retrained.headPack!.file}`]);
    // The server heard why, with the worker's code.
    await expect
      .poll(
        async () => {
          const { items } = await server.admin('/v1/admin/events?type=model_status&limit=20');
          return items.filter((e: any) => e.modelVersion === '1.1.0').map((e: any) => `${e.payload.outcome}:${e.payload.reason}`);
        },
        { timeout: 60_000 },
      )
      .toContain('refused-integrity:head-pack-damaged');

    await page.reload();
    await expect(page.getByTestId('model-version')).toHaveText('1.0.0', { timeout: 60_000 });
    await expect(page.getByTestId('model-refused')).toContainText('head pack');
  } finally {
    await context.close();
    await server.close();
  }
});

test('a device without the backbone (on 0.9.0) downloads the full file', async ({ browser }) => {
  const server = await startServer('0.9.0');
  const { context, page, fetched } = await device(browser);
  try {
    await page.goto(`${server.url}/#/model`);
    await allowReports(page);
    await expect(page.getByTestId('model-version')).toHaveText('1.1.0', { timeout: 120_000 });
    expect(fetched.map((f) => f.path)).toEqual([`/models/registry/${server.retrained.file}`]);
    expect(await storedSha(page, server.retrained.sha256)).toBe(server.retrained.sha256);
  } finally {
    await context.close();
    await server.close();
  }
});

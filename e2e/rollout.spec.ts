/**
 * Model rollouts end to end, against a real server each test starts for
 * itself (buildApp on a free port) over a temporary copy of the model
 * registry (never models/registry itself) and a fresh SQLite store.
 * In the copy v0.9.0 is the manifest's active version and v1.0.0 a candidate.
 */
import { test, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../server/app.ts';
import { REGISTRY_DIR } from '../node/paths.ts';
import { DATA } from './paths.ts';
import { E2E_ADMIN_TOKEN } from './admin.ts';
import { waitForServiceWorker } from './app.ts';
import { allowReports } from './consent.ts';
import type { RolloutGuardOptions } from '../server/jobs/rollout-guard.ts';

const photos = ['ILSVRC2012_val_00000361.JPEG', 'ILSVRC2012_val_00000355.JPEG', 'ILSVRC2012_val_00000363.JPEG'].map((f) => path.join(DATA, 'imagenet-val-animals', f));

interface Server {
  url: string;
  registryDir: string;
  manifest: { versions: Array<{ version: string; sha256: string; file: string }> };
  admin(route: string, body?: unknown): Promise<any>;
  close(): Promise<void>;
}

async function startServer(edit?: (manifest: any, registryDir: string) => void, rolloutGuard: RolloutGuardOptions = { intervalMs: 0 }, trustProxy: string | false = false): Promise<Server> {
  const registryDir = mkdtempSync(path.join(tmpdir(), 'wildsight-e2e-registry-'));
  cpSync(REGISTRY_DIR, registryDir, { recursive: true });
  const manifestFile = path.join(registryDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  manifest.active = '0.9.0';
  edit?.(manifest, registryDir);
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wildsight-e2e-data-'));
  const app = await buildApp({ registryDir, dataDir, adminToken: E2E_ADMIN_TOKEN, logger: false, rateLimitMax: 100_000, rolloutGuard, trustProxy });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    registryDir,
    manifest,
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
}

/** A device; `network` stands for its client address, as a proxy the server trusts would report it. */
async function freshPage(browser: Browser, network?: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext(network ? { extraHTTPHeaders: { 'X-Forwarded-For': network } } : {});
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'warning' || m.type() === 'error') console.log(`[page ${m.type()}] ${m.text()}`);
  });
  return { context, page };
}

const storedModels = (page: Page) => page.evaluate(async () => (await (await caches.open('wildsight-models-v1')).keys()).map((k) => k.url));

test.describe.configure({ mode: 'serial' });
test.setTimeout(240_000);

test('a 100% canary is downloaded, verified and switched to; the previous version stays for an offline rollback', async ({ browser }) => {
  const server = await startServer();
  const { context, page } = await freshPage(browser);
  try {
    await server.admin('/v1/admin/models/1.0.0/canary', { percent: 100, holdback: 0, reason: 'e2e: canary at 100%' });
    const sha = Object.fromEntries(server.manifest.versions.map((v) => [v.version, v.sha256]));

    await page.goto(`${server.url}/#/model`);
    await allowReports(page);
    await expect(page.getByTestId('model-version')).toHaveText('1.0.0', { timeout: 120_000 });
    await expect(page.getByTestId('model-assignment')).toContainText('in the 1.0.0 canary at 100%');
    await expect(page.getByTestId('rollout-bucket')).toContainText(/\d+ of 10000/);
    await expect(page.getByTestId('model-previous')).toContainText('0.9.0');
    await expect(page.getByTestId('model-refused')).toHaveCount(0);
    // Both versions are kept on the device, each under its sha256.
    const stored = await storedModels(page);
    expect(stored.some((u) => u.includes(sha['1.0.0']))).toBe(true);
    expect(stored.some((u) => u.includes(sha['0.9.0']))).toBe(true);
    await waitForServiceWorker(page);

    // Offline: the app starts on its assignment from the device, and can roll back to the kept version.
    const modelRequests: string[] = [];
    context.on('request', (r) => {
      if (r.url().includes('.onnx')) modelRequests.push(r.url());
    });
    await context.setOffline(true);
    await page.reload();
    await expect(page.getByTestId('offline')).toBeVisible();
    await expect(page.getByTestId('model-version')).toHaveText('1.0.0', { timeout: 60_000 });
    await page.getByTestId('use-previous').click();
    await expect(page.getByTestId('model-version')).toHaveText('0.9.0', { timeout: 60_000 });
    await expect(page.getByTestId('model-source')).toContainText('this device');
    await page.goto(`${server.url}/#/`);
    await page.getByTestId('photo-input').setInputFiles(photos[0]);
    await expect(page.getByTestId('saved')).toBeVisible();
    await page.reload();
    await expect(page.getByTestId('model-version')).toHaveText('0.9.0', { timeout: 60_000 });
    expect(modelRequests.filter((u) => !u.startsWith('blob:'))).toEqual([]);
  } finally {
    await context.close();
    await server.close();
  }
});

test('altered model bytes are refused with a visible reason and the device keeps 0.9.0', async ({ browser }) => {
  const server = await startServer();
  const { context, page } = await freshPage(browser);
  try {
    await server.admin('/v1/admin/models/1.0.0/canary', { percent: 100, holdback: 0, reason: 'e2e: canary with altered bytes' });
    const file = path.join(server.registryDir, '1.0.0', 'model.onnx');
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(file, bytes);

    await page.goto(`${server.url}/#/model`);
    await allowReports(page);
    await expect(page.getByTestId('model-refused')).toContainText('1.0.0', { timeout: 120_000 });
    await expect(page.getByTestId('model-refused')).toContainText('integrity check');
    await expect(page.getByTestId('model-version')).toHaveText('0.9.0');
    await expect(page.getByTestId('model-active')).toHaveText('0.9.0');
    // Nothing of the bad download was kept.
    const stored = await storedModels(page);
    expect(stored.some((u) => u.includes(server.manifest.versions.find((v) => v.version === '1.0.0')!.sha256))).toBe(false);
    // And it stays refused across a restart.
    await page.reload();
    await expect(page.getByTestId('model-version')).toHaveText('0.9.0', { timeout: 60_000 });
    await expect(page.getByTestId('model-refused')).toContainText('integrity check');
  } finally {
    await context.close();
    await server.close();
  }
});

test('a version whose labels the app cannot name is refused before any download, with its reason', async ({ browser }) => {
  const server = await startServer((m) => {
    const base = m.versions.find((v: any) => v.version === '1.0.0');
    // Same bytes, but one label that neither the taxonomy nor extraTaxa can name.
    const labels = [...base.labels.slice(0, -2), 'unicorn', 'other'];
    m.versions.push({ ...base, version: '1.1.0', labels, labelsSha256: base.labelsSha256, createdAt: new Date().toISOString() });
  });
  const { context, page } = await freshPage(browser);
  try {
    const requests: string[] = [];
    context.on('request', (r) => {
      if (r.url().includes('/1.1.0/')) requests.push(r.url());
    });
    await server.admin('/v1/admin/models/1.1.0/canary', { percent: 100, holdback: 0, reason: 'e2e: incompatible canary' });
    await page.goto(`${server.url}/#/model`);
    await allowReports(page);
    await expect(page.getByTestId('model-refused')).toContainText('1.1.0', { timeout: 120_000 });
    await expect(page.getByTestId('model-refused')).toContainText('cannot be named from the taxonomy');
    await expect(page.getByTestId('model-version')).toHaveText('0.9.0');
    expect(requests).toEqual([]);
  } finally {
    await context.close();
    await server.close();
  }
});

test('a shadow candidate runs on identifications unseen, and its results reach the server', async ({ browser }) => {
  const server = await startServer();
  const { context, page } = await freshPage(browser);
  try {
    await server.admin('/v1/admin/models/1.0.0/shadow', { sampleRate: 1, reason: 'e2e: shadow 1.0.0' });
    await page.goto(`${server.url}/#/model`);
    await allowReports(page);
    await expect(page.getByTestId('model-version')).toHaveText('0.9.0', { timeout: 120_000 });
    await expect(page.getByTestId('shadow-status')).toHaveAttribute('data-state', 'ready', { timeout: 120_000 });

    await page.goto(`${server.url}/#/`);
    for (const photo of photos) {
      await page.getByTestId('photo-input').setInputFiles(photo);
      await expect(page.getByTestId('saved')).toBeVisible();
      await page.getByTestId('saved').evaluate((el) => el.remove());
    }
    // The outbox sends as soon as events are queued; the server has them with their shadow results.
    await expect
      .poll(
        async () => {
          const { items } = await server.admin('/v1/admin/events?type=identification&limit=100');
          return items.filter((e: any) => e.payload.shadow?.modelVersion === '1.0.0').length;
        },
        { timeout: 60_000 },
      )
      .toBe(photos.length);
    const { items } = await server.admin('/v1/admin/events?type=identification&limit=100');
    for (const e of items) {
      expect(e.modelVersion).toBe('0.9.0');
      expect(e.payload.shadow).toMatchObject({ modelVersion: '1.0.0', top1Agree: expect.any(Boolean), top5Overlap: expect.any(Number), inferenceMs: expect.any(Number), failed: false });
    }
    // Never shown: the answers came from 0.9.0; the Model page tallies agreement so far.
    await page.goto(`${server.url}/#/model`);
    await expect(page.getByTestId('shadow-results')).toContainText(`${photos.length} runs: top-1 agreement`);
    // The dashboard shows the candidate's shadow results, per install, with the shadow gate's verdict.
    await page.goto(`${server.url}/#/admin`);
    await page.getByTestId('admin-token').fill(E2E_ADMIN_TOKEN);
    await page.getByTestId('admin-sign-in').click();
    const row = page.getByTestId('shadow-row').and(page.locator('[data-version="1.0.0"]'));
    await expect(row).toContainText('shadowing now', { timeout: 60_000 });
    await expect(row.locator('td').nth(2)).toHaveText('1');
    await expect(row.locator('td').nth(3)).toHaveText(String(photos.length));
    await expect(row).toHaveAttribute('data-gate', 'ok');
  } finally {
    await context.close();
    await server.close();
  }
});

test('with the guard on, a canary that fails to load on devices is rolled back by itself and the devices stay on the control', async ({ browser }) => {
  // 1.1.0: 1.0.0's manifest entry over bytes that are not a model. They pass the sha256 check (the manifest
  // names their hash) and compat, so each device downloads them, fails to start them and says so.
  const junk = Buffer.from('this is not an ONNX model; a broken export '.repeat(2000));
  const server = await startServer(
    (m, dir) => {
      const base = m.versions.find((v: any) => v.version === '1.0.0');
      mkdirSync(path.join(dir, '1.1.0'), { recursive: true });
      writeFileSync(path.join(dir, '1.1.0', 'model.onnx'), junk);
      m.versions.push({ ...base, version: '1.1.0', file: '1.1.0/model.onnx', sha256: createHash('sha256').update(junk).digest('hex'), bytes: junk.length, createdAt: new Date().toISOString() });
    },
    { intervalMs: 1000, config: { minStepS: 3600 } },
    '127.0.0.1',
  );
  // Three devices on three networks: the guard counts at most one failing install per network.
  const devices = await Promise.all([0, 1, 2].map((i) => freshPage(browser, `10.${i + 1}.0.7`)));
  try {
    // Three devices that run the control, agreed to anonymous reports and have reported an identification:
    // the guard only hears installs whose credential is older than the step.
    for (const { page } of devices) {
      await page.goto(`${server.url}/#/`);
      await allowReports(page);
      // The file input takes a photo even before the model is loaded (a person can only reach it through the enabled button).
      await expect(page.getByRole('button', { name: 'Choose a photo' })).toBeEnabled({ timeout: 120_000 });
      await page.getByTestId('photo-input').setInputFiles(photos[0]);
      await expect(page.getByTestId('saved')).toBeVisible({ timeout: 120_000 });
    }
    await expect.poll(async () => new Set((await server.admin('/v1/admin/events?type=identification&limit=100')).items.map((e: any) => e.installId)).size, { timeout: 60_000 }).toBe(3);
    await server.admin('/v1/admin/models/1.1.0/canary', { percent: 100, holdback: 0, reason: 'e2e: canary that will not load' });
    // Each device reads the rollout at its next start, tries 1.1.0, and keeps 0.9.0.
    for (const { page } of devices) {
      await page.goto(`${server.url}/#/model`);
      await page.reload();
      await expect(page.getByTestId('model-refused')).toContainText('1.1.0', { timeout: 120_000 });
      await expect(page.getByTestId('model-refused')).toContainText('could not be started');
      await expect(page.getByTestId('model-version')).toHaveText('0.9.0');
    }
    // Their model_status reports reach the server through the outbox ...
    await expect
      .poll(
        async () => {
          const { items } = await server.admin('/v1/admin/events?type=model_status&limit=100');
          return new Set(items.filter((e: any) => e.modelVersion === '1.1.0' && e.payload.outcome === 'failed-to-start').map((e: any) => e.installId)).size;
        },
        { timeout: 60_000 },
      )
      .toBe(3);
    // ... and the guard, on its own timer, rolls the canary back: no one calls the admin API to do it.
    await expect.poll(async () => (await server.admin('/v1/admin/models')).rollout, { timeout: 30_000 }).toBeNull();
    const { items: changes } = await server.admin('/v1/admin/models/changes?limit=5');
    expect(changes[0]).toMatchObject({ action: 'rollback', actor: 'guard', version: '1.1.0', reason: expect.stringMatching(/canary fails on devices: 3 of 3 canary installs/) });
    expect(changes.filter((c: any) => c.action === 'rollback' && c.actor === 'admin')).toEqual([]);
    // At their next start the devices are assigned the control again, with no canary left.
    for (const { page } of devices) {
      await page.reload();
      await expect(page.getByTestId('model-assignment')).toHaveText('0.9.0, the active version (no canary running)', { timeout: 60_000 });
      await expect(page.getByTestId('model-version')).toHaveText('0.9.0');
    }
  } finally {
    await Promise.all(devices.map(({ context }) => context.close()));
    await server.close();
  }
});

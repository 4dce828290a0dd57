/**
 * POST /v1/admin/models takes the same registry lock as the pipeline's
 * registration (node/registry-lock.ts): while a registration holds it, the
 * route waits, then registers; a version registered meanwhile answers 409.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BACKENDS, type TestDb } from '../../../testing/backends.ts';
import { admin, startApp, type RunningApp } from '../../../testing/http.ts';
import { REGISTRY_DIR } from '../../../../node/paths.ts';
import { readManifest } from '../../../../node/registry.ts';
import { withRegistryLock } from '../../../../node/registry-lock.ts';

const ready = existsSync(path.join(REGISTRY_DIR, '1.0.0', 'model.onnx'));
const sqlite = BACKENDS.find((b) => b.name === 'sqlite')!;

describe.runIf(ready)('model registration shares the registry lock', () => {
  let db: TestDb, server: RunningApp, registry: string;
  beforeAll(async () => {
    registry = mkdtempSync(path.join(tmpdir(), 'wildsight-register-'));
    cpSync(path.join(REGISTRY_DIR, 'manifest.json'), path.join(registry, 'manifest.json'));
    mkdirSync(path.join(registry, 'incoming'));
    cpSync(path.join(REGISTRY_DIR, '1.0.0', 'model.onnx'), path.join(registry, 'incoming', 'model.onnx'));
    db = await sqlite.create();
    server = await startApp({ ...db.appOptions, registryDir: registry });
  });
  afterAll(async () => {
    await server?.close();
    await db?.cleanup();
    rmSync(registry, { recursive: true, force: true });
  });

  it('waits while the pipeline holds the lock, then registers; the same version again is a conflict', async () => {
    const body = { version: '1.0.7', file: 'incoming/model.onnx', baseVersion: '1.0.0', reason: 'test: registration under the lock' };
    let posted: Promise<{ status: number }> | null = null;
    const t0 = Date.now();
    let answeredWhileHeld = false;
    await withRegistryLock(registry, async () => {
      posted = admin(`${server.url}/v1/admin/models`, { method: 'POST', json: body });
      // Only when it answered matters here; the test awaits `posted` itself below.
      void posted.then(() => {
        answeredWhileHeld = Date.now() - t0 < 400;
      });
      await new Promise((r) => setTimeout(r, 500));
      // Under the lock, the pipeline's manifest write is the only one.
      expect(readManifest(registry)!.versions.some((v) => v.version === '1.0.7')).toBe(false);
    });
    const res = await posted!;
    expect(res.status).toBe(201);
    expect(answeredWhileHeld).toBe(false);
    expect(readManifest(registry)!.versions.some((v) => v.version === '1.0.7')).toBe(true);
    expect((await admin(`${server.url}/v1/admin/models`, { method: 'POST', json: body })).status).toBe(409);
  }, 30_000);
});

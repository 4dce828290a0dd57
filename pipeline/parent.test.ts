/**
 * A retrain starts from the version devices run: the live active version in
 * the database, on SQLite and on PostgreSQL. The registry is a temporary copy
 * holding 1.0.0's bytes a second time as 1.0.1, so the database can make a
 * version active that the manifest's `active` does not name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BACKENDS, type TestDb } from '../server/testing/backends.ts';
import { activate, rolloutDb } from '../server/storage/rollout-store.ts';
import type { FeedbackStore } from '../server/storage/types.ts';
import { findVersion } from '../core/manifest.ts';
import { readManifest, registerVersion } from '../node/registry.ts';
import { REGISTRY_DIR, DATA_DIR_SHARED } from '../node/paths.ts';
import { liveActiveVersion } from './parent.ts';
import { retrain } from './retrain.ts';

const ready = existsSync(path.join(REGISTRY_DIR, '1.0.0', 'model.onnx')) && existsSync(path.join(DATA_DIR_SHARED, 'imagenet-val-animals', 'labels.csv'));

function registryWithCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wildsight-parent-'));
  cpSync(path.join(REGISTRY_DIR, 'manifest.json'), path.join(dir, 'manifest.json'));
  cpSync(path.join(REGISTRY_DIR, '1.0.0'), path.join(dir, '1.0.0'), { recursive: true });
  const { file: _f, sha256: _s, bytes: _b, ...meta } = findVersion(readManifest(dir)!, '1.0.0');
  registerVersion(new Uint8Array(readFileSync(path.join(dir, '1.0.0', 'model.onnx'))), { ...meta, version: '1.0.1' }, dir);
  return dir;
}

for (const backend of BACKENDS) {
  describe.runIf(backend.runnable && ready)(`retrain parent on ${backend.name}`, () => {
    let db: TestDb, store: FeedbackStore, registry: string;
    beforeAll(async () => {
      db = await backend.create();
      store = await db.openStore();
      registry = registryWithCopy();
    });
    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
      rmSync(registry, { recursive: true, force: true });
    });

    it("is the manifest's active while no status row says otherwise", async () => {
      expect(await liveActiveVersion(store, readManifest(registry)!)).toBe('1.0.0');
    });

    it('follows the database once another version is made active, and a retrain starts from it', async () => {
      const manifest = readManifest(registry)!;
      await activate(rolloutDb(store), manifest, { version: '1.0.1', reason: 'test: the live version differs from the manifest', actor: 'admin' });
      expect(readManifest(registry)!.active).toBe('1.0.0');
      expect(await liveActiveVersion(store, manifest)).toBe('1.0.1');
      // No accepted corrections: the run stops after choosing its parent and reading the data, registering nothing.
      const r = await retrain({ store, registryDir: registry, outDir: path.join(registry, 'runs'), log: () => {} });
      expect(r.parent).toBe('1.0.1');
      expect(r.parentSource).toBe('database');
      expect(r.registered).toBe(false);
      expect(
        readManifest(registry)!
          .versions.map((v) => v.version)
          .sort(),
      ).toEqual(manifest.versions.map((v) => v.version).sort());
    }, 120_000);
  });
}

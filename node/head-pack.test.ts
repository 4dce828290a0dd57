/**
 * Registration writes a head pack for a version that shares its lineage's
 * backbone, and only then: the pack rebuilds the registered file from the
 * backbone's, is named in the manifest, and is not inherited.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REGISTRY_DIR } from './paths.ts';
import { readManifest, registerVersion } from './registry.ts';
import { findVersion, type ModelVersion } from '../core/manifest.ts';
import { backboneVersion } from './head-pack.ts';
import { assembleHeadPack } from '../core/head-pack.ts';
import { exportWithHead } from '../pipeline/export.ts';
import { seededRandom } from '../core/random.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const ready = existsSync(path.join(REGISTRY_DIR, '1.0.0', 'model.onnx')) && existsSync(path.join(REGISTRY_DIR, '0.9.0', 'model.onnx'));

describe.runIf(ready)('head packs at registration', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  function registry() {
    const dir = mkdtempSync(path.join(tmpdir(), 'wildsight-headpack-'));
    dirs.push(dir);
    cpSync(REGISTRY_DIR, dir, { recursive: true });
    return dir;
  }
  const parentBytes = () => new Uint8Array(readFileSync(path.join(REGISTRY_DIR, '1.0.0', 'model.onnx')));
  function retrained(parent: Uint8Array, seed: number) {
    const rand = seededRandom(seed);
    const K = 100,
      D = 1280;
    const head = { classes: K, dim: D, weights: Float32Array.from({ length: K * D }, () => (rand() - 0.5) * 0.1), bias: Float32Array.from({ length: K }, () => rand() - 0.5) };
    return exportWithHead(parent, head, { temperature: 1, version: 'x', labelsSha256: '0'.repeat(64) });
  }
  const metaOf = (dir: string, version: string, extra: Partial<ModelVersion>) => {
    const { file: _f, sha256: _s, bytes: _b, ...meta } = findVersion(readManifest(dir)!, '1.0.0');
    return { ...meta, ...extra, version };
  };

  it('a retrained version gets a pack against the oldest version of its lineage, which rebuilds its file', () => {
    const dir = registry();
    const bytes11 = retrained(parentBytes(), 1);
    const v11 = registerVersion(bytes11, metaOf(dir, '1.1.0', { lineage: { parent: '1.0.0' } }), dir);
    // 1.2.0 retrained from 1.1.0: its backbone is still 1.0.0, what most devices hold.
    const bytes12 = retrained(bytes11, 2);
    const v12 = registerVersion(bytes12, metaOf(dir, '1.2.0', { lineage: { parent: '1.1.0' } }), dir);
    for (const [v, bytes] of [
      [v11, bytes11],
      [v12, bytes12],
    ] as const) {
      expect(v.headPack).toMatchObject({ file: `${v.version}/head-pack.bin`, backbone: { version: '1.0.0', sha256: findVersion(readManifest(dir)!, '1.0.0').sha256 } });
      const pack = new Uint8Array(readFileSync(path.join(dir, v.headPack!.file)));
      expect(sha256(pack)).toBe(v.headPack!.sha256);
      expect(pack.length).toBe(v.headPack!.bytes);
      expect(pack.length).toBeLessThan(bytes.length / 5);
      expect(sha256(assembleHeadPack(pack, parentBytes()))).toBe(v.sha256);
      expect(findVersion(readManifest(dir)!, v.version).headPack).toEqual(v.headPack);
    }
    expect(backboneVersion(readManifest(dir)!, '1.1.0')?.version).toBe('1.0.0');
  }, 60_000);

  it('no pack without a parent, for bytes that share nothing with the backbone, and never an inherited one', () => {
    const dir = registry();
    const bytes = retrained(parentBytes(), 3);
    const orphan = registerVersion(bytes, metaOf(dir, '1.1.0', {}), dir);
    expect(orphan.headPack).toBeUndefined();
    expect(existsSync(path.join(dir, '1.1.0', 'head-pack.bin'))).toBe(false);
    // 0.9.0's graph registered as a child of 1.0.0: a pack would be nearly the whole file.
    const other = new Uint8Array(readFileSync(path.join(REGISTRY_DIR, '0.9.0', 'model.onnx')));
    const { file: _f, sha256: _s, bytes: _b, ...meta09 } = findVersion(readManifest(dir)!, '0.9.0');
    const unrelated = registerVersion(
      other,
      {
        ...meta09,
        version: '1.2.0',
        lineage: { parent: '1.0.0' },
        headPack: { file: '1.1.0/head-pack.bin', sha256: 'a'.repeat(64), bytes: 1, backbone: { version: '1.0.0', sha256: 'b'.repeat(64) } },
      },
      dir,
    );
    expect(unrelated.headPack).toBeUndefined();
    expect(findVersion(readManifest(dir)!, '1.2.0').headPack).toBeUndefined();
  }, 60_000);
});

/**
 * Registering a pack version in a temporary copy of the built registry: the next free number under the
 * registry lock, the file where the entry says, a candidate with its parent recorded; refused (nothing
 * written) when the bytes break the parent's contract or the verification throws.
 */
import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REGISTRY_DIR } from './paths.ts';
import { readManifest, sha256 } from './registry.ts';
import { REGISTRY_LOCK_FILE } from './registry-lock.ts';
import { activePack, nextPackVersion, registerPackVersion } from './pack-registry.ts';

const built = readManifest(REGISTRY_DIR);
const birds = built?.packs?.find((p) => p.id === 'inat-birds');
const ready = !!birds && existsSync(path.join(REGISTRY_DIR, birds.file));

function registryCopy() {
  const dir = mkdtempSync(path.join(tmpdir(), 'wildsight-packreg-'));
  cpSync(path.join(REGISTRY_DIR, 'manifest.json'), path.join(dir, 'manifest.json'));
  cpSync(path.join(REGISTRY_DIR, birds!.file), path.join(dir, birds!.file));
  return dir;
}

describe.runIf(ready)('registerPackVersion', () => {
  it('registers the next patch version as a candidate with its parent, sha256 and bytes; the active version stays', async () => {
    const dir = registryCopy();
    const parent = activePack(readManifest(dir)!, 'inat-birds');
    const bytes = new Uint8Array(readFileSync(path.join(dir, parent.file)));
    const seen: string[] = [];
    const entry = await registerPackVersion(dir, { parent, bytes: () => bytes, verify: (_b, v) => void seen.push(v), lineage: { run: 'test' }, metrics: { gateTop1: 0.5 } });
    expect(entry).toMatchObject({
      id: 'inat-birds',
      version: '1.0.1',
      status: 'candidate',
      file: 'packs/inat-birds/1.0.1/model.onnx',
      sha256: sha256(bytes),
      bytes: bytes.length,
      lineage: { parent: '1.0.0', run: 'test' },
    });
    expect(seen).toEqual(['1.0.1']);
    expect(sha256(readFileSync(path.join(dir, entry.file)))).toBe(entry.sha256);
    const manifest = readManifest(dir)!;
    expect(activePack(manifest, 'inat-birds').version).toBe('1.0.0');
    expect(nextPackVersion(manifest, 'inat-birds')).toBe('1.0.2');
    expect(nextPackVersion(manifest, 'inat-birds', 'minor')).toBe('1.1.0');
    expect((await registerPackVersion(dir, { parent, bytes })).version).toBe('1.0.2');
    expect(existsSync(path.join(dir, REGISTRY_LOCK_FILE))).toBe(false);
  });

  it('writes nothing when the bytes are not a pack with the parent’s input and outputs, or the verification refuses them', async () => {
    const dir = registryCopy();
    const parent = activePack(readManifest(dir)!, 'inat-birds');
    const before = readFileSync(path.join(dir, 'manifest.json'), 'utf8');
    await expect(registerPackVersion(dir, { parent, bytes: new Uint8Array([1, 2, 3]) })).rejects.toThrow(/does not parse as an ONNX model/);
    const bytes = new Uint8Array(readFileSync(path.join(dir, parent.file)));
    await expect(
      registerPackVersion(dir, {
        parent,
        bytes,
        verify: () => {
          throw new Error('logits disagree');
        },
      }),
    ).rejects.toThrow(/logits disagree/);
    expect(readFileSync(path.join(dir, 'manifest.json'), 'utf8')).toBe(before);
    expect(existsSync(path.join(dir, 'packs', 'inat-birds', '1.0.1'))).toBe(false);
  });

  it('says plainly when a pack is unknown or has no active version', () => {
    const manifest = readManifest(registryCopy())!;
    expect(() => activePack(manifest, 'inat-fish')).toThrow(/inat-fish is not in the registry \(have: inat-birds, inat-insects/);
    const retired = { ...manifest, packs: manifest.packs!.map((p) => ({ ...p, status: 'retired' as const })) };
    expect(() => activePack(retired, 'inat-birds')).toThrow(/no active version \(versions: 1\.0\.0 retired\)/);
  });
});

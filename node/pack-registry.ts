/**
 * Species pack versions in the registry: which version of a pack is the
 * active one (what devices are offered and what a pack retrain starts from),
 * the next free version number, and registering a new version, a retrained
 * head (`pipeline -- retrain --pack`) or any other, as a `candidate` under
 * the registry lock every registry writer takes (node/registry-lock.ts), so
 * the number chosen is still free when the manifest is written, and the
 * bytes checked are the bytes written.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Manifest, SpeciesPack } from '../core/manifest.ts';
import { assertOnnxContract } from './onnx-contract.ts';
import { readManifest, sha256, writeManifest } from './registry.ts';
import { withRegistryLock } from './registry-lock.ts';

const semver = (v: string) => v.split('.').map(Number);
const newestFirst = (a: string, b: string) => {
  const [x, y] = [semver(a), semver(b)];
  return y[0] - x[0] || y[1] - x[1] || y[2] - x[2];
};

/**
 * The pack's active version: the entry with status `active` (the newest such, should there be several);
 * a pack with none active cannot be retrained or offered, and that is said plainly.
 */
export function activePack(manifest: Manifest, id: string): SpeciesPack {
  const all = (manifest.packs ?? []).filter((p) => p.id === id);
  if (!all.length) throw new Error(`species pack ${id} is not in the registry (have: ${[...new Set((manifest.packs ?? []).map((p) => p.id))].join(', ') || 'none'}); run \`npm run models:build\``);
  const active = all.filter((p) => p.status === 'active').sort((a, b) => newestFirst(a.version, b.version));
  if (!active.length) throw new Error(`species pack ${id} has no active version (versions: ${all.map((p) => `${p.version} ${p.status}`).join(', ')})`);
  return active[0];
}

/** One version of a pack, or a clear error naming the versions there are. */
export function findPackVersion(manifest: Manifest, id: string, version: string): SpeciesPack {
  const all = (manifest.packs ?? []).filter((p) => p.id === id);
  const found = all.find((p) => p.version === version);
  if (!found) throw new Error(`species pack ${id} has no version ${version} (versions: ${all.map((p) => p.version).join(', ') || 'none'})`);
  return found;
}

/** The next free patch (or minor) version of a pack after its newest registered one. */
export function nextPackVersion(manifest: Manifest, id: string, bump: 'minor' | 'patch' = 'patch'): string {
  const versions = (manifest.packs ?? []).filter((p) => p.id === id).map((p) => p.version);
  if (!versions.length) throw new Error(`species pack ${id} is not in the registry`);
  const [major, minor, patch] = semver(versions.sort(newestFirst)[0]);
  return bump === 'minor' ? `${major}.${minor + 1}.0` : `${major}.${minor}.${patch + 1}`;
}

/** Where a registered pack version's file lives, relative to the registry folder. */
export const packVersionFile = (id: string, version: string) => `packs/${id}/${version}/model.onnx`;

export interface PackRegistration {
  /** The pack version the new one replaces when promoted; its entry gives the new one's id, labels, input and outputs. */
  parent: SpeciesPack;
  /** The model file; `version` is the number chosen under the lock. */
  bytes: Uint8Array | ((version: string) => Uint8Array);
  bump?: 'minor' | 'patch';
  /** Runs on the exact bytes before anything is written, under the lock; throwing refuses the registration. */
  verify?: (bytes: Uint8Array, version: string) => Promise<void> | void;
  lineage?: SpeciesPack['lineage'];
  metrics?: SpeciesPack['metrics'];
}

/**
 * Registers a new version of `parent`'s pack as a `candidate` (never active: promotion is a rollout's job):
 * under the registry lock, the next free version is chosen, the file written (atomically) under
 * packs/<id>/<version>/, checked to hold the promised input and outputs, and the manifest's packs list gets
 * the entry with the parent version recorded, sha256 and bytes. Nothing is written when a check fails.
 */
export async function registerPackVersion(registryDir: string, reg: PackRegistration): Promise<SpeciesPack> {
  return withRegistryLock(registryDir, async () => {
    const manifest = readManifest(registryDir);
    if (!manifest) throw new Error(`no model registry at ${registryDir}; run \`npm run models:build\` first`);
    const { parent } = reg;
    findPackVersion(manifest, parent.id, parent.version);
    const version = nextPackVersion(manifest, parent.id, reg.bump ?? 'patch');
    const bytes = typeof reg.bytes === 'function' ? reg.bytes(version) : reg.bytes;
    if (!parent.outputs.embedding || !parent.outputs.embeddingSize) throw new Error(`species pack ${parent.id} ${parent.version} names no embedding output: its head cannot be checked or retrained`);
    assertOnnxContract(bytes, {
      input: parent.input,
      labels: parent.labels,
      outputs: { logits: parent.outputs.logits, embedding: parent.outputs.embedding, embeddingSize: parent.outputs.embeddingSize },
    });
    await reg.verify?.(bytes, version);
    const file = packVersionFile(parent.id, version);
    const target = path.join(registryDir, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(`${target}.tmp`, bytes);
    renameSync(`${target}.tmp`, target);
    const { lineage: _l, metrics: _m, ...inherited } = parent;
    const entry: SpeciesPack = {
      ...inherited,
      version,
      file,
      sha256: sha256(bytes),
      bytes: bytes.length,
      status: 'candidate',
      createdAt: new Date().toISOString(),
      lineage: { ...reg.lineage, parent: parent.version },
      ...(reg.metrics ? { metrics: reg.metrics } : {}),
    };
    writeManifest({ ...manifest, packs: [...(manifest.packs ?? []), entry] }, registryDir);
    return entry;
  });
}

/**
 * The head pack a new version ships beside its full file (core/head-pack.ts
 * defines the format): made at registration, against the oldest version of
 * its lineage that is still in the registry, its backbone (for a retrained
 * version, the models:build version every retrain started from, which the
 * most devices hold). Kept only when it is at most half the full file: a
 * version that shares no backbone with its parent gets no pack and is sent
 * whole. Before it is kept, the pack is assembled here and must give the
 * full file's bytes, so the sha256 a device checks after assembling is the
 * manifest's own.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { HeadPack, Manifest, ModelVersion } from '../core/manifest.ts';
import { assembleHeadPack, makeHeadPack } from '../core/head-pack.ts';

// Not registry.ts's: that module imports this one.
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export const HEAD_PACK_FILE = 'head-pack.bin';
/** A pack larger than this share of the full file saves too little to be worth a second file. */
export const HEAD_PACK_MAX_SHARE = 0.5;

/** The root of `parent`'s lineage among the registry's versions (parent itself when it has none). */
export function backboneVersion(manifest: Manifest, parent: string): ModelVersion | null {
  const byVersion = new Map(manifest.versions.map((v) => [v.version, v]));
  let at = byVersion.get(parent) ?? null;
  const seen = new Set<string>();
  while (at?.lineage?.parent && byVersion.has(at.lineage.parent) && !seen.has(at.version)) {
    seen.add(at.version);
    at = byVersion.get(at.lineage.parent)!;
  }
  return at;
}

/** The pack for `version` (whose full file is `bytes`), or null when it has no backbone on disk or the pack saves too little. */
export function buildHeadPack(manifest: Manifest, version: string, parent: string | undefined, bytes: Uint8Array, dir: string): { pack: Uint8Array; entry: HeadPack } | null {
  if (!parent) return null;
  const backbone = backboneVersion(manifest, parent);
  if (!backbone) return null;
  const file = path.join(dir, backbone.file);
  if (!existsSync(file)) return null;
  const backboneBytes = new Uint8Array(readFileSync(file));
  if (sha256(backboneBytes) !== backbone.sha256) return null;
  const targetSha256 = sha256(bytes);
  const pack = makeHeadPack(backboneBytes, bytes, { backboneSha256: backbone.sha256, targetSha256 });
  if (pack.length > bytes.length * HEAD_PACK_MAX_SHARE) return null;
  if (sha256(assembleHeadPack(pack, backboneBytes)) !== targetSha256) throw new Error(`the head pack of ${version} does not rebuild its model file`);
  return {
    pack,
    entry: { file: `${version}/${HEAD_PACK_FILE}`, sha256: sha256(pack), bytes: pack.length, backbone: { version: backbone.version, sha256: backbone.sha256 } },
  };
}

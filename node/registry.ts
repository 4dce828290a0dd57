/** Reading and writing the model registry and the taxonomy on disk. */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { validateManifest, findVersion, type Manifest, type ModelVersion } from '../core/manifest.ts';
import { indexTaxonomy, type Taxon, type Taxonomy, type TaxonIndex } from '../core/taxonomy.ts';
import { REGISTRY_DIR, TAXONOMY_FILE } from './paths.ts';
import { assertOnnxContract } from './onnx-contract.ts';
import { buildHeadPack } from './head-pack.ts';

export const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

export const manifestPath = (dir = REGISTRY_DIR) => path.join(dir, 'manifest.json');

export function readManifest(dir = REGISTRY_DIR): Manifest | null {
  const file = manifestPath(dir);
  if (!existsSync(file)) return null;
  return validateManifest(JSON.parse(readFileSync(file, 'utf8')));
}

/** Written to a temporary file and renamed, so a crash never leaves half a manifest. */
export function writeManifest(manifest: Manifest, dir = REGISTRY_DIR) {
  validateManifest(manifest);
  mkdirSync(dir, { recursive: true });
  const tmp = `${manifestPath(dir)}.tmp`;
  writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n');
  renameSync(tmp, manifestPath(dir));
}

export const modelFile = (v: Pick<ModelVersion, 'file'>, dir = REGISTRY_DIR) => path.join(dir, v.file);

/** Every version's model file is present and matches its recorded sha256. */
export function missingModels(manifest: Manifest | null, dir = REGISTRY_DIR): string[] {
  if (!manifest) return ['manifest.json'];
  // Species packs are registry models too: a missing or altered one is rebuilt like a version.
  return [...manifest.versions, ...(manifest.packs ?? [])].filter((v) => !existsSync(modelFile(v, dir)) || sha256(readFileSync(modelFile(v, dir))) !== v.sha256).map((v) => v.file);
}

export function loadTaxonomy(file = TAXONOMY_FILE): Taxonomy {
  return JSON.parse(readFileSync(file, 'utf8')) as Taxonomy;
}

export function loadTaxonIndex(file = TAXONOMY_FILE, extra: readonly Taxon[] = []): TaxonIndex {
  return indexTaxonomy(loadTaxonomy(file), extra);
}

/**
 * Adds a new version to the registry: writes its ONNX file under
 * <version>/model.onnx, then the manifest (atomically). The version must be
 * new; sha256 and bytes are computed here from the bytes written. The
 * bytes must parse as ONNX with the input and outputs `meta` promises
 * (node/onnx-contract.ts), or nothing is written. A version whose lineage
 * names a parent also gets a head pack when it shares that lineage's
 * backbone (node/head-pack.ts): written beside the model, named in the entry.
 */
export function registerVersion(bytes: Uint8Array, meta: Omit<ModelVersion, 'file' | 'sha256' | 'bytes'>, dir = REGISTRY_DIR): ModelVersion {
  const manifest = readManifest(dir);
  if (!manifest) throw new Error(`no model registry at ${dir}; run \`npm run models:build\` first`);
  if (manifest.versions.some((v) => v.version === meta.version)) throw new Error(`model version ${meta.version} is already registered`);
  assertOnnxContract(bytes, meta);
  // A pack is this registration's own: one inherited with the rest of a base version's entry would name other bytes.
  const { headPack: _inherited, ...own } = meta;
  const pack = buildHeadPack(manifest, meta.version, meta.lineage?.parent, bytes, dir);
  const entry: ModelVersion = { ...own, file: `${meta.version}/model.onnx`, sha256: sha256(bytes), bytes: bytes.length, ...(pack ? { headPack: pack.entry } : {}) };
  mkdirSync(path.join(dir, meta.version), { recursive: true });
  const files: Array<[string, Uint8Array]> = [[entry.file, bytes], ...(pack ? [[pack.entry.file, pack.pack] as [string, Uint8Array]] : [])];
  for (const [file, content] of files) {
    const tmp = path.join(dir, `${file}.tmp`);
    writeFileSync(tmp, content);
    renameSync(tmp, path.join(dir, file));
  }
  writeManifest({ ...manifest, versions: [...manifest.versions, entry] }, dir);
  return entry;
}

/** The next free patch/minor version after the newest registered one (semver order). */
export function nextVersion(manifest: Manifest, bump: 'minor' | 'patch' = 'minor'): string {
  const newest = manifest.versions.map((v) => v.version.split('.').map(Number)).sort((a, b) => b[0] - a[0] || b[1] - a[1] || b[2] - a[2])[0];
  return bump === 'minor' ? `${newest[0]}.${newest[1] + 1}.0` : `${newest[0]}.${newest[1]}.${newest[2] + 1}`;
}

export function loadVersion(version?: string, dir = REGISTRY_DIR): { manifest: Manifest; model: ModelVersion; bytes: Uint8Array } {
  const manifest = readManifest(dir);
  if (!manifest) throw new Error(`no model registry at ${dir}; run \`npm run models:build\` first`);
  const model = findVersion(manifest, version);
  const bytes = readFileSync(modelFile(model, dir));
  if (sha256(bytes) !== model.sha256) throw new Error(`${modelFile(model, dir)} does not match its sha256 in the manifest; run \`npm run models:build\``);
  return { manifest, model, bytes };
}

/** Reading and writing the model registry and the taxonomy on disk. */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { validateManifest, findVersion, type Manifest, type ModelVersion } from '../core/manifest.ts';
import { indexTaxonomy, type Taxonomy, type TaxonIndex } from '../core/taxonomy.ts';
import { REGISTRY_DIR, TAXONOMY_FILE } from './paths.ts';

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

export const modelFile = (v: ModelVersion, dir = REGISTRY_DIR) => path.join(dir, v.file);

/** Every version's model file is present and matches its recorded sha256. */
export function missingModels(manifest: Manifest | null, dir = REGISTRY_DIR): string[] {
  if (!manifest) return ['manifest.json'];
  return manifest.versions
    .filter((v) => !existsSync(modelFile(v, dir)) || sha256(readFileSync(modelFile(v, dir))) !== v.sha256)
    .map((v) => v.file);
}

export function loadTaxonomy(file = TAXONOMY_FILE): Taxonomy {
  return JSON.parse(readFileSync(file, 'utf8')) as Taxonomy;
}

export function loadTaxonIndex(file = TAXONOMY_FILE): TaxonIndex {
  return indexTaxonomy(loadTaxonomy(file));
}

export function loadVersion(version?: string, dir = REGISTRY_DIR): { manifest: Manifest; model: ModelVersion; bytes: Uint8Array } {
  const manifest = readManifest(dir);
  if (!manifest) throw new Error(`no model registry at ${dir}; run \`npm run models:build\` first`);
  const model = findVersion(manifest, version);
  const bytes = readFileSync(modelFile(model, dir));
  if (sha256(bytes) !== model.sha256) throw new Error(`${modelFile(model, dir)} does not match its sha256 in the manifest; run \`npm run models:build\``);
  return { manifest, model, bytes };
}

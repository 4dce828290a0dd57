/** Where the repo, the registry and the read-only ../shared assets are. */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED_DIR = path.resolve(process.env.WILDSIGHT_SHARED ?? path.join(REPO_ROOT, '..', 'shared'));
export const IMAGENET_DIR = path.join(SHARED_DIR, 'models', 'imagenet');
export const DATA_DIR_SHARED = path.join(SHARED_DIR, 'data');
export const MODELS_DIR = path.join(REPO_ROOT, 'models');
export const REGISTRY_DIR = path.resolve(process.env.WILDSIGHT_REGISTRY ?? path.join(MODELS_DIR, 'registry'));
export const TAXONOMY_FILE = path.join(MODELS_DIR, 'taxonomy.json');
export const DIST_DIR = path.join(REPO_ROOT, 'dist');

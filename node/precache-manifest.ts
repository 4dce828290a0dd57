/**
 * The service worker's precache list, read back from the built dist/sw.js
 * (vite-plugin-pwa injects it as a JSON array in place of
 * self.__WB_MANIFEST), with the file on disk each URL is served from.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DIST_DIR, REGISTRY_DIR } from './paths.ts';

export interface PrecacheEntry {
  url: string;
  file: string;
}

export function readPrecacheManifest(distDir = DIST_DIR, registryDir = REGISTRY_DIR): PrecacheEntry[] {
  const sw = readFileSync(path.join(distDir, 'sw.js'), 'utf8');
  const match = sw.match(/\[\{"revision":.*?\}\]/);
  if (!match) throw new Error(`no precache manifest found in ${path.join(distDir, 'sw.js')}`);
  const urls = [...new Set((JSON.parse(match[0]) as Array<{ url: string }>).map((e) => '/' + e.url.replace(/^\//, '')))];
  return urls.map((url) => ({
    url,
    file: url.startsWith('/models/registry/') ? path.join(registryDir, url.slice('/models/registry/'.length)) : path.join(distDir, url.slice(1)),
  }));
}

/**
 * The files a first visit needs that the precache leaves to the inference
 * worker, which downloads each once (workers/inference/runtime-store.ts,
 * model-store.ts): the WASM runtime's binary and the active model.
 */
export function readWorkerFetched(distDir = DIST_DIR, registryDir = REGISTRY_DIR): PrecacheEntry[] {
  const manifest = JSON.parse(readFileSync(path.join(registryDir, 'manifest.json'), 'utf8')) as { active: string; versions: Array<{ version: string; file: string }> };
  const active = manifest.versions.find((v) => v.version === manifest.active);
  if (!active) throw new Error(`the registry manifest in ${registryDir} names no active version`);
  return [
    { url: '/ort/ort-wasm-simd-threaded.wasm', file: path.join(distDir, 'ort', 'ort-wasm-simd-threaded.wasm') },
    { url: `/models/registry/${active.file}`, file: path.join(registryDir, active.file) },
  ];
}

/**
 * The service worker's precache list, read back from the built dist/sw.js
 * (vite-plugin-pwa injects it as a JSON array in place of
 * self.__WB_MANIFEST), with the file on disk each URL is served from.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DIST_DIR, REGISTRY_DIR } from './paths.ts';

export interface PrecacheEntry { url: string; file: string }

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

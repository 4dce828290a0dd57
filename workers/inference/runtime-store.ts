/**
 * The onnxruntime-web WASM binary, downloaded once per device and kept in
 * the Cache API under its sha256. The service worker does not precache it:
 * on a first visit the inference worker starts before any service worker
 * controls it, so the two used to download the same 14 MB (2.3 MB brotli)
 * file side by side. Now the worker is the only one that fetches it, into
 * RUNTIME_CACHE, the cache the service worker's CacheFirst `/ort/` route
 * (src/sw.ts) answers from, so a later fetch of the same URL never leaves the
 * device either. The bytes are checked against the sha256 the build recorded
 * (vite.config.ts) before they are stored and every time they are read: a
 * damaged copy is discarded and fetched again, and a new onnxruntime-web
 * release, with the same file name, gets a new key instead of the old bytes.
 */
import { sha256Hex } from './model-store.ts';

/** Shared with src/sw.ts's `/ort/` route: keep the two names the same. */
export const RUNTIME_CACHE = 'wildsight-ort';
export const RUNTIME_FILE = 'ort-wasm-simd-threaded.wasm';

declare const __ORT_WASM_SHA256__: string;

/** The URL the runtime is fetched from and stored under; the sha256 in it names the exact bytes. */
export function runtimeUrl(ortBase: string, sha256 = __ORT_WASM_SHA256__): string {
  return new URL(`${RUNTIME_FILE}?sha256=${sha256}`, ortBase).href;
}

async function openCache(): Promise<Cache | null> {
  try {
    return typeof caches === 'undefined' ? null : await caches.open(RUNTIME_CACHE);
  } catch {
    return null; // storage disabled: the runtime still loads from the network
  }
}

/** Drops runtimes of other onnxruntime-web releases (same file, other sha256): 14 MB each. */
async function dropOthers(cache: Cache, keep: string): Promise<void> {
  const path = new URL(keep).pathname;
  for (const req of await cache.keys()) {
    if (req.url !== keep && new URL(req.url).pathname === path) await cache.delete(req);
  }
}

/**
 * The stored copy's URL when the device has one (not read, not verified:
 * runtimeBinary does that), for a compile that streams it through the
 * service worker; null when there is none yet.
 */
export async function storedRuntimeUrl(ortBase: string, sha256 = __ORT_WASM_SHA256__): Promise<string | null> {
  const url = runtimeUrl(ortBase, sha256);
  const cache = await openCache();
  return (await cache?.match(url)) ? url : null;
}

/** The runtime's bytes, from the device when a good copy is there, else downloaded, checked and stored. */
export async function runtimeBinary(ortBase: string, sha256 = __ORT_WASM_SHA256__): Promise<Uint8Array> {
  const url = runtimeUrl(ortBase, sha256);
  const cache = await openCache();
  const hit = await cache?.match(url);
  if (hit) {
    const bytes = new Uint8Array(await hit.arrayBuffer());
    if ((await sha256Hex(bytes)) === sha256) return bytes;
    await cache!.delete(url);
  }
  // no-cache: revalidate rather than trust an HTTP-cache copy we cannot tell apart from a fresh one.
  const res = await fetch(url, { cache: 'no-cache' });
  if (!res.ok) throw new Error(`could not load the WASM runtime: HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const digest = await sha256Hex(bytes);
  if (digest !== sha256) throw new Error(`the WASM runtime failed its integrity check (sha256 ${digest.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…)`);
  if (cache) {
    try {
      await cache.put(url, new Response(bytes as BodyInit, { headers: { 'Content-Type': 'application/wasm' } }));
      await dropOthers(cache, url);
    } catch {
      // A full disk: the runtime is not kept for offline use, but this session still runs.
    }
  }
  return bytes;
}

/**
 * For a device updating from a build that precached the runtime: the new
 * service worker's activation deletes that precache entry, so its bytes are
 * first copied here under their own sha256 (no download). Without this, a
 * device that took the update offline could not start the runtime until it
 * was online again. Runs in the service worker's install step; never throws.
 */
export async function adoptPrecachedRuntime(): Promise<void> {
  try {
    const target = await caches.open(RUNTIME_CACHE);
    for (const name of (await caches.keys()).filter((n) => n.startsWith('workbox-precache'))) {
      const old = await caches.open(name);
      for (const req of await old.keys()) {
        const url = new URL(req.url);
        if (url.pathname !== `/ort/${RUNTIME_FILE}`) continue;
        const bytes = new Uint8Array(await (await old.match(req))!.arrayBuffer());
        // Only the release this build runs: an older one would be 14 MB stored and never read.
        if ((await sha256Hex(bytes)) !== __ORT_WASM_SHA256__) continue;
        const key = runtimeUrl(url.origin + '/ort/');
        if (!(await target.match(key))) await target.put(key, new Response(bytes as BodyInit, { headers: { 'Content-Type': 'application/wasm' } }));
      }
    }
  } catch {
    // Nothing lost: the worker downloads the runtime when it first needs it.
  }
}

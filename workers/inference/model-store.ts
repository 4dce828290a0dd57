/**
 * Model files kept on the device by content: each version's bytes are stored
 * in the Cache API under its sha256 and checked with SubtleCrypto every time
 * they are loaded. A damaged entry is thrown away and fetched again; while
 * that is impossible (offline), the last good version on the device is used.
 * A full disk only means the model is not kept: identification goes on.
 *
 * An update whose version ships a head pack (core/head-pack.ts) is built on
 * the device from the backbone it already holds: only the pack crosses the
 * network, and the assembled file must match the version's sha256 before it
 * is kept. Without the backbone the full file is downloaded.
 */
import type { HeadPack, Manifest, ModelVersion, SpeciesPack } from '../../core/manifest.ts';
import { assembleHeadPack, HeadPackError } from '../../core/head-pack.ts';
import { WorkerError } from './errors.ts';

export const MODEL_CACHE = 'wildsight-models-v1';
const keyFor = (sha256: string) => new URL(`/model-store/${sha256}.onnx`, self.location.origin).href;

export async function sha256Hex(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as BufferSource);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Bytes that do not match the manifest: the page refuses the version on this code, not on the wording. */
export class ModelIntegrityError extends WorkerError {
  constructor(code: 'sha256-mismatch' | 'size-mismatch' | 'head-pack-damaged', message: string) {
    super(code, message);
    this.name = 'ModelIntegrityError';
  }
}

export interface LoadedModel {
  model: ModelVersion;
  bytes: Uint8Array;
  source: 'device' | 'network';
  /** Things the user should know: a damaged copy replaced, storage full, an older version used. */
  notices: string[];
}

async function openCache(): Promise<Cache | null> {
  try {
    return typeof caches === 'undefined' ? null : await caches.open(MODEL_CACHE);
  } catch {
    return null; // e.g. storage disabled: work from the network only
  }
}

/** Stored bytes whose sha256 is `sha256`, or null when absent; a damaged copy is deleted ('damaged'). */
async function stored(cache: Cache | null, sha256: string): Promise<Uint8Array | null | 'damaged'> {
  if (!cache) return null;
  const hit = await cache.match(keyFor(sha256));
  if (!hit) return null;
  const bytes = new Uint8Array(await hit.arrayBuffer());
  if ((await sha256Hex(bytes)) === sha256) return bytes;
  await cache.delete(keyFor(sha256));
  return 'damaged';
}

/** Bytes of a stored version, or null when absent; a damaged copy is deleted and reported. */
async function fromDevice(cache: Cache | null, model: ModelVersion, notices: string[]): Promise<Uint8Array | null> {
  const bytes = await stored(cache, model.sha256);
  if (bytes !== 'damaged') return bytes;
  notices.push(`The stored copy of model ${model.version} was damaged and has been discarded.`);
  return null;
}

async function fromNetwork(cache: Cache | null, model: ModelVersion, url: string, notices: string[]): Promise<Uint8Array> {
  const res = await fetch(url, { cache: 'no-cache' });
  if (!res.ok) throw new WorkerError('download-failed', `could not download model ${model.version}: HTTP ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const digest = await sha256Hex(bytes);
  if (digest !== model.sha256) {
    throw new ModelIntegrityError('sha256-mismatch', `model ${model.version} failed its integrity check (sha256 ${digest.slice(0, 12)}…, expected ${model.sha256.slice(0, 12)}…); it was not used`);
  }
  if (cache) {
    try {
      await cache.put(keyFor(model.sha256), new Response(bytes as BodyInit, { headers: { 'Content-Type': 'application/octet-stream' } }));
    } catch (err) {
      const full = (err as DOMException)?.name === 'QuotaExceededError';
      notices.push(
        full
          ? 'Storage on this device is full, so the model could not be kept for offline use. Identification works while the app stays open; free some space to use it offline.'
          : `The model could not be kept for offline use: ${(err as Error).message}`,
      );
    }
  }
  return bytes;
}

/**
 * Loads `wanted`, from the device when a good copy is there, else from the
 * network. If neither works, falls back to any other version of the
 * manifest that has a good copy on the device (newest first).
 */
export async function loadModel(manifest: Manifest, wanted: ModelVersion, manifestUrl: string): Promise<LoadedModel> {
  const cache = await openCache();
  const notices: string[] = [];
  const local = await fromDevice(cache, wanted, notices);
  if (local) return { model: wanted, bytes: local, source: 'device', notices };
  try {
    const bytes = await fromNetwork(cache, wanted, new URL(wanted.file, manifestUrl).href, notices);
    return { model: wanted, bytes, source: 'network', notices };
  } catch (err) {
    const others = manifest.versions.filter((v) => v.version !== wanted.version).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    for (const other of others) {
      const bytes = await fromDevice(cache, other, notices);
      if (bytes) {
        notices.push(`Model ${wanted.version} could not be loaded (${(err as Error).message}); using ${other.version}, the last good version on this device.`);
        return { model: other, bytes, source: 'device', notices };
      }
    }
    throw err;
  }
}

/**
 * Gets a version onto the device ahead of use (a rollout update or a shadow
 * candidate): from the device if a good copy is there, else downloaded with
 * progress, checked against its sha256 and size, and kept by sha256 beside
 * the others (the previous version stays for offline rollback). Bytes that
 * do not match are never stored: ModelIntegrityError. A version with a head
 * pack whose backbone is on the device is assembled from the pack instead.
 */
export async function downloadModel(model: ModelVersion, url: string, onProgress?: (loaded: number, total: number) => void): Promise<'device' | 'network' | 'head-pack'> {
  const cache = await openCache();
  if (await fromDevice(cache, model, [])) {
    onProgress?.(model.bytes, model.bytes);
    return 'device';
  }
  const pack = model.headPack;
  const base = pack ? registryBaseOf(url, model.file) : null;
  if (pack && base && cache) {
    const backbone = await stored(cache, pack.backbone.sha256);
    if (backbone instanceof Uint8Array) {
      const bytes = await fromHeadPack(model, pack, backbone, new URL(pack.file, base).href, onProgress);
      await cache.put(keyFor(model.sha256), new Response(bytes as BodyInit, { headers: { 'Content-Type': 'application/octet-stream' } }));
      return 'head-pack';
    }
  }
  const bytes = await fetchBody(url, model.sha256, model.bytes, `model ${model.version}`, onProgress);
  const digest = await sha256Hex(bytes);
  if (digest !== model.sha256 || bytes.length !== model.bytes) {
    throw new ModelIntegrityError(
      digest !== model.sha256 ? 'sha256-mismatch' : 'size-mismatch',
      `model ${model.version} failed its integrity check (sha256 ${digest.slice(0, 12)}…, expected ${model.sha256.slice(0, 12)}…; ${bytes.length} bytes, expected ${model.bytes}); it was not used`,
    );
  }
  if (cache) await cache.put(keyFor(model.sha256), new Response(bytes as BodyInit, { headers: { 'Content-Type': 'application/octet-stream' } }));
  return 'network';
}

/**
 * GETs `url` with progress. `expected` is the manifest's size: not
 * Content-Length, which counts compressed bytes when the server compresses
 * while the reader yields decoded ones (the bar would run past 100%). A body
 * far larger than that is cut off.
 */
async function fetchBody(
  url: string,
  sha256: string,
  expected: number,
  what: string,
  onProgress?: (loaded: number, total: number) => void,
  code: 'size-mismatch' | 'head-pack-damaged' = 'size-mismatch',
): Promise<Uint8Array> {
  // The sha256 in the query keeps the service worker's precache out of it: these bytes come from the server.
  const res = await fetch(`${url}${url.includes('?') ? '&' : '?'}sha256=${sha256}`, { cache: 'no-store' });
  if (!res.ok || !res.body) throw new WorkerError('download-failed', `could not download ${what}: HTTP ${res.status}`);
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  let lastReport = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    if (loaded - lastReport > 64 * 1024) {
      onProgress?.(loaded, expected);
      lastReport = loaded;
    }
    if (loaded > expected * 2 + 1024 * 1024) {
      await reader.cancel();
      throw new ModelIntegrityError(code, `${what} is larger than its manifest says (${expected} bytes); it was not used`);
    }
  }
  onProgress?.(loaded, expected);
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return bytes;
}

/** The registry folder's URL, from a model file's URL and its path in the manifest; null when they do not line up. */
function registryBaseOf(url: string, file: string): string | null {
  const path = url.split(/[?#]/)[0];
  return path.endsWith(`/${file}`) ? path.slice(0, path.length - file.length) : null;
}

/**
 * The full model file from its head pack and the backbone on the device.
 * The pack must match its own sha256, assemble, and give the version's
 * sha256; else 'head-pack-damaged' and nothing is kept.
 */
async function fromHeadPack(model: ModelVersion, pack: HeadPack, backbone: Uint8Array, packUrl: string, onProgress?: (loaded: number, total: number) => void): Promise<Uint8Array> {
  const what = `the head pack of model ${model.version}`;
  const packBytes = await fetchBody(packUrl, pack.sha256, pack.bytes, what, onProgress, 'head-pack-damaged');
  const packDigest = await sha256Hex(packBytes);
  if (packDigest !== pack.sha256 || packBytes.length !== pack.bytes) {
    throw new ModelIntegrityError(
      'head-pack-damaged',
      `${what} failed its integrity check (sha256 ${packDigest.slice(0, 12)}…, expected ${pack.sha256.slice(0, 12)}…; ${packBytes.length} bytes, expected ${pack.bytes}); it was not used`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = assembleHeadPack(packBytes, backbone);
  } catch (err) {
    if (err instanceof HeadPackError) throw new ModelIntegrityError('head-pack-damaged', `${what} could not be assembled: ${err.message}; it was not used`);
    throw err;
  }
  const digest = await sha256Hex(bytes);
  if (digest !== model.sha256 || bytes.length !== model.bytes) {
    throw new ModelIntegrityError(
      'head-pack-damaged',
      `model ${model.version} assembled from its head pack failed its integrity check (sha256 ${digest.slice(0, 12)}…, expected ${model.sha256.slice(0, 12)}…); it was not used`,
    );
  }
  return bytes;
}

// ---------------------------------------------------------------- species packs

/**
 * Species packs are kept like versions: by sha256 in the same cache,
 * downloaded with progress, never stored unless they match, and checked
 * again on every load.
 */
export async function downloadPack(pack: SpeciesPack, url: string, onProgress?: (loaded: number, total: number) => void): Promise<'device' | 'network'> {
  const cache = await openCache();
  if (!cache) throw new WorkerError('storage', 'this browser keeps no storage for the app, so a species pack cannot be kept for offline use');
  if ((await stored(cache, pack.sha256)) instanceof Uint8Array) {
    onProgress?.(pack.bytes, pack.bytes);
    return 'device';
  }
  const what = `species pack ${pack.id} ${pack.version}`;
  const bytes = await fetchBody(url, pack.sha256, pack.bytes, what, onProgress);
  const digest = await sha256Hex(bytes);
  if (digest !== pack.sha256 || bytes.length !== pack.bytes) {
    throw new ModelIntegrityError(
      digest !== pack.sha256 ? 'sha256-mismatch' : 'size-mismatch',
      `${what} failed its integrity check (sha256 ${digest.slice(0, 12)}…, expected ${pack.sha256.slice(0, 12)}…); it was not kept`,
    );
  }
  try {
    await cache.put(keyFor(pack.sha256), new Response(bytes as BodyInit, { headers: { 'Content-Type': 'application/octet-stream' } }));
  } catch (err) {
    const full = (err as DOMException)?.name === 'QuotaExceededError';
    throw new WorkerError('storage', full ? `Storage on this device is full: ${what} could not be kept.` : `${what} could not be kept: ${(err as Error).message}`);
  }
  return 'network';
}

/** The pack's verified bytes from the device, or null (absent, or damaged and now deleted). */
export async function storedPack(pack: SpeciesPack): Promise<Uint8Array | null> {
  const bytes = await stored(await openCache(), pack.sha256);
  return bytes instanceof Uint8Array ? bytes : null;
}

/** Deletes the pack's bytes from the device; true when there was a copy. */
export async function removePack(pack: SpeciesPack): Promise<boolean> {
  const cache = await openCache();
  return !!cache && cache.delete(keyFor(pack.sha256));
}

/**
 * Precompressed copies of static files: `<file>.br` and `<file>.gz` beside
 * each file, so the server sends them with no compression work per request
 * (@fastify/static's `preCompressed` picks the one the client accepts).
 *
 * - A copy is kept only when it is smaller than the file, and formats that
 *   are already compressed (PNG, JPEG, fonts…) are not tried at all.
 * - Brotli runs at quality 11 with a 16 MB window: the WASM runtime is most
 *   of a first visit's bytes, and 11 saves 0.3 MB on it over quality 9. That
 *   costs about 30 s of CPU for the 14 MB runtime, so compressed bytes are
 *   kept in a cache folder under their input's sha256 and a rebuild of
 *   unchanged files (the runtime never changes between app builds) is free.
 * - Each copy gets its file's mtime. @fastify/send's ETag is size + mtime,
 *   so identity, br and gzip get distinct ETags because their sizes differ
 *   (a gzip copy exactly as long as the brotli one is dropped for that
 *   reason), and a copy whose mtime differs from its file's is stale.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { REPO_ROOT } from './paths.ts';

export type Encoding = 'br' | 'gzip';
export const SUFFIX: Record<Encoding, string> = { br: '.br', gzip: '.gz' };

/** Formats whose bytes are already compressed: another pass only costs CPU. */
export const ALREADY_COMPRESSED = /\.(png|jpe?g|gif|webp|avif|heic|woff2?|br|gz|zip|mp4|webm|mp3|ogg)$/i;

export const DEFAULT_CACHE_DIR = path.join(REPO_ROOT, '.cache', 'precompress');

export interface Variant {
  encoding: Encoding;
  file: string;
  bytes: number;
}
export interface PrecompressResult {
  file: string;
  bytes: number;
  variants: Variant[];
}
export interface PrecompressOptions {
  /** Where compressed bytes are kept by their input's sha256; null turns the cache off. */
  cacheDir?: string | null;
  /**
   * Brotli quality, 11 unless said. The server compresses models registered
   * while it runs at 5: model weights gain under 1% from 11 (3.30 against
   * 3.33 MB for 1.0.0) for 150x the CPU (11 s against 70 ms).
   */
  brotliQuality?: number;
}

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

export function compress(bytes: Buffer, encoding: Encoding, brotliQuality = 11): Promise<Buffer> {
  if (encoding === 'gzip') return gzip(bytes, { level: 9 });
  return brotli(bytes, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: brotliQuality,
      [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
}

/** Written to a temporary name (with its mtime set first) and renamed, so a reader never sees half a file or a fresh copy with the wrong mtime. */
async function writeAtomic(file: string, bytes: Uint8Array, times?: { atime: Date; mtime: Date }) {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, bytes);
  if (times) await utimes(tmp, times.atime, times.mtime);
  await rename(tmp, file);
}

async function compressCached(bytes: Buffer, encoding: Encoding, cacheDir: string | null, quality: number): Promise<Buffer> {
  if (!cacheDir) return compress(bytes, encoding, quality);
  // The parameters are part of the key, so changing them never serves old output.
  const key = createHash('sha256').update(bytes).digest('hex');
  const cached = path.join(cacheDir, `${key}${encoding === 'br' ? `.q${quality}w24` : '.l9'}${SUFFIX[encoding]}`);
  if (existsSync(cached)) return readFile(cached);
  const out = await compress(bytes, encoding, quality);
  mkdirSync(cacheDir, { recursive: true });
  await writeAtomic(cached, out);
  return out;
}

/** Removes `<file>.br` and `<file>.gz`. */
export async function removeVariants(file: string) {
  await Promise.all(Object.values(SUFFIX).map((s) => rm(file + s, { force: true })));
}

/**
 * Writes `<file>.br` and `<file>.gz` where each is smaller than the file;
 * old copies are removed first, so a failure never leaves a stale one.
 */
export async function precompressFile(file: string, opts: PrecompressOptions = {}): Promise<PrecompressResult> {
  const cacheDir = opts.cacheDir === undefined ? DEFAULT_CACHE_DIR : opts.cacheDir;
  await removeVariants(file);
  const st = await stat(file);
  const result: PrecompressResult = { file, bytes: st.size, variants: [] };
  if (ALREADY_COMPRESSED.test(file) || st.size === 0) return result;
  const bytes = await readFile(file);
  const quality = opts.brotliQuality ?? 11;
  const [br, gz] = await Promise.all([compressCached(bytes, 'br', cacheDir, quality), compressCached(bytes, 'gzip', cacheDir, quality)]);
  const keep: Array<[Encoding, Buffer]> = [];
  if (br.length < bytes.length) keep.push(['br', br]);
  if (gz.length < bytes.length && !keep.some(([, b]) => b.length === gz.length)) keep.push(['gzip', gz]);
  for (const [encoding, out] of keep) {
    const target = file + SUFFIX[encoding];
    await writeAtomic(target, out, st);
    result.variants.push({ encoding, file: target, bytes: out.length });
  }
  return result;
}

/** Every file under `dir` (not the copies themselves), compressed two at a time: the machines this runs on have 2 cores. */
export async function precompressTree(dir: string, opts: PrecompressOptions & { concurrency?: number } = {}): Promise<PrecompressResult[]> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && !/\.(br|gz|tmp)$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  const results: PrecompressResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      results.push(await precompressFile(file, opts));
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 2 }, worker));
  return results.sort((a, b) => a.file.localeCompare(b.file));
}

/**
 * True when `<file><suffix>` exists and was written from the file as it is
 * now: the same mtime within a millisecond (the copy's is set through a
 * Date, which Node rounds to whole milliseconds; the file's has nanoseconds).
 */
export function variantIsFresh(file: string, encoding: Encoding): boolean {
  try {
    return Math.abs(statSync(file + SUFFIX[encoding]).mtimeMs - statSync(file).mtimeMs) < 1;
  } catch {
    return false;
  }
}

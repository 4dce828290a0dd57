/**
 * Compressed copies of the registry's model files, made by the server
 * lazily, once. `npm run models:build` writes them for the versions it
 * builds, but versions are also registered while the server runs (the admin
 * API, the retraining pipeline), so build time alone cannot cover the
 * registry. On a request for a model file whose copies are missing, they
 * are written in the background (brotli at quality 5: under 0.1 s for a
 * 3.5 MB model, and under 1% bigger than 11; that request and any during
 * it get the plain file); a copy that no longer matches its file (another
 * mtime) is deleted before the request is served, so a stale copy is never
 * sent.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import { precompressFile, SUFFIX, variantIsFresh, type Encoding } from '../../node/precompress.ts';

export function registryVariants(log: FastifyBaseLogger) {
  const inFlight = new Map<string, Promise<unknown>>();
  const tried = new Set<string>();

  /** Call before serving `file`: drops stale copies and starts writing missing ones. */
  function prepare(file: string) {
    if (!existsSync(file)) {
      // The file is gone (a table removed, a version deleted): its copies are stale too, and would still be served.
      for (const suffix of Object.values(SUFFIX)) rmSync(file + suffix, { force: true });
      return;
    }
    if (inFlight.has(file)) return;
    let missing = false;
    for (const encoding of Object.keys(SUFFIX) as Encoding[]) {
      const copy = file + SUFFIX[encoding];
      if (variantIsFresh(file, encoding)) continue;
      if (existsSync(copy)) rmSync(copy, { force: true });
      missing = true;
    }
    // A file that compresses to nothing smaller has no copies: try each version of a file once, not on every request.
    const key = `${file}:${statSync(file).mtimeMs}`;
    if (!missing || tried.has(key)) return;
    tried.add(key);
    const job = precompressFile(file, { cacheDir: null, brotliQuality: 5 })
      .then((r) => log.info({ file, bytes: r.bytes, variants: r.variants.map((v) => `${v.encoding} ${v.bytes}`) }, 'model file precompressed'))
      .catch((err) => log.warn({ err, file }, 'could not precompress a model file; it is sent uncompressed'))
      .finally(() => inFlight.delete(file));
    inFlight.set(file, job);
  }

  /** Resolves when every compression started so far has finished (for tests and shutdown). */
  const settled = () => Promise.all([...inFlight.values()]);

  return { prepare, settled };
}

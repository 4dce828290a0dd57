/**
 * Small files that change while the server runs (the registry manifest is
 * rewritten by every registration and rollout step; the taxonomy is small
 * and served beside it): compressed on request rather than at build time,
 * where a copy written beside them could go stale. Each file is compressed
 * once per change (kept in memory by size and mtime), and its ETag is a hash
 * of the bytes sent, so every encoding has its own and If-None-Match gets
 * a 304. A Range header is ignored (a full 200 is a valid answer to it);
 * these files are a few KB.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { compress } from '../../node/precompress.ts';
import { negotiateEncoding, type ContentCoding } from './accept-encoding.ts';

interface Encoded {
  bytes: Buffer;
  etag: string;
}
interface Entry {
  key: string;
  variants: Map<ContentCoding, Encoded>;
}

const strongEtag = (bytes: Buffer) => `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;

/** One per route: holds the compressed copies of the file it serves. */
export function smallFileSender(file: string, contentType: string) {
  let entry: Entry | null = null;
  let building: Promise<Entry> | null = null;

  async function current(): Promise<Entry> {
    const st = await stat(file);
    const key = `${st.size}-${st.mtimeMs}`;
    if (entry?.key === key) return entry;
    building ??= (async () => {
      const identity = await readFile(file);
      const variants = new Map<ContentCoding, Encoded>([['identity', { bytes: identity, etag: strongEtag(identity) }]]);
      for (const coding of ['br', 'gzip'] as const) {
        const bytes = await compress(identity, coding);
        if (bytes.length < identity.length) variants.set(coding, { bytes, etag: strongEtag(bytes) });
      }
      return { key, variants };
    })().finally(() => {
      building = null;
    });
    const built = await building;
    // A build of the file as it was before may have been in flight: build again for this one.
    if (built.key !== key) return current();
    entry = built;
    return built;
  }

  return async function send(req: FastifyRequest, reply: FastifyReply) {
    const { variants } = await current();
    const available = (['br', 'gzip'] as const).filter((c) => variants.has(c));
    const coding = negotiateEncoding(req.headers['accept-encoding'], available);
    const chosen = variants.get(coding)!;
    reply.header('Content-Type', contentType).header('Cache-Control', 'no-cache').header('Vary', 'Accept-Encoding').header('ETag', chosen.etag);
    if (coding !== 'identity') reply.header('Content-Encoding', coding);
    const inm = req.headers['if-none-match'];
    if (inm && (inm.trim() === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === chosen.etag))) return reply.code(304).send();
    return reply.send(chosen.bytes);
  };
}

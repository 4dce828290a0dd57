/**
 * Compresses the JSON API's replies (brotli, else gzip) for clients that
 * accept it: Lighthouse found GET /v1/models sent uncompressed. Added as a
 * hook inside the /v1 plugin only, so the static files, which
 * server/routes/static.ts already sends precompressed, are never touched.
 * Small replies go as they are: the coding's overhead would outweigh it.
 */
import type { FastifyInstance } from 'fastify';
import { promisify } from 'node:util';
import { brotliCompress, gzip, constants as zlib } from 'node:zlib';
import { negotiateEncoding } from '../accept-encoding.ts';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);
/** Below this many bytes a reply is sent uncompressed (one TCP packet either way). */
export const COMPRESS_MIN_BYTES = 1024;

export function compressJson(app: FastifyInstance) {
  app.addHook('onSend', async (req, reply, payload) => {
    const vary = String(reply.getHeader('vary') ?? '');
    if (!/accept-encoding/i.test(vary)) reply.header('Vary', vary ? `${vary}, Accept-Encoding` : 'Accept-Encoding');
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload; // streams: not ours
    if (reply.getHeader('content-encoding')) return payload;
    if (!String(reply.getHeader('content-type') ?? '').startsWith('application/json')) return payload;
    if (Buffer.byteLength(payload) < COMPRESS_MIN_BYTES) return payload;
    const coding = negotiateEncoding(req.headers['accept-encoding']);
    if (coding === 'identity') return payload;
    // Quality 5 for brotli: replies are made per request, so speed matters more than the last few bytes.
    const body = coding === 'br' ? await brotli(payload, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } }) : await gz(payload);
    reply.header('Content-Encoding', coding);
    reply.removeHeader('content-length');
    return body;
  });
}

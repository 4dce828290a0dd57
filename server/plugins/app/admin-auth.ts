/**
 * Bearer-token check for /v1/admin/. With no ADMIN_TOKEN configured the
 * admin API is off (503) rather than open. Tokens are compared through their
 * sha256 with timingSafeEqual, so the time taken says nothing about how much
 * of a guess was right.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, FastifyReply } from 'fastify';
import { HttpError } from './errors.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function adminAuth(token: string | null) {
  const want = token ? digest(token) : null;
  return async function checkAdmin(req: FastifyRequest, reply: FastifyReply) {
    if (!want) throw new HttpError(503, 'admin API disabled', 'admin API disabled: set ADMIN_TOKEN');
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      reply.header('WWW-Authenticate', 'Bearer realm="wildsight-admin"');
      throw new HttpError(401, 'unauthorized', header ? 'the Authorization header must be "Bearer <token>"' : 'this admin route needs an Authorization: Bearer <token> header');
    }
    if (!timingSafeEqual(digest(match[1]), want)) {
      reply.header('WWW-Authenticate', 'Bearer realm="wildsight-admin", error="invalid_token"');
      throw new HttpError(401, 'unauthorized', 'the admin token is wrong');
    }
  };
}

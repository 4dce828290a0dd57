/**
 * Fastify's serializer writes only what a route's response schema names:
 * a property the schema forgets is dropped from the reply without a word,
 * and an Integer field rounds a fraction. These hooks make that loud in the
 * route tests: every JSON reply built from an object must read back as the
 * handler's object did through plain JSON.stringify, or the request fails
 * with a 500 naming the route.
 */
import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance } from 'fastify';

const RAW = Symbol('reply before serialization');

export function checkRepliesAgainstSchemas(app: FastifyInstance) {
  app.addHook('preSerialization', async (_req, reply, payload) => {
    (reply as unknown as Record<symbol, unknown>)[RAW] = payload;
    return payload;
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const raw = (reply as unknown as Record<symbol, unknown>)[RAW];
    // Checked once: the error reply a failed check becomes is not the handler's object.
    delete (reply as unknown as Record<symbol, unknown>)[RAW];
    if (raw === undefined || typeof payload !== 'string') return payload;
    const expected = JSON.parse(JSON.stringify(raw)) as unknown;
    const sent = JSON.parse(payload) as unknown;
    if (!isDeepStrictEqual(sent, expected)) {
      const message = `the reply of ${req.method} ${req.routeOptions.url} (${reply.statusCode}) differs from what the handler returned: its response schema is incomplete.\nsent:     ${payload.slice(0, 2000)}\nexpected: ${JSON.stringify(expected).slice(0, 2000)}`;
      console.error(message);
      throw new Error(message);
    }
    return payload;
  });
}

/**
 * A Fastify app whose every reply is cross-origin isolated (COOP
 * same-origin, COEP require-corp): pages that run a WASM runtime on more
 * than one thread need SharedArrayBuffer, which only such pages get. For
 * the pages the harness and the benchmarks serve to Chromium.
 */
import Fastify, { type FastifyInstance } from 'fastify';

export function isolatedApp(): FastifyInstance {
  const app = Fastify({ logger: false });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Cross-Origin-Embedder-Policy', 'require-corp');
  });
  return app;
}

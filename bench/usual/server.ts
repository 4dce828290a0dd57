/**
 * Serves the "usual way" page: onnxruntime-web's own dist folder, one model
 * file, and a plain HTML page, with no isolation headers (as a typical site is).
 */
import Fastify from 'fastify';
import fastifyStatic from '@fastify/static';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../node/paths.ts';

export async function serveUsual(modelBytes: Uint8Array) {
  const app = Fastify({ logger: false });
  await app.register(fastifyStatic, { root: path.join(REPO_ROOT, 'node_modules', 'onnxruntime-web', 'dist'), prefix: '/ortdist/' });
  const page = readFileSync(path.join(REPO_ROOT, 'bench', 'usual', 'page.html'), 'utf8');
  app.get('/', (_req, reply) => reply.type('text/html').send(page));
  app.get('/model.onnx', (_req, reply) => reply.type('application/octet-stream').send(Buffer.from(modelBytes)));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}/`, close: () => app.close() };
}

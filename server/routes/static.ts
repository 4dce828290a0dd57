/**
 * The built PWA and the model registry files. Hashed assets are immutable;
 * the HTML, manifest and model files are revalidated so a new version is
 * seen at once.
 */
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { SemverSchema } from '../../core/api/common.ts';

/** /<version>/model.onnx, the version as the API spells it (the pattern without its anchors). */
const MODEL_FILE = new RegExp(`^/${SemverSchema.pattern!.replace(/^\^|\$$/g, '')}/model\\.onnx$`);

export default async function staticFiles(app: FastifyInstance, opts: { distDir: string; registryDir: string; taxonomyFile: string }) {
  await app.register(fastifyStatic, {
    root: opts.distDir,
    setHeaders(res, file) {
      res.header('Cache-Control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  await app.register(fastifyStatic, {
    root: opts.registryDir,
    prefix: '/models/registry/',
    decorateReply: false,
    allowedPath: (p) => p === '/manifest.json' || MODEL_FILE.test(p),
    setHeaders(res) { res.header('Cache-Control', 'no-cache'); },
  });
  // Sent as the file it is (not serialized); the schema only documents it.
  const taxonomy = Type.Object({ version: Type.String(), taxa: Type.Array(Type.Object({ id: Type.String() }, { additionalProperties: true })) }, { additionalProperties: true, description: 'models/taxonomy.json as committed (core/taxonomy.ts Taxonomy)' });
  app.get('/models/taxonomy.json', { schema: { response: { 200: taxonomy } } }, (_req, reply) => reply.header('Cache-Control', 'no-cache').sendFile(path.basename(opts.taxonomyFile), path.dirname(opts.taxonomyFile)));

  // Client-side routes get the app shell; anything else that is missing is a plain 404.
  app.setNotFoundHandler((req, reply) => {
    const wantsPage = req.method === 'GET' && !req.url.startsWith('/v1/') && !path.extname(req.url.split('?')[0]) && (req.headers.accept ?? '').includes('text/html');
    if (wantsPage) return reply.header('Cache-Control', 'no-cache').sendFile('index.html', opts.distDir);
    return reply.code(404).send({ error: 'not found', message: `no route for ${req.method} ${req.url.split('?')[0]}` });
  });
}

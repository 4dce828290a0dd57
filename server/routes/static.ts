/**
 * The built PWA and the model registry files. Hashed assets are immutable;
 * the HTML, manifest and model files are revalidated so a new version is
 * seen at once.
 *
 * Compressed delivery: every file goes out as brotli or gzip when the client
 * accepts it and that is smaller. dist/ and the model files are sent from
 * the `.br`/`.gz` copies beside them (written by `npm run build`,
 * `npm run models:build`, or lazily by registry-variants.ts), through
 * @fastify/static's `preCompressed`, which also sends `Vary: Accept-Encoding`
 * and gives each copy its own ETag (size + mtime). The registry manifest and
 * the taxonomy change while the server runs, so they are compressed on
 * request (small-file.ts).
 */
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { SemverSchema } from '../../core/api/common.ts';
import { registryVariants } from './registry-variants.ts';
import { smallFileSender } from './small-file.ts';

/**
 * /<version>/model.onnx, /<version>/head-pack.bin (node/head-pack.ts) and
 * /<version>/occurrence.json (the location prior's cell-by-month table,
 * pipeline/occurrence-table.ts; absent for versions built without one: 404),
 * the version as the API spells it (the pattern without its anchors), and
 * the species packs' /packs/<id>/model.onnx (node/tflite/packs.ts) and
 * their retrained versions' /packs/<id>/<version>/model.onnx (node/pack-registry.ts).
 */
const SEMVER = SemverSchema.pattern!.replace(/^\^|\$$/g, '');
const MODEL_PATH = new RegExp(`^/(?:${SEMVER}/(?:model\\.onnx|head-pack\\.bin|occurrence\\.json)|packs/[a-z0-9-]+/(?:${SEMVER}/)?model\\.onnx)$`);

export default async function staticFiles(app: FastifyInstance, opts: { distDir: string; registryDir: string; taxonomyFile: string }) {
  // A Range request gets the plain file's bytes (206 over the identity
  // representation): a range of a compressed copy is useless to a client
  // resuming or seeking in the file. These routes only serve files, so the
  // header is dropped before @fastify/static chooses a copy.
  app.addHook('onRequest', async (req) => {
    if (req.headers.range) delete req.headers['accept-encoding'];
  });

  await app.register(fastifyStatic, {
    root: opts.distDir,
    preCompressed: true,
    setHeaders(res, file) {
      res.header('Cache-Control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });

  const variants = registryVariants(app.log);
  app.addHook('onClose', async () => {
    await variants.settled();
  });
  await app.register(async (registry) => {
    registry.addHook('onRequest', async (req) => {
      const rel = req.url.split('?')[0].slice('/models/registry'.length);
      if (MODEL_PATH.test(rel)) variants.prepare(path.join(opts.registryDir, rel));
    });
    await registry.register(fastifyStatic, {
      root: opts.registryDir,
      prefix: '/models/registry/',
      decorateReply: false,
      preCompressed: true,
      allowedPath: (p) => MODEL_PATH.test(p),
      setHeaders(res) {
        res.header('Cache-Control', 'no-cache');
      },
    });
  });
  // Sent as the files they are (compressed when asked; never serialized): the schemas only document them.
  const open = (description: string) => Type.Object({}, { additionalProperties: true, description });
  app.get(
    '/models/registry/manifest.json',
    { schema: { response: { 200: open('the model registry manifest (core/manifest.ts ManifestSchema)') } } },
    smallFileSender(path.join(opts.registryDir, 'manifest.json'), 'application/json; charset=utf-8'),
  );
  app.get(
    '/models/taxonomy.json',
    { schema: { response: { 200: open('models/taxonomy.json as committed (core/taxonomy.ts Taxonomy)') } } },
    smallFileSender(opts.taxonomyFile, 'application/json; charset=utf-8'),
  );

  // Client-side routes get the app shell; anything else that is missing is a plain 404.
  app.setNotFoundHandler((req, reply) => {
    const wantsPage = req.method === 'GET' && !req.url.startsWith('/v1/') && !path.extname(req.url.split('?')[0]) && (req.headers.accept ?? '').includes('text/html');
    if (wantsPage) return reply.header('Cache-Control', 'no-cache').sendFile('index.html', opts.distDir);
    return reply.code(404).send({ error: 'not found', message: `no route for ${req.method} ${req.url.split('?')[0]}` });
  });
}

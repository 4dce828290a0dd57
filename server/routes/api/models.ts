/** GET /v1/models: the registry manifest. */
import type { FastifyInstance } from 'fastify';

export default async function models(app: FastifyInstance) {
  app.get('/v1/models', async (_req, reply) => {
    const manifest = app.registry.manifest();
    if (!manifest) return reply.code(503).send({ error: 'no model registry yet', message: 'run `npm run models:build`' });
    return manifest;
  });
}

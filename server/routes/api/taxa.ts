/** GET /v1/taxa: the taxa a correction may name (launch taxa, then accepted proposals). */
import type { FastifyInstance } from 'fastify';

export default async function taxa(app: FastifyInstance) {
  app.get('/v1/taxa', async (_req, reply) => {
    reply.header('Cache-Control', 'no-cache');
    return app.taxa.list();
  });
}

/** GET /metrics: Prometheus text format. */
import type { FastifyInstance } from 'fastify';

export default async function metricsRoute(app: FastifyInstance) {
  app.get('/metrics', async (_req, reply) => {
    reply.type(app.metrics.registry.contentType);
    return app.metrics.registry.metrics();
  });
}

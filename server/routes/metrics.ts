/** GET /metrics: Prometheus text format. */
import type { FastifyInstance } from 'fastify';

export default async function metricsRoute(app: FastifyInstance) {
  // Not JSON: the Prometheus text exposition format, sent as prom-client writes it.
  app.get('/metrics', { schema: { response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } } } }, async (_req, reply) => {
    reply.type(app.metrics.registry.contentType);
    return app.metrics.registry.metrics();
  });
}

/**
 * Prometheus metrics (GET /metrics): request count and latency by route and
 * status, and what happened to events (stored, duplicates, rejects by
 * reason). Each app has its own registry, so several apps in one process
 * (the tests) do not collide.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface AppMetrics {
  registry: Registry;
  eventsStored: Counter<'type'>;
  eventsDuplicate: Counter<'type'>;
  eventsRejected: Counter<'reason'>;
  storeBatchSeconds: Histogram<'backend'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: AppMetrics;
  }
}

export default fp(
  async (app: FastifyInstance) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered', labelNames: ['method', 'route', 'status_code'] as const, registers: [registry] });
    const latency = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request to response',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    const metrics: AppMetrics = {
      registry,
      eventsStored: new Counter({ name: 'wildsight_events_stored_total', help: 'Events written to the feedback store', labelNames: ['type'] as const, registers: [registry] }),
      eventsDuplicate: new Counter({ name: 'wildsight_events_duplicate_total', help: 'Valid events that were already stored (resent batches)', labelNames: ['type'] as const, registers: [registry] }),
      eventsRejected: new Counter({ name: 'wildsight_events_rejected_total', help: 'Events refused, by reason', labelNames: ['reason'] as const, registers: [registry] }),
      storeBatchSeconds: new Histogram({
        name: 'wildsight_store_batch_seconds',
        help: 'Time to store one batch (one transaction)',
        labelNames: ['backend'] as const,
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
        registers: [registry],
      }),
    };
    app.decorate('metrics', metrics);

    app.addHook('onResponse', async (req, reply) => {
      // The route pattern, never the raw URL: one series per route, whatever clients send.
      const route = req.routeOptions.url ?? 'unmatched';
      const labels = { method: req.method, route, status_code: String(reply.statusCode) };
      requests.inc(labels);
      latency.observe(labels, reply.elapsedTime / 1000);
    });
  },
  { name: 'metrics' },
);

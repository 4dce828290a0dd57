/**
 * Monitoring for the dashboard (admin token required):
 * - GET  /v1/admin/monitoring/metrics?from=&to=&bucket=day|hour&modelVersion=
 *        per version and bucket: identifications, abstain and correction
 *        rates, confidence histogram, predicted taxa, latency p50/p95 per
 *        backend; a per-version summary; the most-corrected pairs
 * - GET  /v1/admin/monitoring/drift?from=    PSI / JS per version and day against the reference, with thresholds
 * - POST /v1/admin/monitoring/drift/run      scores drift now and stores the alerts (what the job does)
 * - GET  /v1/admin/monitoring/alerts?level=&modelVersion=
 * - PUT  /v1/admin/monitoring/reference/:modelVersion { from, to }   chooses the reference window (days, inclusive)
 * - DELETE /v1/admin/monitoring/reference/:modelVersion              back to the version's first days
 * - GET  /v1/admin/monitoring/quality?from=&to=   the data-quality report per day
 * Days are YYYY-MM-DD (UTC); `from`/`to` are inclusive and default to the last 30 days.
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import {
  AlertsQuerySchema,
  AlertsReplySchema,
  DayWindowSchema as ReferenceBody,
  DriftReplySchema,
  DriftRunReplySchema,
  MetricsQuerySchema,
  MetricsReplySchema,
  ModelVersionParamsSchema as VersionParams,
  QualityReplySchema,
  RangeQuerySchema as RangeSchema,
  ReferenceSetReplySchema,
  ReferencesReplySchema,
  type DriftResponse,
  type MetricsResponse,
  type QualityResponse,
} from '../../../../core/api/monitoring.ts';
import { addDays } from '../../../../core/drift-series.ts';
import { HttpError } from '../../../plugins/app/errors.ts';
import { computeDrift, getReferences, listAlerts, metricsReport, monitoringDb, qualityDays, setReference } from '../../../storage/monitoring-store.ts';

const DEFAULT_DAYS = 30;

function range(q: { from?: string; to?: string }) {
  const to = q.to ?? new Date().toISOString().slice(0, 10);
  const from = q.from ?? addDays(to, -(DEFAULT_DAYS - 1));
  if (from > to) throw new HttpError(400, 'bad request', `from (${from}) is after to (${to})`);
  return { from, to };
}

export default async function monitoring(app: FastifyInstance) {
  const db = () => monitoringDb(app.store);

  app.get<{ Querystring: Static<typeof MetricsQuerySchema> }>(
    '/v1/admin/monitoring/metrics',
    { schema: { querystring: MetricsQuerySchema, response: { 200: MetricsReplySchema } } },
    async (req): Promise<MetricsResponse> => {
      const { from, to } = range(req.query);
      const report = await metricsReport(db(), { from: `${from}T00:00:00.000Z`, to: `${addDays(to, 1)}T00:00:00.000Z`, bucket: req.query.bucket, modelVersion: req.query.modelVersion });
      return { from, to, ...report };
    },
  );

  app.get<{ Querystring: Static<typeof RangeSchema> }>(
    '/v1/admin/monitoring/drift',
    { schema: { querystring: RangeSchema, response: { 200: DriftReplySchema } } },
    async (req): Promise<DriftResponse> => {
      const { from, to } = range(req.query);
      const c = app.monitoring.config;
      const result = await computeDrift(db(), { thresholds: c.thresholds, referenceDays: c.referenceDays, minEvents: c.minEvents, fromDay: from });
      return {
        from,
        to,
        thresholds: c.thresholds,
        minEvents: c.minEvents,
        referenceDays: c.referenceDays,
        references: result.references,
        points: result.points.filter((p) => p.day <= to),
        alerts: await listAlerts(db(), {}),
      };
    },
  );

  app.post('/v1/admin/monitoring/drift/run', { schema: { response: { 200: DriftRunReplySchema } } }, async () => {
    const result = await app.monitoring.runDrift();
    return { references: result.references, points: result.points.length, alerts: await listAlerts(db(), { level: 'alert' }) };
  });

  app.get<{ Querystring: Static<typeof AlertsQuerySchema> }>('/v1/admin/monitoring/alerts', { schema: { querystring: AlertsQuerySchema, response: { 200: AlertsReplySchema } } }, async (req) => ({
    thresholds: app.monitoring.config.thresholds,
    items: await listAlerts(db(), req.query),
  }));

  app.get('/v1/admin/monitoring/reference', { schema: { response: { 200: ReferencesReplySchema } } }, async () => Object.fromEntries(await getReferences(db())));

  app.put<{ Params: Static<typeof VersionParams>; Body: Static<typeof ReferenceBody> }>(
    '/v1/admin/monitoring/reference/:modelVersion',
    {
      schema: { params: VersionParams, body: ReferenceBody, response: { 200: ReferenceSetReplySchema } },
    },
    async (req) => {
      if (req.body.from > req.body.to) throw new HttpError(400, 'bad request', 'the reference window ends before it starts');
      await setReference(db(), req.params.modelVersion, req.body);
      return { modelVersion: req.params.modelVersion, reference: req.body };
    },
  );

  app.delete<{ Params: Static<typeof VersionParams> }>(
    '/v1/admin/monitoring/reference/:modelVersion',
    { schema: { params: VersionParams, response: { 200: ReferenceSetReplySchema } } },
    async (req) => {
      await setReference(db(), req.params.modelVersion, null);
      return { modelVersion: req.params.modelVersion, reference: null };
    },
  );

  app.get<{ Querystring: Static<typeof RangeSchema> }>(
    '/v1/admin/monitoring/quality',
    { schema: { querystring: RangeSchema, response: { 200: QualityReplySchema } } },
    async (req): Promise<QualityResponse> => {
      const { from, to } = range(req.query);
      return { from, to, errorRateDefinition: 'refused events / (stored + refused + duplicate) events received that day', days: await qualityDays(db(), { fromDay: from, toDay: to }) };
    },
  );
}

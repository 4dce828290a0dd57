/**
 * GET /v1/admin/monitoring/packs?days=30&to=YYYY-MM-DD (admin token): per
 * species-pack id and version, per day over the last `days` days up to `to`
 * (default today, UTC): runs, share routed by the user's tap, mean and
 * median top-1 confidence, correction rate with its Wilson interval, top
 * labels; and one row per version over the range. Read from the pack
 * rollups only (server/storage/pack-rollup-reads.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { PackMetricsQuerySchema, PackMetricsReplySchema, type PackMetricsResponse } from '../../../../core/api/pack-monitoring.ts';
import { addDays } from '../../../../core/drift-series.ts';
import { monitoringDb } from '../../../storage/monitoring-store.ts';
import { packMetricsReport } from '../../../storage/pack-rollup-reads.ts';

export default async function monitoringPacks(app: FastifyInstance) {
  app.get<{ Querystring: Static<typeof PackMetricsQuerySchema> }>(
    '/v1/admin/monitoring/packs',
    { schema: { querystring: PackMetricsQuerySchema, response: { 200: PackMetricsReplySchema } } },
    async (req): Promise<PackMetricsResponse> => {
      const to = req.query.to ?? new Date().toISOString().slice(0, 10);
      const from = addDays(to, -(req.query.days - 1));
      return { from, to, ...(await packMetricsReport(monitoringDb(app.store), { fromDay: from, toDay: to })) };
    },
  );
}

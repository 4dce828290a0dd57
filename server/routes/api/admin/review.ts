/**
 * The review queue (admin token required):
 * - GET  /v1/admin/review?status=pending&limit=   corrections to decide, oldest first, with what the model
 *        answered, how many installs gave the same label, and conflicting labels for the same identification
 * - POST /v1/admin/review/:eventId { decision: "accept" | "reject" | "pending" }
 * - POST /v1/admin/review/auto-accept             applies the two-installs rule now (it also runs after
 *        each batch with corrections and on the monitoring job's interval)
 * Only accepted corrections reach retraining (pipeline/feedback-input.ts), and an accepted
 * proposed name joins GET /v1/taxa.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { CorrectionStatusSchema } from '../../../storage/types.ts';
import { HttpError } from '../../../plugins/app/errors.ts';
import { monitoringDb, reviewQueue } from '../../../storage/monitoring-store.ts';

const QuerySchema = Type.Object({
  status: Type.Optional(CorrectionStatusSchema),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }),
}, { additionalProperties: false });
const ParamsSchema = Type.Object({ eventId: Type.String({ minLength: 1, maxLength: 64 }) });
const DecisionSchema = Type.Object({
  decision: Type.Union([Type.Literal('accept'), Type.Literal('reject'), Type.Literal('pending')]),
}, { additionalProperties: false });
const STATUS = { accept: 'accepted', reject: 'rejected', pending: 'pending' } as const;

export default async function review(app: FastifyInstance) {
  app.get<{ Querystring: Static<typeof QuerySchema> }>('/v1/admin/review', { schema: { querystring: QuerySchema } }, async (req) => ({
    items: await reviewQueue(monitoringDb(app.store), { status: req.query.status ?? 'pending', limit: req.query.limit }),
  }));

  app.post<{ Params: Static<typeof ParamsSchema>; Body: Static<typeof DecisionSchema> }>('/v1/admin/review/:eventId', {
    schema: { params: ParamsSchema, body: DecisionSchema },
  }, async (req) => {
    const status = STATUS[req.body.decision];
    const found = await app.store.setCorrectionStatus(req.params.eventId, status);
    if (!found) throw new HttpError(404, 'not found', `no correction ${req.params.eventId}`);
    app.taxa.invalidate();
    return { eventId: req.params.eventId.toLowerCase(), status };
  });

  app.post('/v1/admin/review/auto-accept', async () => ({ accepted: await app.monitoring.autoAccept() }));
}

/**
 * The review queue (admin token required):
 * - GET  /v1/admin/review?status=pending&limit=&after=   one page of corrections to decide, oldest first, with what the model
 *        answered, how many installs gave the same label, and conflicting labels for the same identification
 * - POST /v1/admin/review/:eventId { decision: "accept" | "reject" | "pending" }
 * - POST /v1/admin/review/auto-accept             applies the independent-installs rule now (it also runs after
 *        each batch with corrections and on the monitoring job's interval)
 * Only accepted corrections that are evidence (grounded, within their install's cap) reach
 * retraining (pipeline/feedback-input.ts), and a proposed name joins GET /v1/taxa only when
 * a reviewer accepted it; accepting a correction that is not evidence is refused (409).
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { CorrectionStatus } from '../../../storage/types.ts';
import { DecisionReplySchema, EventIdParamsSchema as ParamsSchema } from '../../../../core/api/feedback.ts';
import { AutoAcceptReplySchema, DecisionBodySchema as DecisionSchema, ReviewQuerySchema as QuerySchema, ReviewQueueReplySchema } from '../../../../core/api/review.ts';
import { HttpError } from '../../../plugins/app/errors.ts';
import { monitoringDb, reviewQueue } from '../../../storage/monitoring-store.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

const STATUS = { accept: 'accepted', reject: 'rejected', pending: 'pending' } as const;

/** A reviewer's decision; accepting needs a grounded correction within its install's cap. */
export async function decideCorrection(app: FastifyInstance, eventId: string, status: CorrectionStatus) {
  const row = await monitoringDb(app.store).selectFrom('corrections').select(['grounding', 'counted']).where('event_id', '=', eventId.toLowerCase()).executeTakeFirst();
  if (!row) throw new HttpError(404, 'not found', `no correction ${eventId}`);
  if (status === 'accepted' && row.grounding !== 'grounded') {
    throw new HttpError(409, 'not evidence', `correction ${eventId} does not cite a stored identification of its own install (${row.grounding}); it cannot be accepted`);
  }
  if (status === 'accepted' && Number(row.counted) !== 1) {
    throw new HttpError(409, 'not evidence', `correction ${eventId} arrived after its install's daily cap; it cannot be accepted`);
  }
  await app.store.setCorrectionStatus(eventId, status, 'reviewer');
  // An accepted proposed name is a taxon from now on (and a rejected one no longer is).
  app.taxa.invalidate();
  return { eventId: eventId.toLowerCase(), status };
}

export default async function review(app: FastifyInstance) {
  app.get<{ Querystring: Static<typeof QuerySchema> }>('/v1/admin/review', { schema: { querystring: QuerySchema, response: { 200: ReviewQueueReplySchema } } }, async (req) => {
    const page = await reviewQueue(monitoringDb(app.store), { status: req.query.status ?? 'pending', limit: req.query.limit, after: decodeCursor(req.query.after) });
    return { items: page.items, next: encodeCursor(page.next) };
  });

  app.post<{ Params: Static<typeof ParamsSchema>; Body: Static<typeof DecisionSchema> }>(
    '/v1/admin/review/:eventId',
    {
      schema: { params: ParamsSchema, body: DecisionSchema, response: { 200: DecisionReplySchema } },
    },
    async (req) => decideCorrection(app, req.params.eventId, STATUS[req.body.decision]),
  );

  app.post('/v1/admin/review/auto-accept', { schema: { response: { 200: AutoAcceptReplySchema } } }, async () => ({ accepted: await app.monitoring.autoAccept() }));
}

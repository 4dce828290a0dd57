/** GET /v1/admin/events?type=&limit=&after=: what arrived, oldest first (payloads without embeddings and photos). */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { EventsPageSchema, EventsQuerySchema } from '../../../../core/api/feedback.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

export default async function adminEvents(app: FastifyInstance) {
  app.get<{ Querystring: Static<typeof EventsQuerySchema> }>('/v1/admin/events', { schema: { querystring: EventsQuerySchema, response: { 200: EventsPageSchema } } }, async (req) => {
    const page = await app.store.listEvents({ type: req.query.type, limit: req.query.limit, after: decodeCursor(req.query.after) });
    return { items: page.items, next: encodeCursor(page.next) };
  });
}

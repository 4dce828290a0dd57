/** GET /v1/admin/events?type=&limit=&after=: what arrived, oldest first (payloads without embeddings and photos). */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { decodeCursor, encodeCursor } from './cursor.ts';

export const EventsQuerySchema = Type.Object({
  type: Type.Optional(Type.Union([Type.Literal('identification'), Type.Literal('correction'), Type.Literal('model_status')])),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  after: Type.Optional(Type.String({ maxLength: 400 })),
}, { additionalProperties: false });

export default async function adminEvents(app: FastifyInstance) {
  app.get<{ Querystring: Static<typeof EventsQuerySchema> }>('/v1/admin/events', { schema: { querystring: EventsQuerySchema } }, async (req) => {
    const page = await app.store.listEvents({ type: req.query.type, limit: req.query.limit, after: decodeCursor(req.query.after) });
    return { items: page.items, next: encodeCursor(page.next) };
  });
}

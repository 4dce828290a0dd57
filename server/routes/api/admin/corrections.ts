/**
 * Corrections for reviewers and for training:
 * - GET  /v1/admin/corrections?status=&limit=&after=  one page, oldest first, without embeddings
 * - GET  /v1/admin/corrections/export                 every correction with its embedding, as NDJSON
 * - GET  /v1/admin/corrections/:eventId/photo         the opt-in photo, if any
 * - PATCH /v1/admin/corrections/:eventId { status }   a reviewer's decision (as POST /v1/admin/review/:eventId)
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { CorrectionStatusSchema } from '../../../storage/types.ts';
import { HttpError } from '../../../plugins/app/errors.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { decideCorrection } from './review.ts';

export const ListQuerySchema = Type.Object({
  status: Type.Optional(CorrectionStatusSchema),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  after: Type.Optional(Type.String({ maxLength: 400 })),
}, { additionalProperties: false });
const ParamsSchema = Type.Object({ eventId: Type.String({ minLength: 1, maxLength: 64 }) });
const StatusBodySchema = Type.Object({ status: CorrectionStatusSchema }, { additionalProperties: false });

export default async function corrections(app: FastifyInstance) {
  app.get<{ Querystring: Static<typeof ListQuerySchema> }>('/v1/admin/corrections', { schema: { querystring: ListQuerySchema } }, async (req) => {
    const page = await app.store.listCorrections({ status: req.query.status, limit: req.query.limit, after: decodeCursor(req.query.after) });
    return { items: page.items, next: encodeCursor(page.next) };
  });

  app.get('/v1/admin/corrections/export', async (req, reply) => {
    const source = app.store.exportCorrections();
    async function* lines() {
      for await (const c of source) yield `${JSON.stringify(c)}\n`;
    }
    const stream = Readable.from(lines());
    // Once the first line is out the status cannot change; a failure after
    // that ends the stream early and is logged, and the client sees a
    // response that did not end in a newline.
    stream.on('error', (err) => req.log.error({ err }, 'corrections export failed'));
    reply.header('Content-Disposition', 'attachment; filename="corrections.ndjson"');
    return reply.type('application/x-ndjson; charset=utf-8').send(stream);
  });

  app.get<{ Params: Static<typeof ParamsSchema> }>('/v1/admin/corrections/:eventId/photo', { schema: { params: ParamsSchema } }, async (req, reply) => {
    const photo = await app.store.getPhoto(req.params.eventId);
    if (!photo) throw new HttpError(404, 'not found', `no photo for correction ${req.params.eventId}`);
    reply.header('Cache-Control', 'private, no-store').header('ETag', `"${photo.sha256}"`);
    return reply.type(photo.mimeType).send(Buffer.from(photo.bytes));
  });

  app.patch<{ Params: Static<typeof ParamsSchema>; Body: Static<typeof StatusBodySchema> }>('/v1/admin/corrections/:eventId', {
    schema: { params: ParamsSchema, body: StatusBodySchema },
  }, async (req) => decideCorrection(app, req.params.eventId, req.body.status));
}

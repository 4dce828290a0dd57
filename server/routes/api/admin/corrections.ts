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
import { CorrectionsPageSchema, CorrectionsQuerySchema as ListQuerySchema, DecisionReplySchema, EventIdParamsSchema as ParamsSchema, StatusBodySchema } from '../../../../core/api/feedback.ts';
import { HttpError } from '../../../plugins/app/errors.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { decideCorrection } from './review.ts';

export default async function corrections(app: FastifyInstance) {
  app.get<{ Querystring: Static<typeof ListQuerySchema> }>('/v1/admin/corrections', { schema: { querystring: ListQuerySchema, response: { 200: CorrectionsPageSchema } } }, async (req) => {
    const page = await app.store.listCorrections({ status: req.query.status, limit: req.query.limit, after: decodeCursor(req.query.after) });
    return { items: page.items, next: encodeCursor(page.next) };
  });

  // Not JSON: one CorrectionExport (core/api/feedback.ts) per line, streamed.
  app.get(
    '/v1/admin/corrections/export',
    { schema: { response: { 200: { description: 'one CorrectionExport JSON object per line', content: { 'application/x-ndjson': { schema: Type.String() } } } } } },
    async (req, reply) => {
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
    },
  );

  app.get<{ Params: Static<typeof ParamsSchema> }>(
    '/v1/admin/corrections/:eventId/photo',
    { schema: { params: ParamsSchema, response: { 200: { description: 'the opt-in photo', content: { 'image/jpeg': { schema: Type.String({ format: 'binary' }) } } } } } },
    async (req, reply) => {
      const photo = await app.store.getPhoto(req.params.eventId);
      if (!photo) throw new HttpError(404, 'not found', `no photo for correction ${req.params.eventId}`);
      reply.header('Cache-Control', 'private, no-store').header('ETag', `"${photo.sha256}"`);
      return reply.type(photo.mimeType).send(Buffer.from(photo.bytes));
    },
  );

  app.patch<{ Params: Static<typeof ParamsSchema>; Body: Static<typeof StatusBodySchema> }>(
    '/v1/admin/corrections/:eventId',
    {
      schema: { params: ParamsSchema, body: StatusBodySchema, response: { 200: DecisionReplySchema } },
    },
    async (req) => decideCorrection(app, req.params.eventId, req.body.status),
  );
}

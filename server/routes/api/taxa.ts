/** GET /v1/taxa: the taxa a correction may name (launch taxa, then accepted proposals). */
import type { FastifyInstance } from 'fastify';
import { TaxaResponseSchema, type TaxaResponse } from '../../../core/api/taxa.ts';

export default async function taxa(app: FastifyInstance) {
  app.get('/v1/taxa', { schema: { response: { 200: TaxaResponseSchema } } }, async (_req, reply): Promise<TaxaResponse> => {
    reply.header('Cache-Control', 'no-cache');
    return app.taxa.list();
  });
}

/** GET /v1/openapi.json: the OpenAPI document of every route (plugins/external/openapi.ts). */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';

// Open on purpose: the document is @fastify/swagger's to shape; this only names its version field.
const OpenApiDocumentSchema = Type.Object({ openapi: Type.String() }, { additionalProperties: true });

export default async function openapi(app: FastifyInstance) {
  app.get('/v1/openapi.json', { schema: { response: { 200: OpenApiDocumentSchema } } }, async (_req, reply) => {
    reply.header('Cache-Control', 'no-cache');
    return app.swagger();
  });
}

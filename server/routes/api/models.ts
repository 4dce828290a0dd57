/**
 * GET /v1/models: the registry manifest with each version's rollout status
 * (candidate, canary, active, retired), the running canary (version,
 * percentage, its id for the sticky bucket, control version) and the shadow
 * candidate. The shape is the manifest's plus fields, so a client that only
 * knows the manifest schema still reads it.
 */
import type { FastifyInstance } from 'fastify';
import { modelsView, rolloutDb } from '../../storage/rollout-store.ts';
import { ModelsViewSchema } from '../../../core/api/models.ts';
import { ErrorReplySchema } from '../../../core/api/common.ts';

export default async function models(app: FastifyInstance) {
  app.get('/v1/models', { schema: { response: { 200: ModelsViewSchema, 503: ErrorReplySchema } } }, async (_req, reply) => {
    const manifest = app.registry.manifest();
    if (!manifest) return reply.code(503).send({ error: 'no model registry yet', message: 'run `npm run models:build`' });
    reply.header('Cache-Control', 'no-cache');
    return modelsView(rolloutDb(app.store), manifest);
  });
}

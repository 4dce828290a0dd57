/**
 * POST /v1/admin/installs/:id/revoke { reason }: from now on the install's
 * token is refused and its events with it (admin token required). The
 * reason is kept with the install, as every admin action says why.
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { InstallParamsSchema as ParamsSchema, RevokeResultSchema } from '../../../../core/api/installs.ts';
import { ReasonBodySchema as BodySchema } from '../../../../core/api/models.ts';
import { HttpError } from '../../../plugins/app/errors.ts';

export default async function installs(app: FastifyInstance) {
  app.post<{ Params: Static<typeof ParamsSchema>; Body: Static<typeof BodySchema> }>(
    '/v1/admin/installs/:id/revoke',
    {
      schema: { params: ParamsSchema, body: BodySchema, response: { 200: RevokeResultSchema } },
    },
    async (req) => {
      const row = await app.store.installs.revoke(req.params.id, req.body.reason);
      if (!row) throw new HttpError(404, 'not found', `no install ${req.params.id}`);
      return { installId: row.install_id, revokedAt: row.revoked_at!, reason: row.revoked_reason ?? req.body.reason };
    },
  );
}

/**
 * Install credentials for the app:
 * - POST /v1/installs: a new install id and its signed token, at most
 *   INSTALLS_PER_HOUR (default 20) per client address an hour;
 * - DELETE /v1/installs/me (Authorization: Install <token>): deletes every
 *   event, correction and photo of that install and answers with the counts.
 *   A revoked token may still delete its own data.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DeleteInstallResultSchema, InstallCredentialSchema, type DeleteInstallResult } from '../../../core/api/installs.ts';
import { rateLimitKey, requireInstall } from '../../plugins/app/install-credentials.ts';

export default async function installs(app: FastifyInstance, opts: { perHour: number }) {
  app.post(
    '/v1/installs',
    {
      // Per address; for IPv6 per /64, since one household or phone holds a whole /64 to pick addresses from.
      config: { rateLimit: { max: opts.perHour, timeWindow: 3_600_000, keyGenerator: (req: FastifyRequest) => rateLimitKey(req.ip) } },
      schema: { response: { 201: InstallCredentialSchema } },
    },
    async (req, reply) => reply.code(201).send(await app.installCredentials.issue(req.ip)),
  );

  app.delete(
    '/v1/installs/me',
    {
      preHandler: requireInstall(app, { allowRevoked: true }),
      schema: { response: { 200: DeleteInstallResultSchema }, security: [{ install: [] }] },
    },
    async (req): Promise<DeleteInstallResult> => {
      const installId = req.install!.installId;
      const deleted = await app.store.installs.deleteData(installId);
      req.log.info({ deleted }, "install data deleted at its user's request");
      app.taxa.invalidate();
      return { installId, deleted };
    },
  );
}

/**
 * Install credentials for the app:
 * - POST /v1/installs: a new install id and its signed token, at most
 *   INSTALLS_PER_HOUR (default 20) per client address (an IPv6 /64) in each
 *   clock hour, counted in the database (install_issues) so the limit holds
 *   across instances;
 * - DELETE /v1/installs/me (Authorization: Install <token>): deletes every
 *   event, correction and photo of that install and answers with the counts.
 *   A revoked token may still delete its own data.
 */
import type { FastifyInstance } from 'fastify';
import { DeleteInstallResultSchema, InstallCredentialSchema, type DeleteInstallResult } from '../../../core/api/installs.ts';
import { requireInstall } from '../../plugins/app/install-credentials.ts';
import { HttpError } from '../../plugins/app/errors.ts';
import { secondsToNextHour, takeIssueSlot } from '../../storage/install-issues.ts';

export default async function installs(app: FastifyInstance, opts: { perHour: number }) {
  app.post('/v1/installs', { schema: { response: { 201: InstallCredentialSchema } } }, async (req, reply) => {
    // Per address; for IPv6 per /64, since one household or phone holds a whole /64 to pick addresses from.
    const now = new Date();
    if (!(await takeIssueSlot(app.store, app.installCredentials.addressKey(req.ip), opts.perHour, now))) {
      const wait = secondsToNextHour(now);
      reply.header('retry-after', String(wait));
      throw new HttpError(429, 'too many requests', `more than ${opts.perHour} new installs this hour from this address; retry in ${wait} s`);
    }
    return reply.code(201).send(await app.installCredentials.issue(req.ip, now));
  });

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

/**
 * Species-pack rollouts, for operators (Bearer ADMIN_TOKEN): the base
 * model's canary routes (models.ts) for one pack's versions, through the
 * same store functions, change log and guard. Every change needs a `reason`.
 *
 * - POST /v1/admin/packs/:id/:version/canary { percent, plan?, holdback?, reason }   start a canary against the pack's active version
 * - POST /v1/admin/packs/:id/rollout/step { percent?, reason }                       next step of the plan (or to percent)
 * - POST /v1/admin/packs/:id/rollout/promote { reason }                              the canary becomes the pack's active version
 * - POST /v1/admin/packs/:id/rollout/rollback { reason }                             end the canary; devices go back to the control
 * - POST /v1/admin/packs/:id/:version/activate { reason }                            make a version active for everyone (no canary running)
 * - GET  /v1/admin/packs/:id/changes?limit=&version=                                 the pack's change log, newest first
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import {
  ChangesQuerySchema as ChangesQuery,
  ChangesReplySchema,
  ModelsReplySchema,
  PackCanaryBodySchema as PackCanaryBody,
  PackParamsSchema as PackParams,
  PackVersionParamsSchema as PackVersionParams,
  ReasonBodySchema as ReasonBody,
  RolloutReplySchema,
  StepBodySchema as StepBody,
  type ModelsReply,
  type RolloutReply,
} from '../../../../core/api/models.ts';
import { activate, listChanges, packLine, promote, rollBack, startCanary, stepRollout } from '../../../storage/rollout-store.ts';
import { rolloutHttp } from './rollout-http.ts';

export default async function adminPacks(app: FastifyInstance) {
  const { db, manifest, run, view } = rolloutHttp(app);
  // The pack must be in the registry (404 otherwise) before its rollout is touched.
  const line = (id: string) => run(() => packLine(manifest(), id));
  const rolloutReply = async (rollout: RolloutReply['rollout']): Promise<RolloutReply> => ({ rollout, models: await view() });

  app.get<{ Params: Static<typeof PackParams>; Querystring: Static<typeof ChangesQuery> }>(
    '/v1/admin/packs/:id/changes',
    { schema: { params: PackParams, querystring: ChangesQuery, response: { 200: ChangesReplySchema } } },
    async (req) => {
      await line(req.params.id);
      return { items: await listChanges(db(), req.query.limit, req.query.version, req.params.id) };
    },
  );

  app.post<{ Params: Static<typeof PackVersionParams>; Body: Static<typeof PackCanaryBody> }>(
    '/v1/admin/packs/:id/:version/canary',
    { schema: { params: PackVersionParams, body: PackCanaryBody, response: { 200: RolloutReplySchema } } },
    async (req): Promise<RolloutReply> => {
      const l = await line(req.params.id);
      const { percent, plan, holdback, reason } = req.body;
      return rolloutReply(await run(() => startCanary(db(), l, { version: req.params.version, percent, plan, holdback, reason, actor: 'admin' })));
    },
  );

  app.post<{ Params: Static<typeof PackParams>; Body: Static<typeof StepBody> }>(
    '/v1/admin/packs/:id/rollout/step',
    { schema: { params: PackParams, body: StepBody, response: { 200: RolloutReplySchema } } },
    async (req): Promise<RolloutReply> => {
      await line(req.params.id);
      return rolloutReply(await run(() => stepRollout(db(), { model: req.params.id, percent: req.body.percent, reason: req.body.reason, actor: 'admin' })));
    },
  );

  // Promote and roll back take the same request and differ only in what they do.
  for (const [action, fn] of [
    ['promote', promote],
    ['rollback', rollBack],
  ] as const) {
    app.post<{ Params: Static<typeof PackParams>; Body: Static<typeof ReasonBody> }>(
      `/v1/admin/packs/:id/rollout/${action}`,
      { schema: { params: PackParams, body: ReasonBody, response: { 200: RolloutReplySchema } } },
      async (req): Promise<RolloutReply> => {
        await line(req.params.id);
        return rolloutReply(await run(() => fn(db(), { model: req.params.id, reason: req.body.reason, actor: 'admin' })));
      },
    );
  }

  app.post<{ Params: Static<typeof PackVersionParams>; Body: Static<typeof ReasonBody> }>(
    '/v1/admin/packs/:id/:version/activate',
    { schema: { params: PackVersionParams, body: ReasonBody, response: { 200: ModelsReplySchema } } },
    async (req): Promise<ModelsReply> => {
      const l = await line(req.params.id);
      await run(() => activate(db(), l, { version: req.params.version, reason: req.body.reason, actor: 'admin' }));
      return { models: await view() };
    },
  );
}

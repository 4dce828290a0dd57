/**
 * Model versions and rollouts, for operators (Bearer ADMIN_TOKEN). Every
 * change needs a `reason` and is written to the change log.
 *
 * - POST /v1/admin/models { version, file, baseVersion?, meta?, reason }
 *     registers a version from an ONNX file already copied into the registry
 *     folder (`file` relative to it, e.g. "incoming/model.onnx"). Metadata is
 *     baseVersion's (input spec, outputs, labels...) with `meta` laid over it;
 *     sha256 and bytes are computed here. The version starts as a candidate.
 * - POST /v1/admin/models/:version/canary { percent, plan?, holdback?, shadowOverride?: { reason }, reason }
 *     start a canary; refused (409) when the candidate's shadow results are past the shadow gate's limits, unless overridden
 * - GET  /v1/admin/models/shadow-results                             shadow results per candidate, with the gate's verdict
 * - POST /v1/admin/models/rollout/step { percent?, reason }          next step of the plan (or to percent)
 * - POST /v1/admin/models/rollout/promote { reason }                 the canary becomes active
 * - POST /v1/admin/models/rollout/rollback { reason }                end the canary; devices go back to the control
 * - POST /v1/admin/models/:version/activate { reason }               make a version active for everyone (no canary running)
 * - POST /v1/admin/models/:version/shadow { sampleRate, reason }     devices shadow-run it on sampleRate of identifications (0 stops)
 * - POST /v1/admin/models/guard/run                                  one rollout-guard check now
 * - GET  /v1/admin/models/changes?limit=&version=                    the change log, newest first
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import {
  CanaryBodySchema as CanaryBody,
  ChangesQuerySchema as ChangesQuery,
  ChangesReplySchema,
  GuardOutcomeSchema,
  ModelsReplySchema,
  ModelsViewSchema,
  ReasonBodySchema as ReasonBody,
  RegisterBodySchema as RegisterBody,
  RegisterReplySchema,
  RolloutReplySchema,
  ShadowBodySchema as ShadowBody,
  ShadowResultsReplySchema,
  StepBodySchema as StepBody,
  VersionParamsSchema as VersionParams,
  type ModelsReply,
  type ModelsView,
  type RolloutReply,
  type ShadowResultsReply,
} from '../../../../core/api/models.ts';
import { findVersion, type ModelVersion } from '../../../../core/manifest.ts';
import { readManifest, registerVersion } from '../../../../node/registry.ts';
import { RegistryBusyError, withRegistryLock } from '../../../../node/registry-lock.ts';
import { HttpError } from '../../../plugins/app/errors.ts';
import { activate, listChanges, promote, recordChange, rollBack, setShadow, shadowInstalls, startCanary, stepRollout, storeFlavor } from '../../../storage/rollout-store.ts';
import { rolloutHttp } from './rollout-http.ts';
import { DEFAULT_SHADOW_GATE, shadowGate, summarizeShadow } from '../../../../core/shadow-gate.ts';

export default async function adminModels(app: FastifyInstance) {
  const { db, manifest, run, view } = rolloutHttp(app);

  app.get('/v1/admin/models', { schema: { response: { 200: ModelsViewSchema } } }, async (): Promise<ModelsView> => view());

  /** Shadow results per candidate (every version but the active one), with the gate's verdict on each. */
  app.get('/v1/admin/models/shadow-results', { schema: { response: { 200: ShadowResultsReplySchema } } }, async (): Promise<ShadowResultsReply> => {
    const v = await view();
    const items: ShadowResultsReply['items'] = [];
    for (const m of v.versions.filter((x) => x.version !== v.active)) {
      const summary = summarizeShadow(m.version, await shadowInstalls(db(), storeFlavor(app.store), m.version));
      items.push({ ...summary, status: m.status, shadowing: v.shadow?.version === m.version, gate: shadowGate(summary), limits: DEFAULT_SHADOW_GATE });
    }
    return { active: v.active, items };
  });

  app.get<{ Querystring: Static<typeof ChangesQuery> }>('/v1/admin/models/changes', { schema: { querystring: ChangesQuery, response: { 200: ChangesReplySchema } } }, async (req) => ({
    items: await listChanges(db(), req.query.limit, req.query.version),
  }));

  app.post<{ Body: Static<typeof RegisterBody> }>('/v1/admin/models', { schema: { body: RegisterBody, response: { 201: RegisterReplySchema } } }, async (req, reply) => {
    const m = manifest();
    const dir = path.resolve(app.registry.dir);
    const file = path.resolve(dir, req.body.file);
    if (!file.startsWith(dir + path.sep)) throw new HttpError(400, 'bad request', '`file` must be a path inside the registry folder');
    if (!existsSync(file) || !statSync(file).isFile()) throw new HttpError(400, 'bad request', `no file ${req.body.file} in the registry folder; copy the ONNX file there first`);
    let base: Partial<ModelVersion> = {};
    if (req.body.baseVersion) {
      try {
        base = findVersion(m, req.body.baseVersion);
      } catch (err) {
        throw new HttpError(404, 'not found', (err as Error).message);
      }
    }
    const { file: _f, sha256: _s, bytes: _b, metrics: _m, lineage: _l, ...inherited } = base;
    const meta = {
      ...inherited,
      lineage: req.body.baseVersion ? { parent: req.body.baseVersion } : undefined,
      ...req.body.meta,
      version: req.body.version,
      createdAt: new Date().toISOString(),
    } as Omit<ModelVersion, 'file' | 'sha256' | 'bytes'>;
    if (meta.lineage === undefined) delete (meta as Partial<ModelVersion>).lineage;
    // The same lock as the pipeline's registration: the check for a free version and the manifest write happen
    // with no other registration in between (the manifest on disk is re-read under the lock).
    let entry: ModelVersion;
    try {
      entry = await withRegistryLock(dir, () => {
        if (readManifest(dir)?.versions.some((v) => v.version === req.body.version)) throw new HttpError(409, 'conflict', `model version ${req.body.version} is already registered`);
        try {
          return registerVersion(new Uint8Array(readFileSync(file)), meta, dir);
        } catch (err) {
          throw new HttpError(400, 'bad request', (err as Error).message);
        }
      });
    } catch (err) {
      if (err instanceof RegistryBusyError) throw new HttpError(409, 'conflict', err.message);
      throw err;
    }
    // Events from the new version must validate at once, not after the taxa cache's refresh.
    app.taxa.invalidate();
    await recordChange(db(), { action: 'register', version: entry.version, actor: 'admin', reason: req.body.reason, details: { sha256: entry.sha256, bytes: entry.bytes, from: req.body.file } });
    return reply.code(201).send({ version: { ...entry, status: 'candidate' } });
  });

  app.post<{ Params: Static<typeof VersionParams>; Body: Static<typeof CanaryBody> }>(
    '/v1/admin/models/:version/canary',
    { schema: { params: VersionParams, body: CanaryBody, response: { 200: RolloutReplySchema } } },
    async (req): Promise<RolloutReply> => {
      // Shadow results feed the rollout: past the gate's limits, only an override with its own reason starts a canary.
      const shadow = summarizeShadow(req.params.version, await shadowInstalls(db(), storeFlavor(app.store), req.params.version));
      const gate = shadowGate(shadow);
      if (!gate.ok && !req.body.shadowOverride) {
        throw new HttpError(409, 'conflict', `${req.params.version} cannot start a canary: ${gate.reason}. To start it anyway, send shadowOverride: { reason }`);
      }
      const details = { shadow, shadowGate: gate, ...(req.body.shadowOverride && !gate.ok ? { shadowOverride: req.body.shadowOverride.reason } : {}) };
      const rollout = await run(() =>
        startCanary(db(), manifest(), { version: req.params.version, percent: req.body.percent, plan: req.body.plan, holdback: req.body.holdback, reason: req.body.reason, actor: 'admin', details }),
      );
      return { rollout, models: await view() };
    },
  );

  app.post<{ Body: Static<typeof StepBody> }>('/v1/admin/models/rollout/step', { schema: { body: StepBody, response: { 200: RolloutReplySchema } } }, async (req): Promise<RolloutReply> => {
    const rollout = await run(() => stepRollout(db(), { percent: req.body.percent, reason: req.body.reason, actor: 'admin' }));
    return { rollout, models: await view() };
  });

  app.post<{ Body: Static<typeof ReasonBody> }>('/v1/admin/models/rollout/promote', { schema: { body: ReasonBody, response: { 200: RolloutReplySchema } } }, async (req): Promise<RolloutReply> => {
    const rollout = await run(() => promote(db(), { reason: req.body.reason, actor: 'admin' }));
    return { rollout, models: await view() };
  });

  app.post<{ Body: Static<typeof ReasonBody> }>('/v1/admin/models/rollout/rollback', { schema: { body: ReasonBody, response: { 200: RolloutReplySchema } } }, async (req): Promise<RolloutReply> => {
    const rollout = await run(() => rollBack(db(), { reason: req.body.reason, actor: 'admin' }));
    return { rollout, models: await view() };
  });

  app.post<{ Params: Static<typeof VersionParams>; Body: Static<typeof ReasonBody> }>(
    '/v1/admin/models/:version/activate',
    { schema: { params: VersionParams, body: ReasonBody, response: { 200: ModelsReplySchema } } },
    async (req): Promise<ModelsReply> => {
      await run(() => activate(db(), manifest(), { version: req.params.version, reason: req.body.reason, actor: 'admin' }));
      return { models: await view() };
    },
  );

  app.post<{ Params: Static<typeof VersionParams>; Body: Static<typeof ShadowBody> }>(
    '/v1/admin/models/:version/shadow',
    { schema: { params: VersionParams, body: ShadowBody, response: { 200: ModelsReplySchema } } },
    async (req): Promise<ModelsReply> => {
      await run(() => setShadow(db(), manifest(), { version: req.params.version, sampleRate: req.body.sampleRate, reason: req.body.reason, actor: 'admin' }));
      return { models: await view() };
    },
  );

  app.post('/v1/admin/models/guard/run', { schema: { response: { 200: GuardOutcomeSchema } } }, async () => {
    const outcome = await app.rolloutGuard.runOnce();
    if (!outcome) throw new HttpError(409, 'conflict', 'another server instance holds the rollout guard lease; try again later');
    return outcome;
  });
}

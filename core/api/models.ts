/**
 * GET /v1/models, read by every device, and the admin model routes
 * (/v1/admin/models/...). One schema each for the server's answers
 * (Fastify response schemas) and the app's types.
 *
 * Version entries are the registry manifest's (core/manifest.ts) plus
 * their status. They are left open (additionalProperties) on purpose: an
 * admin may register a version with extra metadata, and the reply passes
 * the manifest on as it is rather than dropping what this schema does not name.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ModelVersionSchema, SpeciesPackSchema } from '../manifest.ts';
import { Nullable, ReasonSchema, SemverSchema } from './common.ts';

export const MODEL_STATUSES = ['candidate', 'canary', 'active', 'retired'] as const;
export const ModelStatusSchema = Type.Union(MODEL_STATUSES.map((s) => Type.Literal(s)));
export type ModelStatus = Static<typeof ModelStatusSchema>;

export const ROLLOUT_STATES = ['running', 'promoted', 'rolled_back'] as const;
export const RolloutStateSchema = Type.Union(ROLLOUT_STATES.map((s) => Type.Literal(s)));
export type RolloutState = Static<typeof RolloutStateSchema>;

export const ServedVersionSchema = Type.Object({ ...ModelVersionSchema.properties, status: ModelStatusSchema }, { additionalProperties: true });
export type ServedVersion = Static<typeof ServedVersionSchema>;

/** A pack version as GET /v1/models serves it: the manifest entry with its status from the database (a canary too). */
export const ServedPackSchema = Type.Object({ ...SpeciesPackSchema.properties, status: ModelStatusSchema });
export type ServedPack = Static<typeof ServedPackSchema>;

/** A rollout as the admin routes and the guard report it. */
export const RolloutSchema = Type.Object(
  {
    id: Type.String(),
    version: Type.String(),
    controlVersion: Type.String(),
    /** The plan step (what admins and the guard step through). */
    percent: Type.Number(),
    /** Percent of devices kept on the control until promotion, even at the 100% step. */
    holdback: Type.Number(),
    state: RolloutStateSchema,
    plan: Type.Array(Type.Number()),
    startedAt: Type.String(),
    steppedAt: Type.String(),
    endedAt: Nullable(Type.String()),
    /** The species pack whose versions this rollout moves; absent for the base model. */
    pack: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Rollout = Static<typeof RolloutSchema>;

/**
 * The running canary as devices see it. percent: the share of devices that
 * run the canary, the step less the holdback (what every client, old or
 * new, compares its bucket with); step: the plan step itself.
 */
const { id, version, controlVersion, holdback, state, startedAt, steppedAt } = RolloutSchema.properties;
export const ServedRolloutSchema = Type.Object(
  {
    id,
    version,
    controlVersion,
    percent: Type.Number(),
    step: Type.Number(),
    holdback,
    state,
    startedAt,
    steppedAt,
  },
  { additionalProperties: false },
);
export type ServedRollout = Static<typeof ServedRolloutSchema>;

/** GET /v1/models: the manifest (same shape, so older clients still read it) with status and rollout. */
export const ModelsViewSchema = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    /** The version every device not in a canary runs. */
    active: Type.String(),
    versions: Type.Array(ServedVersionSchema),
    rollout: Nullable(ServedRolloutSchema),
    /** A candidate devices run in the shadow of a share of identifications, never shown. */
    shadow: Nullable(Type.Object({ version: Type.String(), sampleRate: Type.Number() }, { additionalProperties: false })),
    /** Species packs a device may download (core/species-pack.ts), every version not retired, each with its status; absent from older servers. */
    packs: Type.Optional(Type.Array(ServedPackSchema)),
    /** Per pack id, its running canary (the same shape as `rollout`) or null; absent from older servers. */
    packRollouts: Type.Optional(Type.Record(Type.String(), Nullable(ServedRolloutSchema))),
  },
  { additionalProperties: false },
);
export type ModelsView = Static<typeof ModelsViewSchema>;

export const ModelChangeSchema = Type.Object(
  {
    id: Type.String(),
    at: Type.String(),
    action: Type.String(),
    version: Nullable(Type.String()),
    rolloutId: Nullable(Type.String()),
    percent: Nullable(Type.Number()),
    actor: Type.String(),
    reason: Type.String(),
    /** Whatever the action recorded (shadow results, the guard's checks...): open on purpose. */
    details: Type.Unknown(),
    /** The species pack the change is about; absent for the base model. */
    pack: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ModelChange = Static<typeof ModelChangeSchema>;

// ---------------------------------------------------------------- admin requests

const Percent = Type.Number({ exclusiveMinimum: 0, maximum: 100 });
export const VersionParamsSchema = Type.Object({ version: SemverSchema });
export const ReasonBodySchema = Type.Object({ reason: ReasonSchema }, { additionalProperties: false });
export const RegisterBodySchema = Type.Object(
  {
    version: SemverSchema,
    file: Type.String({ minLength: 1, maxLength: 500 }),
    baseVersion: Type.Optional(SemverSchema),
    meta: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    reason: ReasonSchema,
  },
  { additionalProperties: false },
);
export const CanaryBodySchema = Type.Object(
  {
    percent: Percent,
    plan: Type.Optional(Type.Array(Percent, { maxItems: 20 })),
    /** Percent of devices kept on the control until promotion (default 5); 0 leaves the guard nothing to promote against. */
    holdback: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 100 })),
    /** Start even though the candidate's shadow results are past the gate's limits; the reason is logged with the start. */
    shadowOverride: Type.Optional(Type.Object({ reason: ReasonSchema }, { additionalProperties: false })),
    reason: ReasonSchema,
  },
  { additionalProperties: false },
);
export const StepBodySchema = Type.Object({ percent: Type.Optional(Percent), reason: ReasonSchema }, { additionalProperties: false });
export const ShadowBodySchema = Type.Object({ sampleRate: Type.Number({ minimum: 0, maximum: 1 }), reason: ReasonSchema }, { additionalProperties: false });
/** /v1/admin/packs/:id/...: the same requests for one species pack's versions (packs have no shadow runs, so no override). */
export const PackParamsSchema = Type.Object({ id: SpeciesPackSchema.properties.id });
export const PackVersionParamsSchema = Type.Object({ id: SpeciesPackSchema.properties.id, version: SemverSchema });
const { shadowOverride: _shadowOverride, ...packCanaryFields } = CanaryBodySchema.properties;
export const PackCanaryBodySchema = Type.Object(packCanaryFields, { additionalProperties: false });
export const ChangesQuerySchema = Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }), version: Type.Optional(SemverSchema) }, { additionalProperties: false });

// ---------------------------------------------------------------- admin replies

export const ModelsReplySchema = Type.Object({ models: ModelsViewSchema }, { additionalProperties: false });
export const RolloutReplySchema = Type.Object({ rollout: RolloutSchema, models: ModelsViewSchema }, { additionalProperties: false });
export const RegisterReplySchema = Type.Object({ version: ServedVersionSchema }, { additionalProperties: false });
export const ChangesReplySchema = Type.Object({ items: Type.Array(ModelChangeSchema) }, { additionalProperties: false });
export type RolloutReply = Static<typeof RolloutReplySchema>;
export type ModelsReply = Static<typeof ModelsReplySchema>;

export const ShadowResultSchema = Type.Object(
  {
    version: Type.String(),
    installs: Type.Integer(),
    runs: Type.Integer(),
    failures: Type.Integer(),
    /** Per-install weighted rates (core/shadow-gate.ts). */
    failureRate: Type.Number(),
    disagreementRate: Type.Number(),
    meanTop5Overlap: Type.Number(),
    status: ModelStatusSchema,
    /** Devices are shadow-running this version now. */
    shadowing: Type.Boolean(),
    gate: Type.Object({ ok: Type.Boolean(), reason: Type.String() }, { additionalProperties: false }),
    limits: Type.Object(
      {
        minRuns: Type.Number(),
        minInstalls: Type.Number(),
        maxFailureRate: Type.Number(),
        maxDisagreementRate: Type.Number(),
        weightCap: Type.Number(),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export const ShadowResultsReplySchema = Type.Object({ active: Type.String(), items: Type.Array(ShadowResultSchema) }, { additionalProperties: false });
export type ShadowResultsReply = Static<typeof ShadowResultsReplySchema>;

const ArmTotalsSchema = Type.Object(
  {
    installs: Type.Number(),
    identifications: Type.Number(),
    corrections: Type.Number(),
    abstains: Type.Number(),
    errors: Type.Number(),
    failures: Type.Number(),
    failingInstalls: Type.Number(),
  },
  { additionalProperties: false },
);

/**
 * POST /v1/admin/models/guard/run: what one rollout-guard check saw and did.
 * The decision carries the guard's checks (core/rollout-guard.ts), a
 * detailed structure that is reported as it is: open on purpose.
 */
const rolloutCheck = {
  rollout: Nullable(RolloutSchema),
  decision: Nullable(Type.Object({ action: Type.String(), reason: Type.String() }, { additionalProperties: true })),
  acted: Nullable(Type.Union([Type.Literal('rollback'), Type.Literal('step'), Type.Literal('promote')])),
  canary: Type.Optional(ArmTotalsSchema),
  control: Type.Optional(ArmTotalsSchema),
  window: Type.Optional(Type.Object({ since: Type.String(), until: Type.String() }, { additionalProperties: false })),
};
export const GuardOutcomeSchema = Type.Object(
  {
    ...rolloutCheck,
    /** Each running species-pack canary, checked the same way in the same tick. */
    packs: Type.Optional(Type.Array(Type.Object({ pack: Type.String(), ...rolloutCheck }, { additionalProperties: false }))),
  },
  { additionalProperties: false },
);

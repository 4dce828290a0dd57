/**
 * The monitoring routes under /v1/admin/monitoring/ (the dashboard reads
 * them): queries, bodies and replies. The shapes are those core/monitoring.ts
 * computes; numbers are Type.Number, never Integer, so the serializer can
 * never round a figure the server computed.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DaySchema, Nullable, SemverSchema } from './common.ts';

// ---------------------------------------------------------------- requests

export const RangeQuerySchema = Type.Object({ from: Type.Optional(DaySchema), to: Type.Optional(DaySchema) }, { additionalProperties: false });
export const MetricsQuerySchema = Type.Object(
  {
    from: Type.Optional(DaySchema),
    to: Type.Optional(DaySchema),
    bucket: Type.Union([Type.Literal('day'), Type.Literal('hour')], { default: 'day' }),
    modelVersion: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);
export const AlertsQuerySchema = Type.Object(
  {
    level: Type.Optional(Type.Union([Type.Literal('warn'), Type.Literal('alert')])),
    modelVersion: Type.Optional(Type.String({ maxLength: 32 })),
    limit: Type.Integer({ minimum: 1, maximum: 5000, default: 500 }),
  },
  { additionalProperties: false },
);
export const ModelVersionParamsSchema = Type.Object({ modelVersion: SemverSchema });
export const DayWindowSchema = Type.Object({ from: DaySchema, to: DaySchema }, { additionalProperties: false });

// ---------------------------------------------------------------- replies

export const LatencyStatsSchema = Type.Object({ n: Type.Number(), p50: Type.Number(), p95: Type.Number() }, { additionalProperties: false });
export type LatencyStats = Static<typeof LatencyStatsSchema>;

const metricsFields = {
  modelVersion: Type.String(),
  identifications: Type.Number(),
  /** Distinct installs that reported identifications. */
  installs: Type.Number(),
  abstained: Type.Number(),
  abstainRate: Type.Number(),
  /** Corrections with verdict "corrected" whose hour falls in this bucket. */
  corrections: Type.Number(),
  confirmations: Type.Number(),
  /** corrections / identifications (0 when there were none). */
  correctionRate: Type.Number(),
  /** CONFIDENCE_BINS counts of the top-1 probability over [0, 1]. */
  confidenceHistogram: Type.Array(Type.Number()),
  /** Predicted top-1 taxa (abstentions as "(abstain)"), most frequent first. */
  predictions: Type.Array(Type.Object({ taxonId: Type.String(), count: Type.Number() }, { additionalProperties: false })),
  /** totalMs per backend. */
  latency: Type.Record(Type.String(), LatencyStatsSchema),
};
export const BucketMetricsSchema = Type.Object({ ...metricsFields, bucket: Type.String() }, { additionalProperties: false });
export const VersionMetricsSchema = Type.Object(metricsFields, { additionalProperties: false });
export type BucketMetrics = Static<typeof BucketMetricsSchema>;

export const MetricsReplySchema = Type.Object(
  {
    from: DaySchema,
    to: DaySchema,
    bucket: Type.Union([Type.Literal('day'), Type.Literal('hour')]),
    series: Type.Array(BucketMetricsSchema),
    /** One row per version over the whole range. */
    versions: Type.Array(VersionMetricsSchema),
    correctedPairs: Type.Array(Type.Object({ modelVersion: Type.String(), predicted: Type.String(), corrected: Type.String(), count: Type.Number() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type MetricsResponse = Static<typeof MetricsReplySchema>;

const LevelSchema = Type.Union([Type.Literal('ok'), Type.Literal('warn'), Type.Literal('alert')]);
export const DriftScoreSchema = Type.Object({ psi: Type.Number(), js: Type.Number(), level: LevelSchema }, { additionalProperties: false });
export type DriftScore = Static<typeof DriftScoreSchema>;
export const DriftPointSchema = Type.Object(
  {
    modelVersion: Type.String(),
    day: Type.String(),
    n: Type.Number(),
    /** Inside the reference window (compared with itself, so expect small values). */
    inReference: Type.Boolean(),
    prediction: DriftScoreSchema,
    confidence: DriftScoreSchema,
    /** The worse of the two. */
    level: LevelSchema,
  },
  { additionalProperties: false },
);
export type DriftPoint = Static<typeof DriftPointSchema>;

export const AlertSchema = Type.Object(
  {
    modelVersion: Type.String(),
    day: Type.String(),
    metric: Type.Union([Type.Literal('prediction'), Type.Literal('confidence')]),
    psi: Type.Number(),
    js: Type.Number(),
    level: Type.Union([Type.Literal('warn'), Type.Literal('alert')]),
    n: Type.Number(),
    reference: Type.Object({ from: Type.String(), to: Type.String() }, { additionalProperties: false }),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { additionalProperties: false },
);
export type Alert = Static<typeof AlertSchema>;

export const ThresholdsSchema = Type.Object({ psiWarn: Type.Number(), psiAlert: Type.Number(), jsWarn: Type.Number(), jsAlert: Type.Number() }, { additionalProperties: false });
/** Each version's reference window and how many identifications it holds. */
const ReferencesSchema = Type.Record(Type.String(), Type.Object({ from: Type.String(), to: Type.String(), n: Type.Number() }, { additionalProperties: false }));

export const DriftReplySchema = Type.Object(
  {
    from: DaySchema,
    to: DaySchema,
    thresholds: ThresholdsSchema,
    minEvents: Type.Number(),
    referenceDays: Type.Number(),
    references: ReferencesSchema,
    points: Type.Array(DriftPointSchema),
    alerts: Type.Array(AlertSchema),
  },
  { additionalProperties: false },
);
export type DriftResponse = Static<typeof DriftReplySchema>;

export const DriftRunReplySchema = Type.Object(
  {
    references: ReferencesSchema,
    /** How many version-days were scored. */
    points: Type.Number(),
    alerts: Type.Array(AlertSchema),
  },
  { additionalProperties: false },
);

export const AlertsReplySchema = Type.Object({ thresholds: ThresholdsSchema, items: Type.Array(AlertSchema) }, { additionalProperties: false });

/** The reference windows admins chose, by model version. */
export const ReferencesReplySchema = Type.Record(Type.String(), Type.Object({ from: Type.String(), to: Type.String() }, { additionalProperties: false }));
export const ReferenceSetReplySchema = Type.Object({ modelVersion: Type.String(), reference: Nullable(DayWindowSchema) }, { additionalProperties: false });

export const QualityDaySchema = Type.Object(
  {
    day: Type.String(),
    /** Valid events the server had already stored (resent batches), as counted at insert. */
    duplicates: Type.Number(),
    /** Refused events by reason. */
    rejected: Type.Record(Type.String(), Type.Number()),
    rejectedTotal: Type.Number(),
    /** Events stored that day. */
    stored: Type.Number(),
    /** rejectedTotal / (stored + rejectedTotal + duplicates). */
    errorRate: Type.Number(),
    /** Identification events corrected with two or more different labels (distinct correctsEventId). */
    conflictingLabels: Type.Number(),
    /** Corrections naming a taxon outside the taxonomy (proposedName). */
    proposedNames: Type.Number(),
  },
  { additionalProperties: false },
);
export type QualityDay = Static<typeof QualityDaySchema>;
export const QualityReplySchema = Type.Object({ from: DaySchema, to: DaySchema, errorRateDefinition: Type.String(), days: Type.Array(QualityDaySchema) }, { additionalProperties: false });
export type QualityResponse = Static<typeof QualityReplySchema>;

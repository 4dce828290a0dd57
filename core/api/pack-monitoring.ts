/**
 * GET /v1/admin/monitoring/packs: how each species-pack version does, per
 * day, from the pack rollups (server/storage/pack-rollups.ts). The shapes
 * are those core/pack-metrics.ts computes; numbers are Type.Number so the
 * serializer never rounds a figure the server computed.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DaySchema } from './common.ts';

export const MAX_PACK_DAYS = 366;

export const PackMetricsQuerySchema = Type.Object(
  {
    /** The last day shown (UTC, inclusive); default today. */
    to: Type.Optional(DaySchema),
    /** How many days up to `to`. */
    days: Type.Integer({ minimum: 1, maximum: MAX_PACK_DAYS, default: 30 }),
  },
  { additionalProperties: false },
);

const IntervalSchema = Type.Object({ lo: Type.Number(), hi: Type.Number() }, { additionalProperties: false });

const packFigures = {
  packId: Type.String(),
  packVersion: Type.String(),
  /** Identifications that ran this pack version (plain count). */
  runs: Type.Number(),
  /** Of those, install-weighted: routed by the user's tap ("It's a bird") rather than by the base model's roll-up. */
  tapped: Type.Number(),
  tappedShare: Type.Number(),
  /** Install-weighted mean of the pack's top-1 probability (kept to a millionth). */
  meanConfidence: Type.Number(),
  /** Install-weighted median of the pack's top-1 probability, interpolated within its histogram bin. */
  medianConfidence: Type.Number(),
  /** CONFIDENCE_BINS install-weighted counts of the pack's top-1 probability over [0, 1]. */
  confidenceHistogram: Type.Array(Type.Number()),
  /** Evidence corrections (grounded, within the cap) of these runs, by the run's day, install-weighted. */
  corrections: Type.Number(),
  confirmations: Type.Number(),
  /** corrections / install-weighted runs, with its Wilson 95% interval. */
  correctionRate: Type.Number(),
  correctionInterval: IntervalSchema,
  /** The pack's top-1 taxa, most frequent first (install-weighted). */
  topLabels: Type.Array(Type.Object({ taxonId: Type.String(), count: Type.Number() }, { additionalProperties: false })),
};

export const PackDayMetricsSchema = Type.Object({ ...packFigures, day: DaySchema }, { additionalProperties: false });
export type PackDayMetrics = Static<typeof PackDayMetricsSchema>;
export const PackVersionMetricsSchema = Type.Object(packFigures, { additionalProperties: false });
export type PackVersionMetrics = Static<typeof PackVersionMetricsSchema>;

export const PackMetricsReplySchema = Type.Object(
  {
    from: DaySchema,
    to: DaySchema,
    /** Per pack id, version and day with runs, sorted by pack, version, day. */
    series: Type.Array(PackDayMetricsSchema),
    /** One row per pack id and version over the whole range. */
    versions: Type.Array(PackVersionMetricsSchema),
  },
  { additionalProperties: false },
);
export type PackMetricsResponse = Static<typeof PackMetricsReplySchema>;

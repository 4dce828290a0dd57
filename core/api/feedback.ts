/**
 * What the admin routes send about stored feedback: events as they
 * arrived and corrections with their review state. The store returns these
 * records (server/storage/types.ts) and the admin app reads them, so the
 * schema lives here, once.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from './common.ts';

export const VerdictSchema = Type.Union([Type.Literal('confirmed'), Type.Literal('corrected')]);

export const CORRECTION_STATUSES = ['pending', 'accepted', 'rejected'] as const;
export const CorrectionStatusSchema = Type.Union(CORRECTION_STATUSES.map((s) => Type.Literal(s)));
export type CorrectionStatus = Static<typeof CorrectionStatusSchema>;

export const GROUNDINGS = ['grounded', 'waiting', 'unverified'] as const;
export const GroundingSchema = Type.Union(GROUNDINGS.map((s) => Type.Literal(s)));
export type Grounding = Static<typeof GroundingSchema>;

export const EventTypeSchema = Type.Union([Type.Literal('identification'), Type.Literal('correction'), Type.Literal('model_status')]);

export const StoredEventSchema = Type.Object({
  eventId: Type.String(),
  type: EventTypeSchema,
  installId: Type.String(),
  modelVersion: Type.String(),
  hour: Type.String(),
  receivedAt: Type.String(),
  /** The event as received, without embedding and photo (see the corrections record for those). */
  payload: Type.Record(Type.String(), Type.Unknown()),
});

export const CorrectionRecordSchema = Type.Object({
  eventId: Type.String(),
  correctsEventId: Type.String(),
  taxonId: Nullable(Type.String()),
  proposedName: Nullable(Type.String()),
  verdict: VerdictSchema,
  modelVersion: Type.String(),
  installId: Type.String(),
  embeddingDim: Type.Integer(),
  status: CorrectionStatusSchema,
  hasPhoto: Type.Boolean(),
  cell: Nullable(Type.Object({ lat: Type.Number(), lon: Type.Number() })),
  hour: Type.String(),
  receivedAt: Type.String(),
  /** grounded: cites a stored identification of the same install and version. Only grounded corrections count. */
  grounding: GroundingSchema,
  /** false: the install had passed its daily cap when this arrived; kept, weighs nothing. */
  counted: Type.Boolean(),
  decidedBy: Nullable(Type.Union([Type.Literal('reviewer'), Type.Literal('auto')])),
});

export const CorrectionExportSchema = Type.Composite([
  CorrectionRecordSchema,
  Type.Object({
    embedding: Type.Array(Type.Number()),
    /** A correction of a species pack's answer: the pack, its version and its own embedding (what retrains that pack's head). */
    pack: Type.Optional(Nullable(Type.Object({ id: Type.String(), version: Type.String(), embedding: Type.Array(Type.Number()) }))),
  }),
]);

export type StoredEvent = Static<typeof StoredEventSchema>;
export type CorrectionRecord = Static<typeof CorrectionRecordSchema>;
export type CorrectionExport = Static<typeof CorrectionExportSchema>;

// ---------------------------------------------------------------- the admin lists

/** `after`: the `next` of the previous page, as it was given (opaque). */
/** A page cursor as the admin lists hand it out (opaque; pass `next` back as `after`). */
export const CursorSchema = Type.String({ maxLength: 400 });
export const CorrectionsQuerySchema = Type.Object(
  {
    status: Type.Optional(CorrectionStatusSchema),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    after: Type.Optional(CursorSchema),
  },
  { additionalProperties: false },
);
export const EventsQuerySchema = Type.Object(
  {
    type: Type.Optional(EventTypeSchema),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    after: Type.Optional(CursorSchema),
  },
  { additionalProperties: false },
);

export const CorrectionsPageSchema = Type.Object({ items: Type.Array(CorrectionRecordSchema), next: Nullable(Type.String()) }, { additionalProperties: false });
export const EventsPageSchema = Type.Object({ items: Type.Array(StoredEventSchema), next: Nullable(Type.String()) }, { additionalProperties: false });

export const EventIdParamsSchema = Type.Object({ eventId: Type.String({ minLength: 1, maxLength: 64 }) });
export const StatusBodySchema = Type.Object({ status: CorrectionStatusSchema }, { additionalProperties: false });
/** A reviewer's decision, as stored. */
export const DecisionReplySchema = Type.Object({ eventId: Type.String(), status: CorrectionStatusSchema }, { additionalProperties: false });

/** The review queue (/v1/admin/review): what reviewers see and decide. */
import { Type, type Static } from '@sinclair/typebox';
import { CorrectionStatusSchema, CursorSchema, GroundingSchema, VerdictSchema } from './feedback.ts';
import { Nullable } from './common.ts';

export const ReviewQuerySchema = Type.Object(
  {
    status: Type.Optional(CorrectionStatusSchema),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }),
    /** The `next` of the previous page. */
    after: Type.Optional(CursorSchema),
  },
  { additionalProperties: false },
);
export const DecisionBodySchema = Type.Object(
  {
    decision: Type.Union([Type.Literal('accept'), Type.Literal('reject'), Type.Literal('pending')]),
  },
  { additionalProperties: false },
);

/** A correction with what a reviewer needs to judge it (server/storage/monitoring-store.ts reviewQueue). */
export const ReviewItemSchema = Type.Object(
  {
    eventId: Type.String(),
    correctsEventId: Type.String(),
    installId: Type.String(),
    modelVersion: Type.String(),
    hour: Type.String(),
    verdict: VerdictSchema,
    taxonId: Nullable(Type.String()),
    proposedName: Nullable(Type.String()),
    status: CorrectionStatusSchema,
    receivedAt: Type.String(),
    grounding: GroundingSchema,
    counted: Type.Boolean(),
    /** Normalized label (taxonId or proposed-<slug>). */
    label: Type.String(),
    /** What the model answered for the corrected identification, when known. */
    predicted: Nullable(Type.String()),
    confidence: Nullable(Type.Number()),
    /** What independent installs must agree on (core/review.ts agreementKey). */
    agreement: Type.String(),
    /** Distinct installs that gave the same agreement key. */
    installs: Type.Number(),
    /** Why this correction cannot count toward automatic acceptance (null: it can). */
    voteRefusal: Nullable(Type.String()),
    /** Other labels given for the same identification. */
    conflicts: Type.Number(),
    hasPhoto: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type ReviewItem = Static<typeof ReviewItemSchema>;

export const ReviewQueueReplySchema = Type.Object(
  {
    items: Type.Array(ReviewItemSchema),
    /** Pass as `after` for the next page; null on the last. */
    next: Nullable(Type.String()),
  },
  { additionalProperties: false },
);
export type ReviewQueueReply = Static<typeof ReviewQueueReplySchema>;
/** The event ids the independent-installs rule accepted just now. */
export const AutoAcceptReplySchema = Type.Object({ accepted: Type.Array(Type.String()) }, { additionalProperties: false });
export type AutoAcceptReply = Static<typeof AutoAcceptReplySchema>;

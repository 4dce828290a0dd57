/**
 * POST /v1/events: the envelope the app's outbox sends and the answer it
 * reads (200, or 422 when some events were refused).
 *
 * There is one envelope schema, used by the server's route and the app.
 * Its items are left open on purpose: each event is checked on its own
 * (core/telemetry.ts validateEvent, against TelemetryEventSchema) so that a
 * bad event is refused by its index (422) rather than failing the whole
 * batch (400). A batch over MAX_BATCH_EVENTS is answered 413 by the route
 * before this schema is looked at; maxItems documents the same limit.
 */
import { Type, type Static } from '@sinclair/typebox';
import { MAX_BATCH_EVENTS } from '../telemetry.ts';

export const EventEnvelopeSchema = Type.Object(
  {
    events: Type.Array(Type.Unknown({ description: 'a TelemetryEvent (identification, correction or model_status), checked one by one' }), { minItems: 1, maxItems: MAX_BATCH_EVENTS }),
  },
  { additionalProperties: false },
);
export type EventEnvelope = Static<typeof EventEnvelopeSchema>;

export const RejectedEventSchema = Type.Object(
  {
    index: Type.Integer({ minimum: 0 }),
    eventId: Type.Union([Type.String(), Type.Null()]),
    reason: Type.String(),
    message: Type.String(),
  },
  { additionalProperties: false },
);

export const BatchResultSchema = Type.Object(
  {
    /** Events stored by this request. */
    accepted: Type.Integer({ minimum: 0 }),
    /** Valid events that were already stored (a resent batch); safe to drop from the outbox. */
    duplicates: Type.Integer({ minimum: 0 }),
    /** Events that will never be accepted as they are; drop them too. */
    rejected: Type.Array(RejectedEventSchema),
  },
  { additionalProperties: false },
);
export type RejectedEvent = Static<typeof RejectedEventSchema>;
export type BatchResult = Static<typeof BatchResultSchema>;

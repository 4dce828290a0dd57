/**
 * POST /v1/events: a batch of identification and correction events from
 * one client's outbox.
 *
 * - The envelope ({ events: [...] }) is checked by schema: 400 if it is not
 *   that shape, 413 if the body is over 4 MB or holds over 500 events.
 * - Each event is then checked on its own (validateEvent). The valid ones
 *   are stored in one transaction even when others are refused, so one bad
 *   event never holds back the rest: 200 when all were fine, 422 listing
 *   the refused ones by index otherwise.
 * - It needs the install's token (Authorization: Install <token>, from
 *   POST /v1/installs): 401 and nothing stored without a valid, unrevoked
 *   one. An event whose installId is not the token's is refused by index
 *   (install-mismatch), so nobody reports in another install's name.
 * - Storing is idempotent by eventId: a resent batch answers 200 with the
 *   events counted as duplicates. Either answer means "drop these from the
 *   outbox"; only a 5xx or no answer means "send again".
 */
import type { FastifyInstance } from 'fastify';
import { MAX_BATCH_EVENTS, validateEvent, type TelemetryEvent } from '../../../core/telemetry.ts';
import { BatchResultSchema, EventEnvelopeSchema, type BatchResult, type EventEnvelope, type RejectedEvent } from '../../../core/api/events.ts';
import { HttpError } from '../../plugins/app/errors.ts';
import { requireInstall } from '../../plugins/app/install-credentials.ts';
import { InstallRevokedError } from '../../storage/kysely-store.ts';

/** 500 corrections of 1280 values as JSON are about 3.5 MB; opt-in photos need batches of a few. */
export const EVENTS_BODY_LIMIT = 4 * 1024 * 1024;

const idOf = (e: unknown): string | null => {
  const id = (e as { eventId?: unknown } | null)?.eventId;
  return typeof id === 'string' ? id.slice(0, 64) : null;
};

export default async function events(app: FastifyInstance, opts: { dailyCorrectionCap?: number } = {}) {
  app.post<{ Body: EventEnvelope }>(
    '/v1/events',
    {
      bodyLimit: EVENTS_BODY_LIMIT,
      schema: { body: EventEnvelopeSchema, response: { 200: BatchResultSchema, 422: BatchResultSchema }, security: [{ install: [] }] },
      // Before the body is even read: no valid token, nothing parsed, nothing stored.
      onRequest: requireInstall(app),
      // Before the schema: a count over the limit is "too large", not "malformed".
      preValidation: async (req) => {
        // Fastify parses text/plain too; say what this route wants instead of "Expected object".
        if (typeof req.body === 'string' || Buffer.isBuffer(req.body)) {
          throw new HttpError(415, 'unsupported media type', `content-type ${req.headers['content-type'] ?? '(none)'} is not accepted here; send application/json`);
        }
        const list = (req.body as { events?: unknown } | null)?.events;
        if (Array.isArray(list) && list.length > MAX_BATCH_EVENTS) {
          throw new HttpError(413, 'payload too large', `the batch has ${list.length} events; at most ${MAX_BATCH_EVENTS} are accepted per request, split the batch`);
        }
      },
    },
    async (req, reply) => {
      const ctx = await app.taxa.validationContext();
      const valid: TelemetryEvent[] = [];
      const rejected: RejectedEvent[] = [];
      const installId = req.install!.installId;
      req.body.events.forEach((event, index) => {
        const check = validateEvent(event, ctx);
        if (!check.ok) rejected.push({ index, eventId: idOf(event), reason: check.reason, message: check.message });
        else if ((event as TelemetryEvent).installId.toLowerCase() !== installId) {
          rejected.push({ index, eventId: idOf(event), reason: 'install-mismatch', message: `the event's installId is not the install this token was issued to (${installId})` });
        } else valid.push(event as TelemetryEvent);
      });

      let stored: TelemetryEvent[] = [];
      let duplicates: TelemetryEvent[] = [];
      if (valid.length) {
        const end = app.metrics.storeBatchSeconds.startTimer({ backend: app.store.kind });
        try {
          ({ stored, duplicates } = await app.store.insertBatch(valid, new Date(), { dailyCorrectionCap: opts.dailyCorrectionCap, installId }));
        } catch (err) {
          // Revoked (or its data deleted) while this batch was on its way: refused as any revoked token is.
          if (err instanceof InstallRevokedError) throw new HttpError(401, 'install revoked', 'this install was revoked; its reports are no longer accepted');
          req.log.error({ err }, 'storing a batch failed');
          // Nothing of the batch was committed (one transaction), so resending it all is right.
          throw new HttpError(503, 'storage unavailable', 'the feedback store could not save this batch; nothing was stored, send it again later');
        } finally {
          end();
        }
      }

      for (const e of stored) app.metrics.eventsStored.inc({ type: e.type });
      for (const e of duplicates) app.metrics.eventsDuplicate.inc({ type: e.type });
      for (const r of rejected) app.metrics.eventsRejected.inc({ reason: r.reason });
      if (rejected.length) req.log.info({ rejected: rejected.slice(0, 10), count: rejected.length }, 'events refused');

      const body: BatchResult = { accepted: stored.length, duplicates: duplicates.length, rejected };
      return reply.code(rejected.length ? 422 : 200).send(body);
    },
  );
}

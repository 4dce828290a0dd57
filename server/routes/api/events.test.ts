/**
 * POST /v1/events against the real app on 127.0.0.1, on SQLite and on
 * PostgreSQL: every kind of bad input gets its 4xx and a clear message,
 * the server stays up, and the valid events sent alongside are stored.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS } from '../../testing/backends.ts';
import { allEvents, request, serveFresh } from '../../testing/http.ts';
import { installToken } from '../../plugins/app/install-credentials.ts';
import { cleanJpeg, correction, embedding, exifJpeg, identification, INSTALL_ID } from '../../testing/fixtures.ts';
import { roundToCell, type TelemetryEvent } from '../../../core/telemetry.ts';
import { jpegMetadataSegments } from '../../../core/image-probe.ts';

describe.each(BACKENDS)('POST /v1/events on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    const app = serveFresh(backend);
    // The fixtures' install, with its token: the bodies here are about the events, not the credential.
    const auth = async () => `Install ${await installToken(app.server.app, INSTALL_ID)}`;
    const post = async (json: unknown) => request(`${app.url}/v1/events`, { method: 'POST', json, headers: { authorization: await auth() } });
    const storedIds = async () => new Set((await allEvents(app.url)).map((e) => e.eventId));

    /** After each refusal: the server still answers and still stores. */
    async function stillServing() {
      expect((await request(`${app.url}/healthz`)).status).toBe(200);
      const e = identification();
      expect((await post({ events: [e] })).body).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    }

    it('stores a valid batch: 200 with counts', async () => {
      const events = [identification(), correction(), identification({ backend: 'webgpu', abstain: true })];
      const res = await post({ events });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
      const stored = await allEvents(app.url);
      for (const e of events) expect(stored.find((s) => s.eventId === e.eventId)?.type).toBe(e.type);
    });

    it('is idempotent: the same batch twice stores nothing new and says so', async () => {
      const events = [identification(), correction(), identification()];
      expect((await post({ events })).body).toEqual({ accepted: 3, duplicates: 0, rejected: [] });
      const before = await app.db.storedEventIds();
      const again = await post({ events });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ accepted: 0, duplicates: 3, rejected: [] });
      expect(await app.db.storedEventIds()).toEqual(before);
    });

    it('refuses malformed JSON with 400', async () => {
      const res = await request(`${app.url}/v1/events`, { method: 'POST', headers: { authorization: await auth(), 'content-type': 'application/json' }, body: '{"events": [' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'malformed JSON', message: expect.stringMatching(/not valid JSON/) });
      const empty = await request(`${app.url}/v1/events`, { method: 'POST', headers: { authorization: await auth(), 'content-type': 'application/json' }, body: '' });
      expect(empty.status).toBe(400);
      expect(empty.body.message).toMatch(/empty/);
      await stillServing();
    });

    it('refuses a body that is not JSON with 415', async () => {
      const res = await request(`${app.url}/v1/events`, { method: 'POST', headers: { authorization: await auth(), 'content-type': 'text/plain' }, body: 'hello' });
      expect(res.status).toBe(415);
      expect(res.body).toEqual({ error: 'unsupported media type', message: expect.stringMatching(/application\/json/) });
      const form = await request(`${app.url}/v1/events`, { method: 'POST', headers: { authorization: await auth(), 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' });
      expect(form.status).toBe(415);
    });

    it('refuses a wrong envelope with 400 and says where', async () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ events: { 0: identification() } }, /body\/events: Expected array/],
        [{ events: 'all of them' }, /body\/events: Expected array/],
        [{}, /body\/events|events/],
        [{ events: [] }, /body\/events: Expected array length >= 1|events/],
        [{ events: [identification()], extra: true }, /body/],
        [[identification()], /body: Expected object/],
        [null, /body/],
      ];
      for (const [body, message] of cases) {
        const res = await post(body);
        expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
        expect(res.body.error).toBe('invalid request');
        expect(res.body.message).toMatch(message);
      }
      await stillServing();
    });

    it('stores the valid events of a batch and lists the refused ones with 422', async () => {
      const good1 = identification();
      const good2 = correction();
      const unknownTaxon = identification({ top5: [{ taxonId: 'dodo', p: 0.9 }] });
      const wrongType = { ...identification(), otherProbability: 'low' };
      const batch = [good1, unknownTaxon, 42, good2, wrongType];
      const res = await post({ events: batch });
      expect(res.status).toBe(422);
      expect(res.body.accepted).toBe(2);
      expect(res.body.duplicates).toBe(0);
      expect(res.body.rejected).toEqual([
        { index: 1, eventId: unknownTaxon.eventId, reason: 'unknown-taxon', message: expect.stringMatching(/"dodo" is not a known taxon/) },
        { index: 2, eventId: null, reason: 'not-an-object', message: expect.any(String) },
        { index: 4, eventId: wrongType.eventId, reason: 'invalid-event', message: expect.stringMatching(/otherProbability/) },
      ]);
      const stored = await storedIds();
      expect(stored.has(good1.eventId) && stored.has(good2.eventId)).toBe(true);
      expect(stored.has(unknownTaxon.eventId) || stored.has(wrongType.eventId)).toBe(false);
      // Resending the same batch: the good ones are duplicates now, the bad ones still refused.
      const again = await post({ events: batch });
      expect(again.status).toBe(422);
      expect(again.body).toMatchObject({ accepted: 0, duplicates: 2 });
      expect(again.body.rejected).toHaveLength(3);
    });

    it('refuses 10,000 events in one request with 413 and stores none of them', async () => {
      const events = Array.from({ length: 10_000 }, () => identification());
      const res = await post({ events });
      expect(res.status).toBe(413);
      expect(res.body.error).toBe('payload too large');
      expect(res.body.message).toMatch(/split the batch/);
      const stored = await storedIds();
      expect(events.slice(0, 50).some((e) => stored.has(e.eventId))).toBe(false);
      await stillServing();
    });

    it('refuses more than 500 events with 413 even when the body is small', async () => {
      const events = Array.from({ length: 501 }, () => ({ type: 'identification' }));
      const res = await post({ events });
      expect(res.status).toBe(413);
      expect(res.body).toEqual({ error: 'payload too large', message: 'the batch has 501 events; at most 500 are accepted per request, split the batch' });
      const ok = await post({ events: Array.from({ length: 500 }, () => identification()) });
      expect(ok.body).toEqual({ accepted: 500, duplicates: 0, rejected: [] });
    });

    it('refuses a body over 4 MB with 413', async () => {
      const padding = 'x'.repeat(4.5 * 1024 * 1024);
      const res = await post({ events: [{ ...identification(), appVersion: padding }] });
      expect(res.status).toBe(413);
      expect(res.body.message).toMatch(/4 MB limit/);
      await stillServing();
    });

    it('refuses embeddings with NaN (sent as null or "NaN") or of the wrong length', async () => {
      const good = correction();
      const withNull = correction();
      (withNull.embedding as unknown[])[100] = null; // JSON.stringify(NaN)
      const withString = correction();
      (withString.embedding as unknown[])[7] = 'NaN';
      const short = correction({ embedding: embedding(1024) });
      const oldModel = correction({ modelVersion: '0.9.0', embedding: embedding(1280) });
      const res = await post({ events: [withNull, withString, short, oldModel, good] });
      expect(res.status).toBe(422);
      expect(res.body.accepted).toBe(1);
      expect(res.body.rejected.map((r: { reason: string }) => r.reason)).toEqual(['embedding-not-finite', 'embedding-not-finite', 'embedding-length', 'embedding-length']);
      expect(res.body.rejected[0].message).toBe('embedding[100] is null; every value must be a finite number');
      expect(res.body.rejected[1].message).toMatch(/embedding\[7\] is "NaN"/);
      expect(res.body.rejected[2].message).toMatch(/1024 values; model 1\.0\.0 produces 1280/);
      expect(res.body.rejected[3].message).toMatch(/model 0\.9\.0 produces 1024/);
      expect((await storedIds()).has(good.eventId)).toBe(true);
    });

    it('refuses a pack correction whose pack version is not listed or whose pack embedding is broken, and stores a good one', async () => {
      const pack = { id: 'inat-birds', version: '1.0.0', embedding: embedding(1280) };
      const good = correction({ pack });
      const unknown = correction({ pack: { ...pack, version: '9.9.9' } });
      const short = correction({ pack: { ...pack, embedding: embedding(1000) } });
      const withNull = correction({ pack: { ...pack, embedding: embedding(1280) } });
      (withNull.pack!.embedding as unknown[])[3] = null;
      const res = await post({ events: [unknown, short, withNull, good] });
      expect(res.status).toBe(422);
      expect(res.body.accepted).toBe(1);
      expect(res.body.rejected.map((r: { reason: string }) => r.reason)).toEqual(['unknown-pack', 'pack-embedding-length', 'pack-embedding-not-finite']);
      expect(res.body.rejected[0].message).toMatch(/species pack inat-birds 9\.9\.9 is unknown \(known: inat-birds@1\.0\.0, inat-insects@1\.0\.0\)/);
      expect((await storedIds()).has(good.eventId)).toBe(true);
    });

    it('refuses a photo with Exif and keeps a clean one byte for byte', async () => {
      const exif = await exifJpeg(96, 64);
      expect(jpegMetadataSegments(exif)).toContain('exif'); // the fixture really carries Exif
      const clean = await cleanJpeg(96, 64);
      const withExif = correction({ photo: { mimeType: 'image/jpeg', dataBase64: exif.toString('base64'), width: 96, height: 64 } });
      const withClean = correction({ photo: { mimeType: 'image/jpeg', dataBase64: clean.toString('base64'), width: 96, height: 64 } });
      const res = await post({ events: [withExif, withClean] });
      expect(res.status).toBe(422);
      expect(res.body.accepted).toBe(1);
      expect(res.body.rejected).toEqual([{ index: 0, eventId: withExif.eventId, reason: 'photo-exif', message: expect.stringMatching(/Exif/) }]);
      const stored = await storedIds();
      expect(stored.has(withExif.eventId)).toBe(false);
      expect(stored.has(withClean.eventId)).toBe(true);
    });

    it('refuses a location off the 0.2-degree grid and keeps one on it', async () => {
      const off = correction({ location: { lat: 48.8566, lon: 2.3522 } });
      const on = correction({ location: roundToCell(48.8566, 2.3522) });
      const res = await post({ events: [on, off] });
      expect(res.status).toBe(422);
      expect(res.body.rejected).toEqual([{ index: 1, eventId: off.eventId, reason: 'location-off-grid', message: expect.stringMatching(/0\.2-degree grid/) }]);
      const stored = await allEvents(app.url, 'correction');
      expect(stored.find((e) => e.eventId === on.eventId)?.payload.location).toEqual({ lat: 48.8, lon: 2.4 });
    });

    it('refuses unknown taxa and model versions in corrections, and a proposal with a taxon', async () => {
      const cases: Array<[TelemetryEvent, string]> = [
        [correction({ taxonId: 'dodo' }), 'unknown-taxon'],
        [correction({ modelVersion: '3.0.0' }), 'unknown-model-version'],
        [correction({ proposedName: 'Dodo' }), 'taxon-xor-proposed'],
        [correction({ taxonId: undefined, verdict: 'confirmed', proposedName: 'Dodo' }), 'proposed-needs-corrected'],
      ];
      const res = await post({ events: cases.map(([e]) => e) });
      expect(res.status).toBe(422);
      expect(res.body.accepted).toBe(0);
      expect(res.body.rejected.map((r: { reason: string }) => r.reason)).toEqual(cases.map(([, reason]) => reason));
      for (const r of res.body.rejected) expect(r.message.length).toBeGreaterThan(15);
    });

    it('takes a batch with the same id twice as one event and one duplicate', async () => {
      const e = identification();
      const res = await post({ events: [e, e] });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ accepted: 1, duplicates: 1, rejected: [] });
    });
  });
});

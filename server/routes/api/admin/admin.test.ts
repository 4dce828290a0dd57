import { randomUUID } from 'node:crypto';
/** The admin API on both backends: the token gate, paging, export, photos and review decisions. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDb } from '../../../testing/backends.ts';
import { ADMIN_TOKEN, admin, request, startApp, type JsonResponse, type RunningApp, serveFresh } from '../../../testing/http.ts';
import { cleanJpeg, correction, embedding, identification } from '../../../testing/fixtures.ts';

describe.each(BACKENDS)('admin API on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    const app = serveFresh(backend);
    const post = app.postEvents;

    it('wants the bearer token on every admin route: 401 with a clear message otherwise', async () => {
      const routes = ['/v1/admin/corrections', '/v1/admin/corrections/export', '/v1/admin/events', '/v1/admin/corrections/x/photo'];
      for (const path of routes) {
        const missing = await request(`${app.url}${path}`);
        expect(missing.status, path).toBe(401);
        expect(missing.body).toEqual({ error: 'unauthorized', message: expect.stringMatching(/Authorization: Bearer/) });
        expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
        const wrong = await request(`${app.url}${path}`, { token: `${ADMIN_TOKEN}x` });
        expect(wrong.status, path).toBe(401);
        expect(wrong.body.message).toBe('the admin token is wrong');
        const basic = await request(`${app.url}${path}`, { headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` } });
        expect(basic.status, path).toBe(401);
        expect(basic.body.message).toMatch(/Bearer <token>/);
      }
      const patch = await request(`${app.url}/v1/admin/corrections/x`, { method: 'PATCH', json: { status: 'accepted' } });
      expect(patch.status).toBe(401);
      expect((await admin(`${app.url}/v1/admin/events`)).status).toBe(200);
    });

    it('pages corrections oldest first, filters by status, and checks its query', async () => {
      const mine = Array.from({ length: 5 }, () => correction());
      for (const e of mine) expect((await post([e])).status).toBe(200);
      const seen: Array<{ eventId: string; receivedAt: string }> = [];
      let next: string | null = null;
      do {
        const res: JsonResponse = await admin(`${app.url}/v1/admin/corrections?limit=2${next ? `&after=${next}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        expect(res.body.items[0]).not.toHaveProperty('embedding');
        seen.push(...res.body.items);
        next = res.body.next;
      } while (next);
      // Two requests can land in the same millisecond (then the id orders them), so compare as a set.
      expect(new Set(seen.slice(-5).map((c) => c.eventId))).toEqual(new Set(mine.map((e) => e.eventId)));
      expect(new Set(seen.map((c) => c.eventId)).size).toBe(seen.length);
      expect(seen.map((c) => c.receivedAt)).toEqual(seen.map((c) => c.receivedAt).sort());

      expect((await admin(`${app.url}/v1/admin/corrections?status=accepted`)).body.items).toEqual([]);
      const bad = await admin(`${app.url}/v1/admin/corrections?status=maybe`);
      expect(bad.status).toBe(400);
      expect(bad.body.message).toMatch(/query\/status/);
      expect((await admin(`${app.url}/v1/admin/corrections?limit=0`)).status).toBe(400);
      expect((await admin(`${app.url}/v1/admin/corrections?limit=5000`)).body.message).toMatch(/query\/limit/);
      const badCursor = await admin(`${app.url}/v1/admin/corrections?after=nonsense`);
      expect(badCursor.status).toBe(400);
      expect(badCursor.body.message).toMatch(/cursor/);
      expect((await admin(`${app.url}/v1/admin/events?type=click`)).status).toBe(400);
    });

    it('exports every correction with its embedding as NDJSON', async () => {
      const e = correction({ embedding: embedding(1280, 77) });
      await post([e]);
      const res = await admin(`${app.url}/v1/admin/corrections/export`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      const text = res.body as string;
      expect(text.endsWith('\n')).toBe(true);
      const lines = text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
      const total = (await admin(`${app.url}/v1/admin/corrections?limit=1000`)).body.items.length;
      expect(lines).toHaveLength(total);
      const mine = lines.find((l) => l.eventId === e.eventId);
      expect(mine.embedding).toEqual(e.embedding.map(Math.fround));
      expect(mine.embeddingDim).toBe(1280);
      expect(lines.every((l) => Array.isArray(l.embedding) && l.embedding.length === l.embeddingDim)).toBe(true);
    });

    it('serves an opt-in photo as stored, 404 when there is none', async () => {
      const jpeg = await cleanJpeg(80, 120);
      const e = correction({ photo: { mimeType: 'image/jpeg', dataBase64: jpeg.toString('base64'), width: 80, height: 120 } });
      await post([e]);
      const res = await fetch(`${app.url}/v1/admin/corrections/${e.eventId}/photo`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/jpeg');
      expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), jpeg)).toBe(0);
      const none = await admin(`${app.url}/v1/admin/corrections/${correction().eventId}/photo`);
      expect(none.status).toBe(404);
      expect(none.body.error).toBe('not found');
    });

    it('turns an accepted proposed name into a taxon that corrections may name', async () => {
      // Grounded in an identification of its own install, as the app sends it; a fresh install so the fixtures' cap is not in the way.
      const installId = randomUUID();
      const seen = identification({ installId });
      const proposal = correction({ installId, correctsEventId: seen.eventId, taxonId: undefined, proposedName: 'Eurasian Beaver' });
      await post([seen, proposal]);
      const before = await request(`${app.url}/v1/taxa`);
      expect(before.body.taxa.some((t: { id: string }) => t.id === 'proposed-eurasian-beaver')).toBe(false);
      const usesIt = correction({ taxonId: 'proposed-eurasian-beaver' });
      expect((await post([usesIt])).body.rejected[0].reason).toBe('unknown-taxon');

      const decided = await admin(`${app.url}/v1/admin/corrections/${proposal.eventId}`, { method: 'PATCH', json: { status: 'accepted' } });
      expect(decided.status).toBe(200);
      expect(decided.body).toEqual({ eventId: proposal.eventId, status: 'accepted' });
      const taxa = await request(`${app.url}/v1/taxa`);
      expect(taxa.body.taxa.find((t: { id: string }) => t.id === 'proposed-eurasian-beaver')).toEqual({
        id: 'proposed-eurasian-beaver',
        commonName: 'Eurasian Beaver',
        scientificName: null,
        rank: null,
        lineage: {},
        source: 'proposed',
      });
      expect((await post([usesIt])).body).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
      const accepted = await admin(`${app.url}/v1/admin/corrections?status=accepted`);
      expect(accepted.body.items.map((c: { eventId: string }) => c.eventId)).toEqual([proposal.eventId]);

      expect((await admin(`${app.url}/v1/admin/corrections/${identification().eventId}`, { method: 'PATCH', json: { status: 'accepted' } })).status).toBe(404);
      const badStatus = await admin(`${app.url}/v1/admin/corrections/${proposal.eventId}`, { method: 'PATCH', json: { status: 'approved' } });
      expect(badStatus.status).toBe(400);
      expect(badStatus.body.message).toMatch(/body\/status/);
    });
  });
});

describe('admin API without ADMIN_TOKEN', () => {
  let server: RunningApp;
  let db: TestDb;
  beforeAll(async () => {
    db = await BACKENDS[0].create();
    server = await startApp({ ...db.appOptions, adminToken: null });
  });
  afterAll(async () => {
    await server?.close();
    await db?.cleanup();
  });

  it('answers 503 and says how to turn it on, whatever token is sent', async () => {
    for (const token of [null, ADMIN_TOKEN]) {
      const res = await request(`${server.url}/v1/admin/corrections`, { token });
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error: 'admin API disabled', message: 'admin API disabled: set ADMIN_TOKEN' });
    }
    expect((await request(`${server.url}/v1/taxa`)).status).toBe(200);
  });
});

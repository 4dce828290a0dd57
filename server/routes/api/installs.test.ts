/**
 * Install credentials on both backends, through the real app: issuing,
 * tokens on POST /v1/events, revocation, grounding of corrections, the
 * per-install daily cap, and deleting an install's data.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { BACKENDS } from '../../testing/backends.ts';
import { admin, postEventsWith, request, serveFresh, startApp } from '../../testing/http.ts';
import { installToken } from '../../plugins/app/install-credentials.ts';
import { rolloutDb, storeFlavor } from '../../storage/rollout-store.ts';
import { correctionPredicted } from '../../storage/migrations/0015_correction_predicted.ts';
import { cleanJpeg, correction, identification } from '../../testing/fixtures.ts';
import { InstallCredentialSchema, type InstallCredential } from '../../../core/api/installs.ts';

const CAP = 5;

describe.each(BACKENDS)('install credentials on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    const app = serveFresh(backend, { installsPerHour: 4, dailyCorrectionCap: CAP });
    const issue = async (): Promise<InstallCredential> => {
      const res = await request(`${app.url}/v1/installs`, { method: 'POST' });
      expect(res.status).toBe(201);
      expect(Value.Errors(InstallCredentialSchema, res.body).First()).toBeUndefined();
      return res.body;
    };
    const as = (c: InstallCredential, events: unknown[]) => postEventsWith(app.url, events, `Install ${c.token}`);
    const corrections = async (installId: string) => (await app.server.app.store.listCorrections({ limit: 1000 })).items.filter((c) => c.installId === installId);

    it('issues an install that can report, and refuses events without a valid token, storing nothing', async () => {
      const me = await issue();
      const mine = identification({ installId: me.installId });
      expect((await as(me, [mine])).body).toEqual({ accepted: 1, duplicates: 0, rejected: [] });

      const before = await app.db.storedEventIds();
      const sneaky = identification({ installId: me.installId });
      const [last] = me.token.split('.').slice(-1);
      const forged = [
        undefined, // no header at all
        `Bearer ${me.token}`, // the wrong scheme
        `Install ${me.token.slice(0, -1)}${last.endsWith('A') ? 'B' : 'A'}`, // signature changed
        `Install v1.${randomUUID()}.${Math.floor(Date.now() / 1000)}.${last}`, // someone else's id, my signature
        'Install not-a-token',
      ];
      for (const auth of forged) {
        const res = await postEventsWith(app.url, [sneaky], auth);
        expect(res.status, String(auth)).toBe(401);
        expect(res.body.error).toMatch(/^install token (required|invalid)$/);
      }
      // Signed with another deployment's key: not ours.
      const other = await startApp({ ...(await backend.create()).appOptions, installSecret: 'x'.repeat(40) });
      try {
        const theirs = await installToken(other.app, randomUUID());
        expect((await postEventsWith(app.url, [sneaky], `Install ${theirs}`)).status).toBe(401);
      } finally {
        await other.close();
      }
      expect(await app.db.storedEventIds()).toEqual(before);
    });

    it("refuses, by index, an event in another install's name and stores the rest", async () => {
      const me = await issue();
      const ok = identification({ installId: me.installId });
      const impostor = identification({ installId: randomUUID() });
      const res = await as(me, [ok, impostor]);
      expect(res.status).toBe(422);
      expect(res.body.accepted).toBe(1);
      expect(res.body.rejected).toEqual([{ index: 1, eventId: impostor.eventId, reason: 'install-mismatch', message: expect.stringMatching(/not the install this token was issued to/) }]);
      expect((await app.db.storedEventIds()).has(impostor.eventId)).toBe(false);
    });

    it('issues at most INSTALLS_PER_HOUR credentials to one address', async () => {
      // This describe's app allows 4 an hour; the tests above took 2.
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await request(`${app.url}/v1/installs`, { method: 'POST' })).status);
      expect(statuses).toEqual([201, 201, 429, 429]);
    });

    it("refuses a revoked install's events from then on", async () => {
      const installId = randomUUID();
      const token = await installToken(app.server.app, installId);
      expect((await postEventsWith(app.url, [identification({ installId })], `Install ${token}`)).status).toBe(200);
      const revoked = await admin(`${app.url}/v1/admin/installs/${installId}/revoke`, { method: 'POST', json: { reason: 'flooding' } });
      expect(revoked.status).toBe(200);
      expect(revoked.body).toMatchObject({ installId, reason: 'flooding' });
      const after = await postEventsWith(app.url, [identification({ installId })], `Install ${token}`);
      expect(after.status).toBe(401);
      expect(after.body.error).toBe('install revoked');
      expect((await admin(`${app.url}/v1/admin/installs/${randomUUID()}/revoke`, { method: 'POST', json: { reason: 'x' } })).status).toBe(404);
      expect((await admin(`${app.url}/v1/admin/installs/${installId}/revoke`, { method: 'POST', json: {} })).status).toBe(400);
      expect((await request(`${app.url}/v1/admin/installs/${installId}/revoke`, { method: 'POST', json: { reason: 'x' } })).status).toBe(401);
    });

    it('grounds a correction only on a stored identification of the same install and version', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      const [ta, tb] = [await installToken(app.server.app, a), await installToken(app.server.app, b)];
      const seenByA = identification({ installId: a });
      const seenByB = identification({ installId: b });
      // Arrives before its identification: waits, then is grounded when the identification comes.
      const early = correction({ installId: a, correctsEventId: seenByA.eventId });
      // Cites another install's identification, or one that does not exist: never grounded.
      const borrowed = correction({ installId: a, correctsEventId: seenByB.eventId });
      const invented = correction({ installId: a, correctsEventId: randomUUID() });
      expect((await postEventsWith(app.url, [early, borrowed, invented], `Install ${ta}`)).status).toBe(200);
      const grounding = async () => Object.fromEntries((await corrections(a)).map((c) => [c.eventId, c.grounding]));
      expect(await grounding()).toEqual({ [early.eventId]: 'waiting', [borrowed.eventId]: 'waiting', [invented.eventId]: 'waiting' });
      // What the cited identification answered is kept on a correction once it is grounded (the review queue counts agreeing installs by it), never before.
      const predicted = async () =>
        Object.fromEntries(
          (await rolloutDb(app.server.app.store).selectFrom('corrections').select(['event_id', 'predicted']).where('install_id', '=', a.toLowerCase()).execute()).map((r) => [r.event_id, r.predicted]),
        );
      expect(Object.values(await predicted())).toEqual([null, null, null]);
      expect((await postEventsWith(app.url, [seenByB], `Install ${tb}`)).status).toBe(200);
      expect((await postEventsWith(app.url, [seenByA], `Install ${ta}`)).status).toBe(200);
      expect(await grounding()).toEqual({ [early.eventId]: 'grounded', [borrowed.eventId]: 'waiting', [invented.eventId]: 'waiting' });
      expect(await predicted()).toEqual({ [early.eventId]: seenByA.abstain ? '(abstain)' : seenByA.top5[0].taxonId, [borrowed.eventId]: null, [invented.eventId]: null });
      // Migration 0015 fills it the same way for corrections grounded before it.
      const before = await predicted();
      const migration = correctionPredicted(storeFlavor(app.server.app.store))['0015_correction_predicted'];
      await migration.down!(rolloutDb(app.server.app.store));
      await migration.up(rolloutDb(app.server.app.store));
      expect(await predicted()).toEqual(before);
      // Waiting too long: unverified, and never counted.
      expect(await app.server.app.store.expireWaiting(new Date(Date.now() + 1000))).toBe(2);
      expect(await grounding()).toEqual({ [early.eventId]: 'grounded', [borrowed.eventId]: 'unverified', [invented.eventId]: 'unverified' });
      // A correction grounded on a different model version than the one it names is not grounded either.
      const seen = identification({ installId: a });
      const otherVersion = correction({ installId: a, correctsEventId: seen.eventId, modelVersion: '0.9.0', embedding: Array(1024).fill(0.5) });
      const res = await postEventsWith(app.url, [seen, otherVersion], `Install ${ta}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect((await grounding())[otherVersion.eventId]).toBe('waiting');
    });

    it(`counts at most ${CAP} corrections of one install a day, however they are batched`, async () => {
      const installId = randomUUID();
      const auth = `Install ${await installToken(app.server.app, installId)}`;
      const batch = () =>
        Array.from({ length: 4 }, () => {
          const seen = identification({ installId });
          return [seen, correction({ installId, correctsEventId: seen.eventId })];
        }).flat();
      expect((await postEventsWith(app.url, batch(), auth)).body.accepted).toBe(8);
      expect((await postEventsWith(app.url, batch(), auth)).body.accepted).toBe(8);
      const mine = await corrections(installId);
      expect(mine).toHaveLength(8);
      expect(mine.filter((c) => c.counted)).toHaveLength(CAP);
      // Another install has a cap of its own.
      const other = randomUUID();
      const seen = identification({ installId: other });
      expect((await postEventsWith(app.url, [seen, correction({ installId: other, correctsEventId: seen.eventId })], `Install ${await installToken(app.server.app, other)}`)).status).toBe(200);
      expect((await corrections(other)).map((c) => c.counted)).toEqual([true]);
    });

    it('keeps the cap when batches of one install arrive at once', async () => {
      const installId = randomUUID();
      const auth = `Install ${await installToken(app.server.app, installId)}`;
      const batch = () =>
        Array.from({ length: 3 }, () => {
          const seen = identification({ installId });
          return [seen, correction({ installId, correctsEventId: seen.eventId })];
        }).flat();
      // 4 batches of 3 corrections in flight together against a cap of 5: exactly 5 count.
      const answers = await Promise.all(Array.from({ length: 4 }, () => postEventsWith(app.url, batch(), auth)));
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      const mine = await corrections(installId);
      expect(mine).toHaveLength(12);
      expect(mine.filter((c) => c.counted)).toHaveLength(CAP);
      expect(mine.every((c) => c.grounding === 'grounded')).toBe(true);
    });

    it('deletes every event, correction and photo of an install on DELETE /v1/installs/me, and only those', async () => {
      const me = await (async () => {
        const installId = randomUUID();
        return { installId, token: await installToken(app.server.app, installId) };
      })();
      const bystander = randomUUID();
      const bystanderAuth = `Install ${await installToken(app.server.app, bystander)}`;
      const seen = identification({ installId: me.installId });
      const photo = (await cleanJpeg()).toString('base64');
      const mine = [
        seen,
        identification({ installId: me.installId }),
        correction({ installId: me.installId, correctsEventId: seen.eventId, photo: { mimeType: 'image/jpeg', dataBase64: photo, width: 96, height: 64 } }),
      ];
      expect((await postEventsWith(app.url, mine, `Install ${me.token}`)).status).toBe(200);
      const theirs = identification({ installId: bystander });
      expect((await postEventsWith(app.url, [theirs, correction({ installId: bystander, correctsEventId: theirs.eventId })], bystanderAuth)).status).toBe(200);

      const repo = app.server.app.store.installs;
      expect(await repo.counts(me.installId)).toEqual({ events: 3, corrections: 1, photos: 1 });
      const before = await repo.counts(bystander);

      expect((await request(`${app.url}/v1/installs/me`, { method: 'DELETE' })).status).toBe(401);
      const res = await request(`${app.url}/v1/installs/me`, { method: 'DELETE', headers: { authorization: `Install ${me.token}` } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ installId: me.installId, deleted: { events: 3, corrections: 1, photos: 1 } });
      expect(await repo.counts(me.installId)).toEqual({ events: 0, corrections: 0, photos: 0 });
      expect(await repo.counts(bystander)).toEqual(before);
      const ids = await app.db.storedEventIds();
      for (const e of mine) expect(ids.has(e.eventId)).toBe(false);
      // The credential is spent: nothing more can be linked to it.
      expect((await postEventsWith(app.url, [identification({ installId: me.installId })], `Install ${me.token}`)).body.error).toBe('install revoked');
      // Asking again is harmless.
      const again = await request(`${app.url}/v1/installs/me`, { method: 'DELETE', headers: { authorization: `Install ${me.token}` } });
      expect(again.body.deleted).toEqual({ events: 0, corrections: 0, photos: 0 });
    });
  });
});

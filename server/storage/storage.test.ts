import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { sql } from 'kysely';
import { BACKENDS, IN_CI, TEST_DATABASE_URL, type TestDb } from '../testing/backends.ts';
import { cleanJpeg, correction, embedding, identification } from '../testing/fixtures.ts';
import { CorrectionRowSchema, EventRowSchema, PhotoRowSchema } from './rows.ts';
import { CorrectionExportSchema, CorrectionRecordSchema, StoredEventSchema, type CorrectionExport, type FeedbackStore } from './types.ts';
import { decodeEmbedding, encodeEmbedding } from './embedding.ts';
import type { KyselyFeedbackStore } from './kysely-store.ts';
import { migrationProvider } from './migrations/index.ts';
import type { TelemetryEvent } from '../../core/telemetry.ts';
import { roundToCell } from '../../core/telemetry.ts';

describe('embedding codec', () => {
  it('round-trips float32 values exactly and float64 values to their float32', () => {
    const values = embedding(1280);
    const back = decodeEmbedding(encodeEmbedding(values));
    expect(back).toHaveLength(1280);
    expect(back).toEqual(values.map(Math.fround));
    expect(decodeEmbedding(encodeEmbedding(back))).toEqual(back);
    expect(encodeEmbedding(values).length).toBe(1280 * 4);
  });
  it('refuses bytes that are not whole float32 values', () => {
    expect(() => decodeEmbedding(new Uint8Array(5))).toThrow(/5 bytes/);
  });
});

// A failing test, not only a failing hook, so the summary's count shows it.
it.runIf(IN_CI)('has a PostgreSQL database to test against in CI (TEST_DATABASE_URL)', () => {
  expect(TEST_DATABASE_URL, 'run `bash scripts/pg-test-setup.sh` and export TEST_DATABASE_URL').toBeTruthy();
});

describe.each(BACKENDS)('feedback store on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb;
    let store: FeedbackStore;
    const raw = () => (store as KyselyFeedbackStore).db;

    beforeAll(async () => {
      db = await backend.create();
      store = await db.openStore();
    });
    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
    });

    it('migrates idempotently', async () => {
      await store.migrate();
      await store.migrate();
      const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(raw());
      // Every migration in the list, each once, in order.
      const all = Object.keys(await migrationProvider(store.kind).getMigrations()).sort();
      expect(all[0]).toBe('0001_feedback');
      expect(applied.rows.map((r) => r.name).sort()).toEqual(all);
      await store.ping();
    });

    it('stores a batch of both kinds, with rows matching their schemas', async () => {
      const photo = await cleanJpeg(96, 64);
      const events: TelemetryEvent[] = [
        identification(),
        correction({ location: roundToCell(51.5074, -0.1278) }),
        correction({ taxonId: undefined, proposedName: '  Eurasian beaver ', photo: { mimeType: 'image/jpeg', dataBase64: photo.toString('base64'), width: 96, height: 64 } }),
      ];
      const res = await store.insertBatch(events, new Date('2026-01-02T03:04:05.678Z'));
      expect(res.stored).toEqual(events);
      expect(res.duplicates).toEqual([]);

      const ids = events.map((e) => e.eventId);
      const rows = await raw().selectFrom('events').selectAll().where('event_id', 'in', ids).execute();
      expect(rows).toHaveLength(3);
      for (const r of rows) expect(Value.Errors(EventRowSchema, r).First()).toBeUndefined();
      expect(rows.every((r) => r.received_at === '2026-01-02T03:04:05.678Z')).toBe(true);
      // The payload keeps the event but not the bulky parts stored elsewhere.
      const payload = JSON.parse(rows.find((r) => r.event_id === ids[2])!.payload);
      expect(payload.embedding).toBeUndefined();
      expect(payload.photo).toBeUndefined();
      expect(payload.hasPhoto).toBe(true);

      const corr = await raw().selectFrom('corrections').selectAll().where('event_id', 'in', ids).orderBy('event_id').execute();
      expect(corr).toHaveLength(2);
      for (const r of corr) {
        expect(Value.Errors(CorrectionRowSchema, { ...r, embedding: new Uint8Array(r.embedding) }).First()).toBeUndefined();
        expect(r.status).toBe('pending');
        expect(r.embedding_dim).toBe(1280);
        expect(decodeEmbedding(r.embedding)).toEqual((events[1] as { embedding: number[] }).embedding.map(Math.fround));
      }
      const located = corr.find((r) => r.event_id === ids[1])!;
      expect([located.cell_lat, located.cell_lon]).toEqual([51.6, -0.2]);
      const proposed = corr.find((r) => r.event_id === ids[2])!;
      expect(proposed.proposed_name).toBe('Eurasian beaver');
      expect(proposed.has_photo).toBe(1);

      const photos = await raw().selectFrom('photos').selectAll().execute();
      expect(photos).toHaveLength(1);
      expect(Value.Errors(PhotoRowSchema, { ...photos[0], bytes: new Uint8Array(photos[0].bytes) }).First()).toBeUndefined();
      expect(Buffer.compare(Buffer.from(photos[0].bytes), photo)).toBe(0);
      const got = await store.getPhoto(ids[2]);
      expect(got && Buffer.compare(Buffer.from(got.bytes), photo)).toBe(0);
      expect(await store.getPhoto(ids[1])).toBeNull();
    });

    it('is idempotent: a resent batch stores nothing and reports every event as a duplicate', async () => {
      const events = [identification(), correction(), identification()];
      const first = await store.insertBatch(events);
      expect(first.stored).toHaveLength(3);
      const before = await db.storedEventIds();
      const again = await store.insertBatch(events);
      expect(again.stored).toEqual([]);
      expect(again.duplicates).toEqual(events);
      expect(await db.storedEventIds()).toEqual(before);
      // Case does not make a new id.
      const shouted = await store.insertBatch([{ ...events[0], eventId: events[0].eventId.toUpperCase() }]);
      expect(shouted.duplicates).toHaveLength(1);
    });

    it('counts an id repeated inside one batch once', async () => {
      const e = identification();
      const res = await store.insertBatch([e, { ...e, appVersion: '9.9.9' }, identification()]);
      expect(res.stored.map((x) => x.eventId)).toEqual([e.eventId, res.stored[1].eventId]);
      expect(res.duplicates).toHaveLength(1);
      const row = await raw().selectFrom('events').select('payload').where('event_id', '=', e.eventId).executeTakeFirstOrThrow();
      expect(JSON.parse(row.payload).appVersion).toBe('0.1.0');
    });

    it('stores each event once when the same batch arrives on several connections at once', async () => {
      const events = Array.from({ length: 40 }, (_, i) => (i % 4 ? identification() : correction()));
      const results = await Promise.all(Array.from({ length: 6 }, () => store.insertBatch(events)));
      expect(results.reduce((n, r) => n + r.stored.length, 0)).toBe(40);
      expect(results.reduce((n, r) => n + r.duplicates.length, 0)).toBe(40 * 5);
      const stored = await db.storedEventIds();
      expect(events.every((e) => stored.has(e.eventId))).toBe(true);
    });

    it('writes a batch in one transaction: a failing row leaves nothing of its batch behind', async () => {
      const good = [identification(), correction(), identification()];
      // Bypasses the API's checks to hit the database's own rule (taxon XOR proposed name).
      const bad = correction({ taxonId: 'lynx', proposedName: 'Not allowed with a taxon' });
      await expect(store.insertBatch([...good, bad])).rejects.toThrow();
      const stored = await db.storedEventIds();
      expect(good.some((e) => stored.has(e.eventId))).toBe(false);
      // And the store is still usable afterwards.
      expect((await store.insertBatch(good)).stored).toHaveLength(3);
    });

    it('handles the largest batch (500 events, many per statement)', async () => {
      const events = Array.from({ length: 500 }, (_, i) => (i % 10 ? identification() : correction()));
      const res = await store.insertBatch(events);
      expect(res.stored).toHaveLength(500);
    });

    it('pages corrections by arrival, filters by status, exports every one with its embedding', async () => {
      // A fresh, known set: received strictly later than everything above.
      const t0 = Date.parse('2030-01-01T00:00:00.000Z');
      const mine = Array.from({ length: 7 }, (_, i) => correction({ embedding: embedding(1280, i + 10) }));
      for (const [i, e] of mine.entries()) await store.insertBatch([e], new Date(t0 + Math.floor(i / 2) * 1000));

      const all: string[] = [];
      let after;
      let pages = 0;
      do {
        const page = await store.listCorrections({ limit: 3, after });
        for (const c of page.items) expect(Value.Errors(CorrectionRecordSchema, c).First()).toBeUndefined();
        all.push(...page.items.map((c) => c.eventId));
        after = page.next ?? undefined;
        pages++;
      } while (after);
      const tail = all.slice(-7);
      expect(new Set(tail)).toEqual(new Set(mine.map((e) => e.eventId)));
      expect(new Set(all).size).toBe(all.length); // no item twice across pages
      expect(pages).toBeGreaterThan(2);

      expect(await store.setCorrectionStatus(mine[0].eventId, 'accepted')).toBe(true);
      expect(await store.setCorrectionStatus(mine[1].eventId, 'rejected')).toBe(true);
      expect(await store.setCorrectionStatus('00000000-0000-4000-8000-000000000000', 'accepted')).toBe(false);
      const accepted = await store.listCorrections({ status: 'accepted', limit: 100 });
      expect(accepted.items.map((c) => c.eventId)).toEqual([mine[0].eventId]);
      expect(accepted.next).toBeNull();

      const exported = [];
      for await (const c of store.exportCorrections(4)) exported.push(c);
      expect(exported.map((c) => c.eventId)).toEqual(all);
      for (const c of exported) expect(Value.Errors(CorrectionExportSchema, c).First()).toBeUndefined();
      const last = exported.find((c) => c.eventId === mine[6].eventId)!;
      expect(last.embedding).toEqual(mine[6].embedding.map(Math.fround));
    });

    it("keeps a pack correction's pack id, version and own embedding apart from the base embedding, and exports them", async () => {
      const installId = randomUUID();
      const packEmbedding = embedding(1280).map((v) => v * 3 - 1);
      const withPack = correction({ installId, pack: { id: 'inat-birds', version: '1.0.0', embedding: packEmbedding } });
      const plain = correction({ installId });
      await store.insertBatch([withPack, plain]);
      const rows = await raw().selectFrom('corrections').selectAll().where('event_id', 'in', [withPack.eventId, plain.eventId]).execute();
      const row = rows.find((r) => r.event_id === withPack.eventId)!;
      expect([row.pack_id, row.pack_version, row.pack_embedding_dim]).toEqual(['inat-birds', '1.0.0', 1280]);
      expect(decodeEmbedding(row.pack_embedding!)).toEqual(packEmbedding.map(Math.fround));
      expect(Value.Errors(CorrectionRowSchema, { ...row, embedding: new Uint8Array(row.embedding), pack_embedding: new Uint8Array(row.pack_embedding!) }).First()).toBeUndefined();
      const other = rows.find((r) => r.event_id === plain.eventId)!;
      expect([other.pack_id, other.pack_version, other.pack_embedding, other.pack_embedding_dim]).toEqual([null, null, null, null]);
      // The payload names the pack but does not carry its 1,280 numbers a second time.
      const payload = JSON.parse((await raw().selectFrom('events').select('payload').where('event_id', '=', withPack.eventId).executeTakeFirstOrThrow()).payload);
      expect(payload.pack).toEqual({ id: 'inat-birds', version: '1.0.0' });
      const exported = new Map<string, CorrectionExport>();
      for await (const c of store.exportCorrections()) exported.set(c.eventId, c);
      const got = exported.get(withPack.eventId)!;
      expect(Value.Errors(CorrectionExportSchema, got).First()).toBeUndefined();
      expect(got.pack).toEqual({ id: 'inat-birds', version: '1.0.0', embedding: packEmbedding.map(Math.fround) });
      expect(got.embedding).toEqual(withPack.embedding.map(Math.fround));
      expect(exported.get(plain.eventId)!.pack).toBeNull();
    });

    it('lists proposed names only when a reviewer accepted a grounded correction', async () => {
      // An install of its own: the fixtures' install passed its daily cap in the tests above.
      const installId = randomUUID();
      const seen = identification({ installId });
      const a = correction({ installId, taxonId: undefined, proposedName: 'Pine marten', correctsEventId: seen.eventId });
      const b = correction({ installId, taxonId: undefined, proposedName: 'Quokka', correctsEventId: seen.eventId });
      // Cites an identification that was never stored: kept, never published.
      const c = correction({ installId, taxonId: undefined, proposedName: 'Hoax bird' });
      // Accepted by the automatic rule, not a person: never published.
      const d = correction({ installId, taxonId: undefined, proposedName: 'Robot owl', correctsEventId: seen.eventId });
      await store.insertBatch([seen, a, b, c, d]);
      expect(await store.acceptedProposedNames()).not.toContain('Pine marten');
      await store.setCorrectionStatus(a.eventId, 'accepted');
      await store.setCorrectionStatus(b.eventId, 'rejected');
      await store.setCorrectionStatus(c.eventId, 'accepted');
      await store.setCorrectionStatus(d.eventId, 'accepted', 'auto');
      const names = await store.acceptedProposedNames();
      expect(names).toContain('Pine marten');
      expect(names).not.toContain('Quokka');
      expect(names).not.toContain('Hoax bird');
      expect(names).not.toContain('Robot owl');
    });

    it('lists events by type with keyset pages', async () => {
      const page = await store.listEvents({ type: 'identification', limit: 5 });
      expect(page.items).toHaveLength(5);
      expect(page.items.every((e) => e.type === 'identification')).toBe(true);
      for (const e of page.items) expect(Value.Errors(StoredEventSchema, e).First()).toBeUndefined();
      const next = await store.listEvents({ type: 'identification', limit: 5, after: page.next! });
      expect(next.items.some((e) => page.items.some((p) => p.eventId === e.eventId))).toBe(false);
    });

    if (backend.name === 'sqlite') {
      it('uses WAL with synchronous=FULL so a commit is on disk before the answer', async () => {
        const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(raw());
        const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(raw());
        expect(mode.rows[0].journal_mode).toBe('wal');
        expect(sync.rows[0].synchronous).toBe(2); // FULL
      });
    }
  });
});

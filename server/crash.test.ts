/**
 * Crash safety: the real server as a child process takes batches from a
 * load generator, is killed with SIGKILL mid-load (no shutdown hooks, no
 * flush), and is started again on the same data. Every event that got a
 * 2xx must be in the database, and every batch must be there entirely or
 * not at all (one transaction). Resending the unanswered batches, as the
 * client's outbox does, then completes the set without duplicates.
 *
 * SIGKILL loses the process, not the machine: this checks that the server
 * answers only after the commit. Surviving power loss on top of that is
 * what SQLite's synchronous=FULL (checked in storage.test.ts) and
 * PostgreSQL's synchronous_commit are for.
 *
 * With credentials in place, as the app sends: the install is issued by
 * the first server (POST /v1/installs) and its token must still be good on
 * the restarted one, whose key comes from the same store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../node/server-process.ts';
import { BACKENDS, type TestDb } from './testing/backends.ts';
import { ADMIN_TOKEN } from './testing/http.ts';
import { correction, identification } from './testing/fixtures.ts';
import type { TelemetryEvent } from '../core/telemetry.ts';

const BATCH = 20;
const WORKERS = 4;
/** Kill once this many batches were answered, so the kill lands while others are in flight. */
const ACKED_BEFORE_KILL = 25;
const LOAD_LIMIT_MS = 20_000;

const serverEnv = (db: TestDb) => ({ ADMIN_TOKEN, RATE_LIMIT_MAX: '1000000', DATABASE_URL: '', DATABASE_SCHEMA: '', ...db.env });

interface Credential {
  installId: string;
  token: string;
}
const makeBatch = (me: Credential): TelemetryEvent[] => Array.from({ length: BATCH }, (_, i) => (i % 4 === 0 ? correction({ installId: me.installId }) : identification({ installId: me.installId })));

async function send(url: string, me: Credential, events: TelemetryEvent[]): Promise<number> {
  const res = await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Install ${me.token}` }, body: JSON.stringify({ events }) });
  await res.arrayBuffer();
  return res.status;
}

describe.each(BACKENDS)('crash safety on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb;
    const servers: ServerProcess[] = [];
    beforeAll(async () => {
      db = await backend.create();
    });
    afterAll(async () => {
      for (const s of servers) await s.stop();
      await db?.cleanup();
    });

    it('keeps every acknowledged event through a SIGKILL mid-load', async () => {
      const first = await startServerProcess(serverEnv(db));
      servers.push(first);
      const issued = await fetch(`${first.url}/v1/installs`, { method: 'POST' });
      expect(issued.status).toBe(201);
      const me = (await issued.json()) as Credential;
      const batches: Array<{ events: TelemetryEvent[]; acked: boolean }> = [];
      let acked = 0;
      let killed = false;
      const started = Date.now();

      // Bounded load: WORKERS loops, each sending one batch after another
      // until the server dies (or the time limit, which fails the test below).
      const worker = async () => {
        while (!killed && Date.now() - started < LOAD_LIMIT_MS) {
          const entry = { events: makeBatch(me), acked: false };
          batches.push(entry);
          try {
            const status = await send(first.url, me, entry.events);
            if (status >= 200 && status < 300) {
              entry.acked = true;
              acked++;
            } else throw new Error(`unexpected ${status}`);
          } catch (err) {
            if (!killed) throw err;
            return; // the connection died with the server: this batch is unanswered
          }
          if (acked >= ACKED_BEFORE_KILL && !killed) {
            killed = true;
            await first.stop('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, worker));
      expect(killed, `load ran ${LOAD_LIMIT_MS} ms without reaching ${ACKED_BEFORE_KILL} answered batches`).toBe(true);
      expect(first.child.signalCode).toBe('SIGKILL');
      const unanswered = batches.filter((b) => !b.acked);
      expect(unanswered.length).toBeGreaterThan(0); // the kill really landed mid-load

      const second = await startServerProcess(serverEnv(db));
      servers.push(second);
      const stored = await db.storedEventIds();
      for (const b of batches.filter((x) => x.acked)) {
        const missing = b.events.filter((e) => !stored.has(e.eventId));
        expect(
          missing.map((e) => e.eventId),
          'acknowledged events missing after the crash',
        ).toEqual([]);
      }
      // Each unanswered batch was committed whole or not at all.
      for (const b of unanswered) {
        const present = b.events.filter((e) => stored.has(e.eventId)).length;
        expect([0, BATCH]).toContain(present);
      }

      // The outbox resends what got no answer; nothing is stored twice.
      for (const b of unanswered) {
        const res = await fetch(`${second.url}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Install ${me.token}` },
          body: JSON.stringify({ events: b.events }),
        });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { accepted: number; duplicates: number };
        expect(body.accepted + body.duplicates).toBe(BATCH);
      }
      const after = await db.storedEventIds();
      const all = batches.flatMap((b) => b.events.map((e) => e.eventId));
      expect(all.every((id) => after.has(id))).toBe(true);
      expect(after.size).toBe(new Set(all).size);
      await second.stop();
    });
  });
});

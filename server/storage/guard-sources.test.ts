/**
 * What the rollout guard hears from each arm, on SQLite and PostgreSQL:
 * installs whose credential is younger than the step, or revoked, have no
 * say; per network at most three installs count and one of them may fail;
 * only grounded, counted corrections count.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDb } from '../testing/backends.ts';
import { correction, identification } from '../testing/fixtures.ts';
import { armInstalls, rolloutDb, shadowInstalls, storeFlavor } from './rollout-store.ts';
import type { FeedbackStore } from './types.ts';
import type { ModelStatusEvent } from '../../core/telemetry.ts';

const HOUR = 3_600_000;

describe.each(BACKENDS)("the guard's sources on $name", (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb;
    let store: FeedbackStore;
    beforeAll(async () => {
      db = await backend.create();
      store = await db.openStore();
    });
    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
    });

    it('counts old credentials, drops fresh and revoked ones, caps each network and its failures', async () => {
      const stepAt = Date.now() - HOUR;
      const since = new Date(stepAt).toISOString();
      const old = new Date(stepAt - 48 * HOUR);
      const version = '0.9.0';
      const install = async (network: string, issuedAt: Date) => {
        const id = randomUUID();
        await store.installs.issue({ installId: id, issuedAt, networkHash: network });
        return id;
      };
      const failing = (installId: string): ModelStatusEvent => ({
        type: 'model_status',
        eventId: randomUUID(),
        installId,
        modelVersion: version,
        outcome: 'failed-to-start',
        reason: 'other',
        appVersion: 't',
        hour: new Date().toISOString().slice(0, 13) + ':00:00.000Z',
      });
      const honest = [await install('n1', old), await install('n2', old)];
      const fresh = await install('n3', new Date(stepAt + 60_000));
      const revoked = await install('n4', old);
      await store.installs.revoke(revoked, 'test');
      const farm = await Promise.all(Array.from({ length: 6 }, (_, i) => install('farm', new Date(old.getTime() + i * 1000))));
      const events: unknown[] = [...honest, fresh, revoked, ...farm].flatMap((id) => [identification({ installId: id, modelVersion: version, embedding: undefined } as never), failing(id)]);
      // One grounded correction (counted) and one that cites nothing (not counted).
      const seen = identification({ installId: honest[0], modelVersion: version });
      events.push(seen, correction({ installId: honest[0], correctsEventId: seen.eventId, modelVersion: version, embedding: Array(1024).fill(0.1) }));
      events.push(correction({ installId: honest[1], correctsEventId: randomUUID(), modelVersion: version, embedding: Array(1024).fill(0.1) }));
      await store.insertBatch(events as never);

      const arm = await armInstalls(rolloutDb(store), storeFlavor(store), { version }, { since, until: new Date(Date.now() + HOUR).toISOString() });
      expect(arm.has(fresh)).toBe(false);
      expect(arm.has(revoked)).toBe(false);
      expect(honest.every((id) => arm.has(id))).toBe(true);
      // The farm's three oldest credentials count, and only one of them as failing.
      const farmIn = farm.filter((id) => arm.has(id));
      expect(farmIn).toEqual(farm.slice(0, 3));
      expect(farmIn.filter((id) => arm.get(id)!.failures > 0)).toHaveLength(1);
      expect(arm.get(honest[0])!.failures).toBe(1);
      expect(arm.get(honest[1])!.failures).toBe(1);
      expect(arm.get(honest[0])!.corrections).toBe(1);
      expect(arm.get(honest[1])!.corrections).toBe(0);
    });

    it('hears shadow results by source too: a farm on one network counts three times, a revoked install not at all', async () => {
      const version = '0.9.0';
      const old = new Date(Date.now() - 48 * HOUR);
      const ids = await Promise.all(
        [...Array.from({ length: 6 }, () => 'shadow-farm'), 'shadow-n1', 'shadow-n2'].map(async (network) => {
          const id = randomUUID();
          await store.installs.issue({ installId: id, issuedAt: old, networkHash: network });
          return id;
        }),
      );
      await store.installs.revoke(ids[7], 'test');
      const shadow = { modelVersion: version, top1Agree: false, top5Overlap: 1, inferenceMs: 30, failed: true };
      await store.insertBatch(ids.map((installId) => identification({ installId, shadow })));
      const counted = await shadowInstalls(rolloutDb(store), storeFlavor(store), version);
      // 3 of the farm's 6, shadow-n1; not the revoked shadow-n2.
      expect(counted).toHaveLength(4);
      expect(counted.every((c) => c.runs === 1 && c.failures === 1)).toBe(true);
    });
  });
});

/**
 * Species-pack rollouts against the real storage (SQLite file; PostgreSQL too
 * with TEST_DATABASE_URL), through the base model's machinery: the admin
 * routes under /v1/admin/packs/:id/..., GET /v1/models listing every pack
 * version with its status and each pack's rollout, and the rollout guard
 * judging a pack canary on the identifications each pack version answered:
 * a canary whose answers are corrected much more often is rolled back, an
 * equal one is stepped, and a flood from one network does not move it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { BACKENDS, type TestDb } from '../testing/backends.ts';
import { admin, request, startApp, type RunningApp } from '../testing/http.ts';
import { tempRegistry, traffic } from '../testing/guard-traffic.ts';
import { addPackVersion } from '../testing/pack-version.ts';
import { guardTick } from './rollout-guard.ts';
import type { TelemetryEvent } from '../../core/telemetry.ts';

const PACK = 'inat-birds';
const HOUR = 3_600_000;
/** Identifications of the base model's 1.0.0 that pack version `version` answered too. */
const packTraffic = (version: string, installs: number, perInstall: number, pCorrected: number, seed: number, installIds?: string[]) =>
  traffic('1.0.0', installs, perInstall, pCorrected, seed, { pack: { id: PACK, version }, installIds });

describe.each(BACKENDS)('species-pack rollouts on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb;
    let server: RunningApp;
    let url: string;
    let registryDir: string;
    const models = async () => (await request(`${url}/v1/models`)).body;
    const packStatus = async () => Object.fromEntries((await models()).packs.filter((p: any) => p.id === PACK).map((p: any) => [p.version, p.status]));
    const post = (path: string, json: unknown) => admin(`${url}/v1/admin/packs/${PACK}/${path}`, { method: 'POST', json });
    const insert = async (events: TelemetryEvent[]) => {
      for (let i = 0; i < events.length; i += 500) await server.app.store.insertBatch(events.slice(i, i + 500));
    };
    const tickAt = (offsetMs: number) => guardTick(server.app.store, server.app.rolloutGuard.config, new Date(Date.now() + offsetMs));

    beforeAll(async () => {
      db = await backend.create();
      registryDir = tempRegistry();
      // 1.0.1 to 1.0.4, registered as the pipeline registers a retrained head.
      for (let i = 0; i < 4; i++) await addPackVersion(registryDir, PACK);
      // The base guard test's settings: wide non-inferiority margins keep the synthetic traffic small.
      server = await startApp({
        ...db.appOptions,
        registryDir,
        rolloutGuard: { intervalMs: 0, config: { minEvents: 100, minInstalls: 20, minStepS: 3600, nonInferiorityMargins: { correctionRate: 0.05, abstainRate: 0.05, errorRate: 0.01 } } },
      });
      url = server.url;
    });
    afterAll(async () => {
      await server?.close();
      await db?.cleanup();
      if (registryDir) rmSync(registryDir, { recursive: true, force: true });
    });

    it('GET /v1/models lists every pack version with its status and each pack rollout; the admin routes need the token and a known pack and version', async () => {
      const m = await models();
      expect(await packStatus()).toEqual({ '1.0.0': 'active', '1.0.1': 'candidate', '1.0.2': 'candidate', '1.0.3': 'candidate', '1.0.4': 'candidate' });
      expect(m.packRollouts).toEqual({ 'inat-birds': null, 'inat-insects': null });
      expect((await request(`${url}/v1/admin/packs/${PACK}/1.0.1/canary`, { method: 'POST', json: { percent: 5, reason: 'x' } })).status).toBe(401);
      expect((await admin(`${url}/v1/admin/packs/no-such-pack/1.0.1/canary`, { method: 'POST', json: { percent: 5, reason: 'x' } })).status).toBe(404);
      expect((await post('9.9.9/canary', { percent: 5, reason: 'x' })).status).toBe(404);
      expect((await post('1.0.1/canary', { percent: 5, reason: 'x', shadowOverride: { reason: 'packs have no shadow' } })).status).toBe(400);
      const spec = (await request(`${url}/v1/openapi.json`)).body;
      for (const route of ['/{id}/{version}/canary', '/{id}/rollout/step', '/{id}/rollout/promote', '/{id}/rollout/rollback', '/{id}/{version}/activate', '/{id}/changes']) {
        expect(spec.paths[`/v1/admin/packs${route}`], route).toBeDefined();
      }
    });

    it('starts, steps, promotes and rolls back a pack canary beside the base model, each change in the pack change log', async () => {
      const start = await post('1.0.1/canary', { percent: 5, holdback: 10, reason: 'retrained birds head' });
      expect(start.status, JSON.stringify(start.body)).toBe(200);
      expect(start.body.rollout).toMatchObject({ pack: PACK, version: '1.0.1', controlVersion: '1.0.0', percent: 5, holdback: 10 });
      let m = await models();
      expect(m.packRollouts[PACK]).toMatchObject({ id: start.body.rollout.id, version: '1.0.1', controlVersion: '1.0.0', percent: 5, step: 5, holdback: 10, state: 'running' });
      expect(m.packRollouts['inat-insects']).toBeNull();
      // The base model's rollout is its own.
      expect(m.rollout).toBeNull();
      expect(await packStatus()).toMatchObject({ '1.0.0': 'active', '1.0.1': 'canary' });
      expect((await post('1.0.2/canary', { percent: 5, reason: 'second' })).status).toBe(409);
      expect((await post('1.0.2/activate', { reason: 'during a canary' })).status).toBe(409);
      const step = await post('rollout/step', { reason: 'looks fine' });
      expect(step.body.rollout.percent).toBe(25);
      expect((await post('rollout/step', { percent: 10, reason: 'down?' })).status).toBe(409);
      const prom = await post('rollout/promote', { reason: 'good' });
      expect(prom.status).toBe(200);
      m = await models();
      expect(m.packRollouts[PACK]).toBeNull();
      // The control is retired, so no longer offered.
      expect(await packStatus()).toEqual({ '1.0.1': 'active', '1.0.2': 'candidate', '1.0.3': 'candidate', '1.0.4': 'candidate' });
      expect((await post('rollout/rollback', { reason: 'nothing running' })).status).toBe(409);
      expect((await post('1.0.0/activate', { reason: 'back to the converted pack' })).status).toBe(200);
      expect(await packStatus()).toMatchObject({ '1.0.0': 'active' });
      expect(await packStatus()).not.toHaveProperty('1.0.1');

      const changes = (await admin(`${url}/v1/admin/packs/${PACK}/changes?limit=50`)).body.items;
      expect(changes.map((c: any) => c.action)).toEqual(['activate', 'promote', 'canary-step', 'canary-start']);
      for (const c of changes) expect(c).toMatchObject({ pack: PACK, actor: 'admin', reason: expect.any(String) });
      expect((await admin(`${url}/v1/admin/packs/${PACK}/changes?version=1.0.1`)).body.items.map((c: any) => c.action)).toEqual(['promote', 'canary-step', 'canary-start']);
      // Not in the base model's log.
      expect((await admin(`${url}/v1/admin/models/changes`)).body.items).toEqual([]);
    });

    it('the guard rolls back a pack canary whose answers are corrected much more often than the control, by itself, and says why', async () => {
      expect((await post('1.0.2/canary', { percent: 5, reason: 'sim: worse pack' })).status).toBe(200);
      // 10% vs 30% corrected over 150 installs an arm.
      await insert([...packTraffic('1.0.0', 150, 6, 0.1, 103), ...packTraffic('1.0.2', 150, 6, 0.3, 104)]);
      const out = (await admin(`${url}/v1/admin/models/guard/run`, { method: 'POST' })).body;
      const check = out.packs.find((p: any) => p.pack === PACK);
      expect(check.acted, check.decision.reason).toBe('rollback');
      expect(check.decision.reason).toMatch(/correctionRate/);
      expect(check.canary).toMatchObject({ installs: 150, identifications: 900 });
      expect(check.control).toMatchObject({ installs: 150, identifications: 900 });
      expect((await models()).packRollouts[PACK]).toBeNull();
      expect(await packStatus()).not.toHaveProperty('1.0.2');
      const last = (await admin(`${url}/v1/admin/packs/${PACK}/changes?limit=1`)).body.items[0];
      expect(last).toMatchObject({ action: 'rollback', actor: 'guard', pack: PACK, version: '1.0.2', reason: expect.stringMatching(/correctionRate .* vs /) });
    });

    it('the guard steps an equal pack canary once the step is old enough', async () => {
      expect((await post('1.0.3/canary', { percent: 5, plan: [5, 50, 100], reason: 'sim: equal pack' })).status).toBe(200);
      await insert([...packTraffic('1.0.0', 300, 6, 0.08, 120), ...packTraffic('1.0.3', 300, 6, 0.08, 121)]);
      let out = await tickAt(0);
      let check = out.packs!.find((p) => p.pack === PACK)!;
      expect(check.decision!.reason).toMatch(/^not yet: the step is \d+ s old/);
      out = await tickAt(2 * HOUR);
      check = out.packs!.find((p) => p.pack === PACK)!;
      expect(check.acted, check.decision!.reason).toBe('step');
      expect((await models()).packRollouts[PACK]).toMatchObject({ version: '1.0.3', step: 50 });
      expect((await post('rollout/rollback', { reason: 'end of the equal simulation' })).status).toBe(200);
    });

    it('a flood from one network, many installs correcting every answer of the pack canary, does not move it', async () => {
      expect((await post('1.0.4/canary', { percent: 5, reason: 'sim: flooded pack' })).status).toBe(200);
      const old = new Date(Date.now() - 48 * HOUR);
      // From 100 networks this flood rolls the canary back (65.8% vs 8.7% corrected); from one, three of its installs count.
      const farm = Array.from({ length: 100 }, () => randomUUID());
      for (const [i, installId] of farm.entries()) await server.app.store.installs.issue({ installId, issuedAt: new Date(old.getTime() + i * 1000), networkHash: 'one-network' });
      await insert([...packTraffic('1.0.0', 100, 6, 0.08, 130), ...packTraffic('1.0.4', 100, 6, 0.08, 131), ...packTraffic('1.0.4', 100, 20, 1, 132, farm)]);
      const out = await tickAt(0);
      const check = out.packs!.find((p) => p.pack === PACK)!;
      expect(check.acted, check.decision!.reason).toBeNull();
      // Three installs of that network count, not a hundred.
      expect(check.canary).toMatchObject({ installs: 103 });
      const rate = (check.decision!.checks as any).rates.find((r: any) => r.metric === 'correctionRate');
      expect(rate.worse).toBe(false);
      expect((await models()).packRollouts[PACK]).toMatchObject({ version: '1.0.4', step: 5 });
    });
  });
});

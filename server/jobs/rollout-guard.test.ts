/**
 * Model rollouts against the real storage (SQLite file; PostgreSQL too with
 * TEST_DATABASE_URL): the admin routes and change log, GET /v1/models, the
 * job lease, and a simulation that drives the rollout guard with synthetic
 * telemetry: a clearly worse canary is rolled back by itself, an equal one
 * steps up, too few events decide nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { BACKENDS, type TestDb } from '../testing/backends.ts';
import { admin, request, startApp, type RunningApp } from '../testing/http.ts';
import { correction, identification } from '../testing/fixtures.ts';
import { REGISTRY_DIR } from '../../node/paths.ts';
import { rolloutDb, tryLease } from '../storage/rollout-store.ts';
import type { TelemetryEvent } from '../../core/telemetry.ts';

/** A registry folder with the real manifest only (the guard and routes never read model bytes). */
function tempRegistry(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wildsight-registry-'));
  cpSync(path.join(REGISTRY_DIR, 'manifest.json'), path.join(dir, 'manifest.json'));
  return dir;
}

/** n identifications of `version`, `corrected` of them corrected by the user, `abstains` abstaining. */
function traffic(version: string, n: number, corrected: number, opts: { abstains?: number; totalMs?: number } = {}): TelemetryEvent[] {
  const out: TelemetryEvent[] = [];
  for (let i = 0; i < n; i++) {
    const id = identification({ eventId: randomUUID(), installId: randomUUID(), modelVersion: version, abstain: i < (opts.abstains ?? 0), timings: { decodeMs: 1, preprocessMs: 2, inferenceMs: 30, totalMs: opts.totalMs ?? 40 + (i % 10) } });
    out.push(id);
    if (i < corrected) out.push(correction({ eventId: randomUUID(), correctsEventId: id.eventId, modelVersion: version, embedding: new Array(version === '1.0.0' ? 1280 : 1024).fill(0.1) }));
  }
  return out;
}

describe.each(BACKENDS)('model rollouts on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb;
    let server: RunningApp;
    let url: string;
    let registryDir: string;
    const models = async () => (await request(`${url}/v1/models`)).body;
    const guard = async () => {
      const res = await admin(`${url}/v1/admin/models/guard/run`, { method: 'POST' });
      expect(res.status).toBe(200);
      return res.body;
    };
    const insert = async (events: TelemetryEvent[]) => {
      for (let i = 0; i < events.length; i += 500) await server.app.store.insertBatch(events.slice(i, i + 500));
    };

    beforeAll(async () => {
      db = await backend.create();
      registryDir = tempRegistry();
      server = await startApp({ ...db.appOptions, registryDir, rolloutGuard: { intervalMs: 0, config: { minEvents: 150 } } });
      url = server.url;
    });
    afterAll(async () => {
      await server?.close();
      await db?.cleanup();
      if (registryDir) rmSync(registryDir, { recursive: true, force: true });
    });

    it('serves the manifest with statuses and no rollout; admin routes need the token', async () => {
      const m = await models();
      expect(m.active).toBe('1.0.0');
      expect(Object.fromEntries(m.versions.map((v: any) => [v.version, v.status]))).toEqual({ '1.0.0': 'active', '0.9.0': 'candidate' });
      expect(m.versions[0]).toMatchObject({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: expect.any(Number), input: { size: 224 }, labelsSha256: expect.any(String) });
      expect(m.rollout).toBeNull();
      expect((await request(`${url}/v1/admin/models/0.9.0/canary`, { method: 'POST', json: { percent: 5, reason: 'x' } })).status).toBe(401);
      expect((await request(`${url}/v1/admin/models/changes`)).status).toBe(401);
    });

    it('registers a version from a file in the registry folder, as a candidate', async () => {
      mkdirSync(path.join(registryDir, 'incoming'), { recursive: true });
      writeFileSync(path.join(registryDir, 'incoming', 'model.onnx'), Buffer.from('not really onnx, but bytes with a sha256'));
      const bad = await admin(`${url}/v1/admin/models`, { method: 'POST', json: { version: '1.1.0', file: '../../etc/passwd', baseVersion: '1.0.0', reason: 'x' } });
      expect(bad.status).toBe(400);
      const res = await admin(`${url}/v1/admin/models`, { method: 'POST', json: { version: '1.1.0', file: 'incoming/model.onnx', baseVersion: '1.0.0', meta: { metrics: { top1: 0.8 } }, reason: 'retrained head' } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.version).toMatchObject({ version: '1.1.0', file: '1.1.0/model.onnx', status: 'candidate', metrics: { top1: 0.8 }, lineage: { parent: '1.0.0' } });
      const again = await admin(`${url}/v1/admin/models`, { method: 'POST', json: { version: '1.1.0', file: 'incoming/model.onnx', baseVersion: '1.0.0', reason: 'again' } });
      expect(again.status).toBe(409);
      expect((await models()).versions.map((v: any) => v.version)).toContain('1.1.0');
    });

    it('starts, steps, rolls back and promotes canaries, each change logged with when and why', async () => {
      const start = await admin(`${url}/v1/admin/models/0.9.0/canary`, { method: 'POST', json: { percent: 5, reason: 'first canary' } });
      expect(start.status, JSON.stringify(start.body)).toBe(200);
      let m = await models();
      expect(m.rollout).toMatchObject({ version: '0.9.0', controlVersion: '1.0.0', percent: 5, id: start.body.rollout.id });
      expect(m.versions.find((v: any) => v.version === '0.9.0').status).toBe('canary');
      expect((await admin(`${url}/v1/admin/models/1.1.0/canary`, { method: 'POST', json: { percent: 5, reason: 'second' } })).status).toBe(409);
      const step = await admin(`${url}/v1/admin/models/rollout/step`, { method: 'POST', json: { reason: 'looks fine' } });
      expect(step.body.rollout.percent).toBe(25);
      expect((await admin(`${url}/v1/admin/models/rollout/step`, { method: 'POST', json: { percent: 10, reason: 'down?' } })).status).toBe(409);
      const back = await admin(`${url}/v1/admin/models/rollout/rollback`, { method: 'POST', json: { reason: 'testing rollback' } });
      expect(back.body.rollout.state).toBe('rolled_back');
      m = await models();
      expect(m.rollout).toBeNull();
      expect(m.active).toBe('1.0.0');
      expect(m.versions.find((v: any) => v.version === '0.9.0').status).toBe('retired');

      await admin(`${url}/v1/admin/models/1.1.0/canary`, { method: 'POST', json: { percent: 50, reason: 'try 1.1.0' } });
      const prom = await admin(`${url}/v1/admin/models/rollout/promote`, { method: 'POST', json: { reason: 'good' } });
      expect(prom.status).toBe(200);
      m = await models();
      expect(m.active).toBe('1.1.0');
      expect(Object.fromEntries(m.versions.map((v: any) => [v.version, v.status]))).toEqual({ '1.0.0': 'retired', '0.9.0': 'retired', '1.1.0': 'active' });
      // Back to 1.0.0 for the simulation below.
      expect((await admin(`${url}/v1/admin/models/1.0.0/activate`, { method: 'POST', json: { reason: 'restore' } })).status).toBe(200);
      expect((await models()).active).toBe('1.0.0');

      const changes = (await admin(`${url}/v1/admin/models/changes?limit=50`)).body.items;
      expect(changes.map((c: any) => c.action)).toEqual(['activate', 'promote', 'canary-start', 'rollback', 'canary-step', 'canary-start', 'register']);
      for (const c of changes) {
        expect(c.reason.length).toBeGreaterThan(0);
        expect(Date.parse(c.at)).not.toBeNaN();
        expect(c.actor).toBe('admin');
      }
    });

    it('shadow candidates are announced with their sample rate', async () => {
      expect((await admin(`${url}/v1/admin/models/1.0.0/shadow`, { method: 'POST', json: { sampleRate: 0.5, reason: 'x' } })).status).toBe(409);
      expect((await admin(`${url}/v1/admin/models/0.9.0/shadow`, { method: 'POST', json: { sampleRate: 0.5, reason: 'compare' } })).status).toBe(200);
      expect((await models()).shadow).toEqual({ version: '0.9.0', sampleRate: 0.5 });
      await admin(`${url}/v1/admin/models/0.9.0/shadow`, { method: 'POST', json: { sampleRate: 0, reason: 'stop' } });
      expect((await models()).shadow).toBeNull();
    });

    it('simulation: the guard rolls back a canary with a clearly higher correction rate, by itself, and says why', async () => {
      await admin(`${url}/v1/admin/models/0.9.0/canary`, { method: 'POST', json: { percent: 5, reason: 'sim: worse canary' } });
      // Too few events: nothing is decided.
      await insert([...traffic('1.0.0', 20, 2), ...traffic('0.9.0', 20, 2)]);
      let out = await guard();
      expect(out.decision.action).toBe('wait');
      expect(out.acted).toBeNull();
      expect((await models()).rollout.percent).toBe(5);
      // 10% vs 30% corrected on 300 each.
      await insert([...traffic('1.0.0', 300, 30), ...traffic('0.9.0', 300, 90)]);
      out = await guard();
      expect(out.acted).toBe('rollback');
      expect(out.decision.reason).toMatch(/correctionRate/);
      const m = await models();
      expect(m.rollout).toBeNull();
      expect(m.versions.find((v: any) => v.version === '0.9.0').status).toBe('retired');
      const last = (await admin(`${url}/v1/admin/models/changes?limit=1`)).body.items[0];
      expect(last).toMatchObject({ action: 'rollback', actor: 'guard', version: '0.9.0', reason: expect.stringMatching(/correctionRate .* vs /) });
      expect(last.details.canary.identifications).toBeGreaterThanOrEqual(300);
    });

    it('simulation: an equal canary steps up through the plan and is promoted; the lease lets one instance act', async () => {
      const start = await admin(`${url}/v1/admin/models/0.9.0/canary`, { method: 'POST', json: { percent: 5, plan: [5, 50, 100], reason: 'sim: equal canary' } });
      expect(start.status).toBe(200);
      await insert([...traffic('1.0.0', 200, 20, { abstains: 10 }), ...traffic('0.9.0', 200, 20, { abstains: 10 })]);
      let out = await guard();
      expect(out.acted, JSON.stringify(out.decision)).toBe('step');
      expect((await models()).rollout.percent).toBe(50);
      // Stats restart at each step: right after it there is too little to go on.
      out = await guard();
      expect(out.decision.action).toBe('wait');
      await insert([...traffic('1.0.0', 200, 20), ...traffic('0.9.0', 200, 21)]);
      out = await guard();
      expect(out.acted).toBe('step');
      expect((await models()).rollout.percent).toBe(100);
      await insert(traffic('0.9.0', 200, 20));
      out = await guard();
      expect(out.acted).toBe('promote');
      expect((await models()).active).toBe('0.9.0');

      // Another instance cannot take the guard's lease while this one holds it.
      const dbh = rolloutDb(server.app.store);
      expect(await tryLease(dbh, 'rollout-guard', 'other-instance', 60_000)).toBe(false);
      expect(await tryLease(dbh, 'rollout-guard', 'other-instance', 60_000, new Date(Date.now() + 3_600_000))).toBe(true);
    });
  });
});

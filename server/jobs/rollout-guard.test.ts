/**
 * Model rollouts against the real storage (SQLite file; PostgreSQL too with
 * TEST_DATABASE_URL): the admin routes and change log, GET /v1/models, the
 * job lease, the guard's window and per-install counting, and simulations
 * that drive the rollout guard with synthetic telemetry: a clearly worse
 * canary is rolled back by itself, one that fails to load on 3 installs is
 * rolled back at the next tick, an equal one waits for ROLLOUT_MIN_STEP_S
 * and non-inferiority before stepping, and is promoted only against the
 * holdback; one install's flood weighs like one install.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { BACKENDS, type TestDb } from '../testing/backends.ts';
import { admin, request, startApp, type RunningApp } from '../testing/http.ts';
import { correction, identification } from '../testing/fixtures.ts';
import { embeddingFor, tempRegistry, traffic } from '../testing/guard-traffic.ts';
import { REGISTRY_DIR } from '../../node/paths.ts';
import { armInstalls, currentRollout, rolloutDb, storeFlavor, tryLease } from '../storage/rollout-store.ts';
import { guardConfigFromEnv, guardTick } from './rollout-guard.ts';
import { truncateToHour, type ModelStatusEvent, type TelemetryEvent } from '../../core/telemetry.ts';

const modelStatus = (version: string, outcome: ModelStatusEvent['outcome'], installId = randomUUID()): ModelStatusEvent => ({
  type: 'model_status',
  eventId: randomUUID(),
  installId,
  modelVersion: version,
  outcome,
  reason: outcome === 'loaded' ? undefined : 'session-create',
  appVersion: '0.1.0',
  hour: truncateToHour(Date.now()),
});

describe('guard settings from the environment', () => {
  it('reads ROLLOUT_MIN_STEP_S, ROLLOUT_MIN_INSTALLS and the others, with defaults, and refuses nonsense', () => {
    expect(guardConfigFromEnv({})).toEqual({ intervalMs: 300_000, minEvents: 200, minInstalls: 30, minStepS: 86_400 });
    expect(guardConfigFromEnv({ ROLLOUT_MIN_STEP_S: '0', ROLLOUT_MIN_INSTALLS: '5', ROLLOUT_GUARD_INTERVAL_S: '1' })).toMatchObject({ minStepS: 0, minInstalls: 5, intervalMs: 1000 });
    expect(() => guardConfigFromEnv({ ROLLOUT_MIN_STEP_S: '-1' })).toThrow(/ROLLOUT_MIN_STEP_S/);
    expect(() => guardConfigFromEnv({ ROLLOUT_MIN_INSTALLS: '1' })).toThrow(/ROLLOUT_MIN_INSTALLS/);
  });
});

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
      // Wide non-inferiority margins keep the synthetic traffic small; core/rollout-guard.test.ts and the
      // rollout simulation check the statistics at the real margins.
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

    it('serves the manifest with statuses and no rollout; admin routes need the token', async () => {
      const m = await models();
      expect(m.active).toBe('1.0.0');
      expect(Object.fromEntries(m.versions.map((v: any) => [v.version, v.status]))).toEqual({ '1.0.0': 'active', '0.9.0': 'candidate', '1.0.2': 'candidate' });
      expect(m.versions[0]).toMatchObject({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: expect.any(Number), input: { size: 224 }, labelsSha256: expect.any(String) });
      expect(m.rollout).toBeNull();
      expect((await request(`${url}/v1/admin/models/0.9.0/canary`, { method: 'POST', json: { percent: 5, reason: 'x' } })).status).toBe(401);
      expect((await request(`${url}/v1/admin/models/changes`)).status).toBe(401);
    });

    it('registers a version from a file in the registry folder, as a candidate', async () => {
      mkdirSync(path.join(registryDir, 'incoming'), { recursive: true });
      // Bytes that are not ONNX are refused, and nothing is written.
      writeFileSync(path.join(registryDir, 'incoming', 'junk.onnx'), Buffer.from('not really onnx, but bytes with a sha256'));
      const junk = await admin(`${url}/v1/admin/models`, { method: 'POST', json: { version: '1.1.0', file: 'incoming/junk.onnx', baseVersion: '1.0.0', reason: 'x' } });
      expect(junk.status).toBe(400);
      expect(junk.body.message).toMatch(/not registered: the file does not parse as an ONNX model|graph has no nodes/);
      // A real graph whose embedding is not the size the manifest promises is refused too.
      cpSync(path.join(REGISTRY_DIR, '1.0.0', 'model.onnx'), path.join(registryDir, 'incoming', 'model.onnx'));
      const wrong = await admin(`${url}/v1/admin/models`, { method: 'POST', json: { version: '1.1.0', file: 'incoming/model.onnx', baseVersion: '0.9.0', reason: 'x' } });
      expect(wrong.status).toBe(400);
      expect(wrong.body.message).toMatch(/embedding output .* has 1280 values, the manifest promises 1024/);
      expect((await models()).versions.map((v: any) => v.version)).not.toContain('1.1.0');
      const bad = await admin(`${url}/v1/admin/models`, { method: 'POST', json: { version: '1.1.0', file: '../../etc/passwd', baseVersion: '1.0.0', reason: 'x' } });
      expect(bad.status).toBe(400);
      const res = await admin(`${url}/v1/admin/models`, {
        method: 'POST',
        json: { version: '1.1.0', file: 'incoming/model.onnx', baseVersion: '1.0.0', meta: { metrics: { top1: 0.8 } }, reason: 'retrained head' },
      });
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
      expect(Object.fromEntries(m.versions.map((v: any) => [v.version, v.status]))).toEqual({ '1.0.0': 'retired', '0.9.0': 'retired', '1.0.2': 'candidate', '1.1.0': 'active' });
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

    const HOUR = 3_600_000;
    const tickAt = (offsetMs: number) => guardTick(server.app.store, server.app.rolloutGuard.config, new Date(Date.now() + offsetMs));

    it('simulation: the guard rolls back a canary with a clearly higher correction rate, by itself, and says why', async () => {
      await admin(`${url}/v1/admin/models/0.9.0/canary`, { method: 'POST', json: { percent: 5, reason: 'sim: worse canary' } });
      // Too few installs: nothing is decided.
      await insert([...traffic('1.0.0', 10, 2, 0.1, 1), ...traffic('0.9.0', 10, 2, 0.1, 2)]);
      let out = await guard();
      expect(out.decision.action).toBe('wait');
      expect(out.decision.reason).toMatch(/^not yet: 10 canary and 10 control installs/);
      expect(out.acted).toBeNull();
      expect((await models()).rollout.percent).toBe(5);
      // 10% vs 30% corrected over 150 installs an arm.
      await insert([...traffic('1.0.0', 150, 6, 0.1, 3), ...traffic('0.9.0', 150, 6, 0.3, 4)]);
      out = await guard();
      expect(out.acted).toBe('rollback');
      expect(out.decision.reason).toMatch(/correctionRate/);
      const m = await models();
      expect(m.rollout).toBeNull();
      expect(m.versions.find((v: any) => v.version === '0.9.0').status).toBe('retired');
      const last = (await admin(`${url}/v1/admin/models/changes?limit=1`)).body.items[0];
      expect(last).toMatchObject({ action: 'rollback', actor: 'guard', version: '0.9.0', reason: expect.stringMatching(/correctionRate .* vs /) });
      expect(last.details.canary).toMatchObject({ installs: 160, identifications: 920 });
      expect(last.details.window.since).toBe(out.rollout.steppedAt);
    });

    it('one install flooding the canary with 2,000 corrected identifications weighs like one install: no rollback', async () => {
      expect((await admin(`${url}/v1/admin/models/1.0.0/activate`, { method: 'POST', json: { reason: 'sim: reset' } })).status).toBe(409);
      const start = await admin(`${url}/v1/admin/models/1.1.0/canary`, { method: 'POST', json: { percent: 5, reason: 'sim: flooded canary' } });
      expect(start.status, JSON.stringify(start.body)).toBe(200);
      const flooder = randomUUID();
      await insert([...traffic('1.0.0', 80, 4, 0.08, 5), ...traffic('1.1.0', 40, 4, 0.08, 6), ...traffic('1.1.0', 1, 2000, 1, 7, { installIds: [flooder] })]);
      const out = await guard();
      expect(out.acted, out.decision.reason).toBeNull();
      expect(out.canary).toMatchObject({ installs: 41, identifications: 2160 });
      // Counted by events, the canary's correction rate would be over 90%; per install it is a few points above the control.
      const rate = out.decision.checks.rates.find((r: any) => r.metric === 'correctionRate');
      expect(rate.canary).toBeLessThan(0.2);
      expect(rate.worse).toBe(false);
      // And the same 2,000 corrected identifications spread over 40 installs are a clearly worse canary.
      await insert(traffic('1.1.0', 40, 50, 1, 8));
      const spread = await guard();
      expect(spread.acted).toBe('rollback');
    });

    it('the window: both arms and every count from the step to the tick, the same for each; events of either side are left out', async () => {
      // A window two days back, so none of these events falls into a later test's rollout.
      const store = server.app.store;
      const steppedAt = Date.now() - 48 * HOUR;
      const r = { steppedAt: new Date(steppedAt).toISOString() };
      const installId = randomUUID();
      const [before] = traffic('0.9.0', 1, 3, 0, 9, { installIds: [installId] }).slice(0, 1);
      const inside = traffic('0.9.0', 1, 4, 0, 10, { installIds: [installId] });
      const fixes = inside.slice(0, 3).map((e) => correction({ eventId: randomUUID(), installId, correctsEventId: e.eventId, modelVersion: '0.9.0', embedding: embeddingFor('0.9.0') }));
      // Another install "correcting" this install's identification is not counted.
      const foreign = correction({ eventId: randomUUID(), installId: randomUUID(), correctsEventId: inside[3].eventId, modelVersion: '0.9.0', embedding: embeddingFor('0.9.0') });
      await store.insertBatch([before], new Date(steppedAt - 60_000));
      await store.insertBatch([...inside, fixes[0], fixes[1], foreign], new Date(steppedAt + 60_000));
      await store.insertBatch([fixes[2]], new Date(steppedAt + 3 * HOUR));
      await store.insertBatch([modelStatus('0.9.0', 'failed-to-start', installId)], new Date(steppedAt + 2 * 60_000));
      const db = rolloutDb(store);
      const until = new Date(steppedAt + HOUR).toISOString();
      const counts = (await armInstalls(db, storeFlavor(store), { version: '0.9.0' }, { since: r.steppedAt, until })).get(installId.toLowerCase());
      // 4 identifications inside (not the one before the step), 2 corrections by the window's end (not the late one, not the foreign one).
      expect(counts).toMatchObject({ identifications: 4, corrections: 2, failures: 1, statusReports: 1, abstains: 0, errors: 0 });
      const later = (await armInstalls(db, storeFlavor(store), { version: '0.9.0' }, { since: r.steppedAt, until: new Date(steppedAt + 4 * HOUR).toISOString() })).get(installId.toLowerCase());
      expect(later).toMatchObject({ identifications: 4, corrections: 3 });
    });

    it('a canary that fails to load on 3 installs is rolled back at the next tick, before any minimum time or traffic', async () => {
      await admin(`${url}/v1/admin/models/1.1.0/shadow`, { method: 'POST', json: { sampleRate: 0, reason: 'x' } });
      const start = await admin(`${url}/v1/admin/models/0.9.0/canary`, { method: 'POST', json: { percent: 5, reason: 'sim: broken canary' } });
      expect(start.status, JSON.stringify(start.body)).toBe(200);
      await insert([...traffic('1.0.0', 40, 2, 0.08, 11), modelStatus('0.9.0', 'loaded'), modelStatus('0.9.0', 'failed-to-start'), modelStatus('0.9.0', 'refused-integrity')]);
      let out = await guard();
      expect(out.acted).toBeNull();
      await insert([modelStatus('0.9.0', 'failed-to-start')]);
      out = await guard();
      expect(out.acted).toBe('rollback');
      expect(out.decision.reason).toMatch(/canary fails on devices: 3 of 4 canary installs reported failures, 0 of 40 control/);
      expect((await models()).rollout).toBeNull();
    });

    it('simulation: an equal canary waits for ROLLOUT_MIN_STEP_S, steps through the plan, keeps a holdback at 100% and is promoted against it', async () => {
      const start = await admin(`${url}/v1/admin/models/1.0.0/activate`, { method: 'POST', json: { reason: 'sim: 1.0.0 active again' } });
      expect([200, 409]).toContain(start.status);
      const canary = await admin(`${url}/v1/admin/models/0.9.0/canary`, { method: 'POST', json: { percent: 5, plan: [5, 50, 100], reason: 'sim: equal canary' } });
      expect(canary.status, JSON.stringify(canary.body)).toBe(200);
      const equal = (seed: number) => [...traffic('1.0.0', 300, 6, 0.08, seed), ...traffic('0.9.0', 300, 6, 0.08, seed + 1)];
      await insert(equal(20));
      let out = await guard();
      expect(out.decision.action).toBe('wait');
      expect(out.decision.reason).toMatch(/^not yet: the step is \d+ s old; each step lasts at least 3600 s/);
      out = await tickAt(2 * HOUR);
      expect(out.acted, out.decision!.reason).toBe('step');
      expect((await models()).rollout.percent).toBe(50);
      // Stats restart at each step: right after it there is too little to go on.
      out = await tickAt(2 * HOUR + 1000);
      expect(out.decision!.action).toBe('wait');
      await insert(equal(30));
      out = await tickAt(4 * HOUR);
      expect(out.acted, out.decision!.reason).toBe('step');
      // The plan's 100% step keeps 5% of devices on the control until promotion.
      const m = await models();
      expect(m.rollout).toMatchObject({ step: 100, holdback: 5, percent: 95 });
      await insert(traffic('0.9.0', 300, 6, 0.08, 40));
      out = await tickAt(6 * HOUR);
      expect(out.acted).toBeNull();
      expect(out.decision!.reason).toMatch(/^not yet: no control installs reported since the step/);
      await insert(traffic('1.0.0', 300, 6, 0.08, 41));
      out = await tickAt(6 * HOUR + 1000);
      expect(out.acted, out.decision!.reason).toBe('promote');
      expect(out.decision!.reason).toMatch(/against the holdback/);
      expect((await models()).active).toBe('0.9.0');

      // Another instance cannot take the guard's lease while this one holds it.
      const dbh = rolloutDb(server.app.store);
      expect(await tryLease(dbh, 'rollout-guard', 'other-instance', 60_000)).toBe(false);
      expect(await tryLease(dbh, 'rollout-guard', 'other-instance', 60_000, new Date(Date.now() + 3_600_000))).toBe(true);
      expect(await currentRollout(dbh)).toBeNull();
    });

    it('a canary with no holdback is never promoted by the guard: at 100% there is no control to compare with', async () => {
      const r = await admin(`${url}/v1/admin/models/1.0.0/canary`, { method: 'POST', json: { percent: 100, holdback: 0, reason: 'sim: everyone' } });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect((await models()).rollout).toMatchObject({ percent: 100, holdback: 0 });
      await insert(traffic('1.0.0', 300, 6, 0.08, 50));
      const out = await tickAt(30 * 24 * HOUR);
      expect(out.acted).toBeNull();
      expect(out.decision!.reason).toMatch(/no control installs reported since the step/);
      await admin(`${url}/v1/admin/models/rollout/rollback`, { method: 'POST', json: { reason: 'end' } });
    });

    it('shadow results feed the rollout: a candidate that failed too often in the shadow needs an override with a reason', async () => {
      const active = (await models()).active;
      // 12 installs ran 1.1.0 in the shadow 10 times each; 2 of every 10 runs failed.
      const events: TelemetryEvent[] = [];
      for (let k = 0; k < 12; k++) {
        const installId = randomUUID();
        for (let i = 0; i < 10; i++) {
          events.push(
            identification({
              eventId: randomUUID(),
              installId,
              modelVersion: active,
              shadow: { modelVersion: '1.1.0', top1Agree: i >= 2 && i < 9, top5Overlap: i < 2 ? 0 : 4, inferenceMs: 30, failed: i < 2 },
            }),
          );
        }
      }
      await insert(events);
      const results = (await admin(`${url}/v1/admin/models/shadow-results`)).body.items.find((x: any) => x.version === '1.1.0');
      expect(results).toMatchObject({ installs: 12, runs: 120, failures: 24, gate: { ok: false } });
      expect(results.failureRate).toBeCloseTo(0.2, 10);
      expect(results.disagreementRate).toBeCloseTo(1 / 8, 10);
      const refused = await admin(`${url}/v1/admin/models/1.1.0/canary`, { method: 'POST', json: { percent: 5, reason: 'try it' } });
      expect(refused.status).toBe(409);
      expect(refused.body.message).toMatch(/shadow failure rate 20\.0% is above 2\.0%.*shadowOverride/);
      expect((await models()).rollout).toBeNull();
      const overridden = await admin(`${url}/v1/admin/models/1.1.0/canary`, {
        method: 'POST',
        json: { percent: 5, reason: 'try it', shadowOverride: { reason: 'the failures were one broken WebGPU driver, fixed since' } },
      });
      expect(overridden.status, JSON.stringify(overridden.body)).toBe(200);
      const start = (await admin(`${url}/v1/admin/models/changes?limit=1`)).body.items[0];
      expect(start).toMatchObject({ action: 'canary-start', version: '1.1.0', details: { shadowOverride: 'the failures were one broken WebGPU driver, fixed since', shadow: { runs: 120 } } });
      await admin(`${url}/v1/admin/models/rollout/rollback`, { method: 'POST', json: { reason: 'end' } });
    });
  });
});

/**
 * The species-pack rollups equal a full recomputation from the raw events,
 * on SQLite and PostgreSQL: the seeded random telemetry of rollups.test.ts
 * (server/testing/random-telemetry.ts: ordinary and flooding installs,
 * corrections before their identification and over their daily cap) sent
 * through insertBatch, then every (pack, version, day)'s weighted counts,
 * the dashboard's figures and every pack drift point are compared with
 * core/pack-metrics.ts over the raw rows. Again after migration 0012
 * backfills from the stored events, after two installs delete their data,
 * after retention deletes the old raw events (the rollups must not move),
 * and after two more installs, whose old runs retention already deleted,
 * delete theirs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDb } from '../testing/backends.ts';
import { DAY0, randomEvents } from '../testing/random-telemetry.ts';
import { loadCorrections, monitoringDb } from './monitoring-store.ts';
import { computePackDrift, packMetricsReport, packWeightedDays } from './pack-rollup-reads.ts';
import { packRuns } from './pack-rollups.ts';
import { packRollups } from './migrations/0012_pack_rollups.ts';
import { storeFlavor } from './rollout-store.ts';
import { applyRetention } from '../jobs/retention.ts';
import { countKey, packDayProfile, packReport, weightedDaysFromRuns, type PackRun, type PackVerdict } from '../../core/pack-metrics.ts';
import { driftOfDays } from '../../core/drift-series.ts';
import type { FeedbackStore } from './types.ts';

const DAY_MS = 86_400_000;

/** The raw truth: every stored run, and every evidence correction of one, on its run's hour. */
async function rawRuns(store: FeedbackStore): Promise<{ runs: PackRun[]; verdicts: PackVerdict[] }> {
  const m = monitoringDb(store);
  const rows = await m.selectFrom('events').select(['event_id', 'install_id', 'hour', 'payload']).where('type', '=', 'identification').execute();
  const runs = packRuns(rows);
  const byId = new Map(runs.map((r) => [r.eventId, r]));
  const verdicts: PackVerdict[] = [];
  for (const c of await loadCorrections(m)) {
    const run = byId.get(c.correctsEventId.toLowerCase());
    if (!run || c.grounding !== 'grounded' || !c.counted) continue;
    verdicts.push({ installId: c.installId, packId: run.packId, packVersion: run.packVersion, hour: run.hour, verdict: c.verdict });
  }
  return { runs, verdicts };
}

const dayKey = (d: { packId: string; packVersion: string; day: string }) => `${d.packId} ${d.packVersion} ${d.day}`;

/** The rollups' weighted days, figures and drift equal those of the raw runs and verdicts given. */
async function expectSame(store: FeedbackStore, truth: { runs: PackRun[]; verdicts: PackVerdict[] }) {
  const m = monitoringDb(store);
  const want = weightedDaysFromRuns(truth.runs, truth.verdicts).sort((a, b) => dayKey(a).localeCompare(dayKey(b)));
  const got = (await packWeightedDays(m)).sort((a, b) => dayKey(a).localeCompare(dayKey(b)));
  expect(got.map(dayKey)).toEqual(want.map(dayKey));
  got.forEach((g, i) => {
    const w = want[i];
    expect(g.runs, dayKey(w)).toBe(w.runs);
    const keys = (x: Map<string, number>) =>
      [...x]
        .filter(([, v]) => Math.abs(v) > 1e-9)
        .map(([k]) => k.replace('\u0000', ' '))
        .sort();
    expect(keys(g.weighted), dayKey(w)).toEqual(keys(w.weighted));
    for (const [k, v] of w.weighted) {
      // The confidence sum is kept in whole millionths: half a millionth per run at most.
      const tolerance = k === countKey('confsum', '') ? 0.5 * w.runs + 1e-6 : 1e-9;
      expect(Math.abs((g.weighted.get(k) ?? 0) - v), `${dayKey(w)} ${k}`).toBeLessThanOrEqual(tolerance);
    }
  });
  // The route's figures over the whole range, per day and per version.
  const report = await packMetricsReport(m, { fromDay: '2026-09-01', toDay: '2026-12-31' });
  const wantReport = packReport(want);
  expect(report.series.map(dayKey)).toEqual(wantReport.series.map(dayKey));
  for (const [gotRows, wantRows] of [
    [report.series, wantReport.series],
    [report.versions, wantReport.versions],
  ] as const) {
    gotRows.forEach((g, i) => {
      const w = wantRows[i];
      expect([g.packId, g.packVersion, g.runs, g.topLabels.map((l) => l.taxonId)]).toEqual([w.packId, w.packVersion, w.runs, w.topLabels.map((l) => l.taxonId)]);
      for (const k of ['tapped', 'tappedShare', 'medianConfidence', 'corrections', 'confirmations', 'correctionRate'] as const) expect(g[k], k).toBeCloseTo(w[k], 9);
      expect(g.meanConfidence).toBeCloseTo(w.meanConfidence, 6);
      expect(g.correctionInterval.lo).toBeCloseTo(w.correctionInterval.lo, 9);
      expect(g.correctionInterval.hi).toBeCloseTo(w.correctionInterval.hi, 9);
    });
  }
  const opts = { minEvents: 15, referenceDays: 2 };
  const fast = await computePackDrift(m, opts);
  const full = driftOfDays(want.map(packDayProfile), opts);
  expect(fast.references).toEqual(full.references);
  expect(fast.points.map((p) => [p.modelVersion, p.day, p.n, p.inReference, p.level])).toEqual(full.points.map((p) => [p.modelVersion, p.day, p.n, p.inReference, p.level]));
  fast.points.forEach((p, i) => {
    for (const metric of ['prediction', 'confidence'] as const) {
      expect(p[metric].psi).toBeCloseTo(full.points[i][metric].psi, 9);
      expect(p[metric].js).toBeCloseTo(full.points[i][metric].js, 9);
    }
  });
  return { full, want };
}

describe.each(BACKENDS)('species-pack rollups against a full recomputation on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb;
    let store: FeedbackStore;
    let data: ReturnType<typeof randomEvents>;
    beforeAll(async () => {
      db = await backend.create();
      store = await db.openStore();
      data = randomEvents(backend.name === 'sqlite' ? 21 : 22);
      // A low daily cap, so some corrections are stored but do not count.
      for (const batch of data.batches) await store.insertBatch(batch, new Date(DAY0 + 5 * DAY_MS), { dailyCorrectionCap: 20 });
    }, 120_000);
    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
    });

    it('holds every pack version day, figure and drift point as the raw events give them', async () => {
      const m = monitoringDb(store);
      // The data really has installs past the cap in a pack's day, both routes, and corrections of both verdicts.
      expect((await m.selectFrom('rollup_pack_install_days').select('install_id').where('n', '>', 50).execute()).length).toBeGreaterThanOrEqual(2);
      const truth = await rawRuns(store);
      expect(truth.runs.length).toBeGreaterThan(300);
      expect(new Set(truth.runs.map((r) => r.routedBy)).size).toBe(2);
      expect(new Set(truth.verdicts.map((v) => v.verdict)).size).toBe(2);
      const { full } = await expectSame(store, truth);
      expect(full.points.length).toBeGreaterThan(4);
    }, 120_000);

    it('backfills the same rollups from the stored events (migration 0012)', async () => {
      const m = monitoringDb(store);
      const migration = packRollups(storeFlavor(store))['0012_pack_rollups'];
      await migration.down!(m);
      await migration.up(m);
      await expectSame(store, await rawRuns(store));
    }, 120_000);

    it('still does after an ordinary and a flooding install delete their data', async () => {
      await store.installs.deleteData(data.installs[3]);
      await store.installs.deleteData(data.installs[41]);
      const m = monitoringDb(store);
      for (const table of ['rollup_pack_install_days', 'rollup_pack_heavy'] as const) {
        expect(await m.selectFrom(table).select('install_id').where('install_id', 'in', [data.installs[3], data.installs[41]]).execute()).toEqual([]);
      }
      await expectSame(store, await rawRuns(store));
    }, 120_000);

    it('stays after retention deletes the old raw events, and after installs whose old runs are gone delete their data', async () => {
      const before = await rawRuns(store);
      const m = monitoringDb(store);
      // Eight days after day 3's midday: days 0 to 2 and half of day 3 go, except identifications a correction cites.
      const deleted = await applyRetention(store.db, { retentionDays: 8, photoRetentionDays: null }, new Date(DAY0 + 11.5 * DAY_MS));
      expect(deleted.events).toBeGreaterThan(200);
      expect((await rawRuns(store)).runs.length).toBeLessThan(before.runs.length - 100);
      await expectSame(store, before);

      const gone = [data.installs[40], data.installs[5]];
      // The flooder's runs were all on days retention deleted: only the retired counts can take them out.
      expect(before.runs.some((r) => r.installId === gone[0] && r.hour < '2026-10-03')).toBe(true);
      for (const id of gone) await store.installs.deleteData(id);
      expect(await m.selectFrom('rollup_pack_retired').select('install_id').where('install_id', 'in', gone).execute()).toEqual([]);
      await expectSame(store, { runs: before.runs.filter((r) => !gone.includes(r.installId)), verdicts: before.verdicts.filter((v) => !gone.includes(v.installId)) });
    }, 120_000);
  });
});

/**
 * The rollups equal a full recomputation from the raw events, on SQLite and
 * PostgreSQL: random (seeded) identifications and corrections from ordinary
 * installs and from installs that pass the per-install cap, sent in random
 * batches (corrections sometimes before their identification, some over
 * their install's daily cap), then every metric per day and per hour and
 * every drift point is compared with core/metrics.ts aggregateMetrics and
 * core/drift-series.ts driftSeries over every stored event. Again after one
 * install deletes its data.
 *
 * Shadow runs too: the rollout guard's per-install shadow results
 * (rollout-store.ts shadowInstalls, from rollup_shadow) equal the SQL that
 * used to compute them from every stored payload (shadowFromEvents below,
 * kept as the reference), before and after deletions and after migration
 * 0008 backfills the rollup from the stored events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDb } from '../testing/backends.ts';
import { DAY0, randomEvents } from '../testing/random-telemetry.ts';
import { aggregateMetrics, correctedPairs } from '../../core/metrics.ts';
import { latencyBin } from '../../core/latency-bins.ts';
import { computeDrift, computeDriftFromEvents, correctedPairCounts, loadCorrections, loadIdentifications, metricsReport, monitoringDb } from './monitoring-store.ts';
import type { FeedbackStore } from './types.ts';
import { bucketOf, type Bucket, type BucketMetrics, type IdentificationFact } from '../../core/telemetry-facts.ts';
import { sql, type Kysely } from 'kysely';
import { rolloutDb, shadowInstalls, storeFlavor, type SqlFlavor } from './rollout-store.ts';
import { payloadField } from './guard-rollups.ts';
import { shadowRollup } from './migrations/0008_shadow_rollup.ts';
import { heavyDays } from './migrations/0014_heavy_days.ts';
import type { Database } from './rows.ts';
import type { ShadowInstallCounts } from '../../core/shadow-gate.ts';

/**
 * The reference: shadowInstalls as it was before rollup_shadow, grouping
 * every stored identification's payload (these installs have no credential
 * rows, so every one counts for itself and none is left out by source).
 */
async function shadowFromEvents(db: Kysely<Database>, flavor: SqlFlavor, version: string): Promise<ShadowInstallCounts[]> {
  const failed = payloadField(flavor, ['shadow', 'failed'], 'bool');
  const agree = payloadField(flavor, ['shadow', 'top1Agree'], 'bool');
  const rows = await db
    .selectFrom('events')
    .select((eb) => [
      'install_id',
      eb.fn.countAll<number>().as('runs'),
      eb.fn.sum<number>(failed).as('failures'),
      eb.fn.sum<number>(sql`case when ${failed} = 0 and ${agree} = 0 then 1 else 0 end`).as('disagreements'),
      eb.fn.sum<number>(sql`coalesce(${payloadField(flavor, ['shadow', 'top5Overlap'], 'real')}, 0)`).as('overlap'),
    ])
    .where('type', '=', 'identification')
    .where(payloadField(flavor, ['shadow', 'modelVersion'], 'text'), '=', version)
    .groupBy('install_id')
    .orderBy('install_id')
    .execute();
  return rows.map((r) => ({ runs: Number(r.runs), failures: Number(r.failures ?? 0), disagreements: Number(r.disagreements ?? 0), top5Overlap: Number(r.overlap ?? 0) }));
}

/** shadowInstalls (rollup_shadow) equals the raw computation for every shadow version, and for one never shadowed. */
async function expectSameShadow(store: FeedbackStore) {
  const db = rolloutDb(store);
  const flavor = storeFlavor(store);
  let runs = 0;
  for (const version of ['1.0.0', '1.1.0', '0.9.0']) {
    const want = await shadowFromEvents(db, flavor, version);
    expect(await shadowInstalls(db, flavor, version), version).toEqual(want);
    runs += want.reduce((n, c) => n + c.runs, 0);
  }
  // The data really has shadow runs of each kind.
  expect(runs).toBeGreaterThan(100);
  const latest = await shadowFromEvents(db, flavor, '1.1.0');
  expect(latest.some((c) => c.failures > 0 && c.disagreements > 0 && c.top5Overlap > 0)).toBe(true);
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Equal up to float summation order: rates to 1e-9, figures rounded to cents within a cent, latency quantiles within their bin. */
function expectSameMetrics(got: BucketMetrics[], want: BucketMetrics[], ids: readonly IdentificationFact[], bucket: Bucket) {
  // The latencies of each (version, bucket, backend), sorted: a quantile from the bins is the bin of the value at the lower rank.
  const latencies = new Map<string, number[]>();
  for (const e of ids) {
    if (!Number.isFinite(e.totalMs)) continue;
    const k = `${e.modelVersion} ${bucketOf(e.hour, bucket)} ${e.backend}`;
    latencies.set(k, [...(latencies.get(k) ?? []), e.totalMs]);
  }
  expect(got.map((m) => `${m.modelVersion} ${m.bucket}`)).toEqual(want.map((m) => `${m.modelVersion} ${m.bucket}`));
  got.forEach((g, i) => {
    const w = want[i];
    const at = `${w.modelVersion} ${w.bucket}`;
    expect(g.identifications, at).toBe(w.identifications);
    expect(g.installs, at).toBe(w.installs);
    expect(g.abstainRate, at).toBeCloseTo(w.abstainRate, 9);
    expect(g.correctionRate, at).toBeCloseTo(w.correctionRate, 9);
    for (const k of ['abstained', 'corrections', 'confirmations'] as const) expect(Math.abs(g[k] - w[k]), `${at} ${k}`).toBeLessThanOrEqual(0.0100001);
    g.confidenceHistogram.forEach((v, b) => expect(Math.abs(v - w.confidenceHistogram[b]), `${at} bin ${b}`).toBeLessThanOrEqual(0.0100001));
    expect(new Map(g.predictions.map((p) => [p.taxonId, round2(p.count)])).size).toBe(w.predictions.length);
    for (const p of w.predictions) {
      const mine = g.predictions.find((x) => x.taxonId === p.taxonId);
      expect(mine, `${at} ${p.taxonId}`).toBeDefined();
      expect(Math.abs(mine!.count - p.count)).toBeLessThanOrEqual(0.0100001);
    }
    expect(Object.keys(g.latency).sort(), at).toEqual(Object.keys(w.latency).sort());
    for (const [be, l] of Object.entries(w.latency)) {
      expect(g.latency[be].n).toBe(l.n);
      const sorted = latencies.get(`${at} ${be}`)!.sort((a, b) => a - b);
      for (const [q, p] of [
        ['p50', 0.5],
        ['p95', 0.95],
      ] as const) {
        expect(latencyBin(g.latency[be][q]), `${at} ${be} ${q}`).toBe(latencyBin(sorted[Math.floor((sorted.length - 1) * p)]));
        // And within a bin's width (10^0.1) of the exact, interpolated quantile wherever both neighbours share a bin.
        const lo = sorted[Math.floor((sorted.length - 1) * p)];
        const hi = sorted[Math.ceil((sorted.length - 1) * p)];
        if (latencyBin(lo) === latencyBin(hi)) expect(Math.abs(Math.log10(g.latency[be][q] / l[q]))).toBeLessThanOrEqual(0.1);
      }
    }
  });
}

describe.each(BACKENDS)('rollups against a full recomputation on $name', (backend) => {
  describe.skipIf(!backend.runnable)('', () => {
    let db: TestDb;
    let store: FeedbackStore;
    let data: ReturnType<typeof randomEvents>;
    beforeAll(async () => {
      db = await backend.create();
      store = await db.openStore();
      data = randomEvents(backend.name === 'sqlite' ? 11 : 12);
      // A low daily cap, so some corrections are stored but do not count.
      for (const batch of data.batches) await store.insertBatch(batch, new Date(DAY0 + 5 * 86_400_000), { dailyCorrectionCap: 20 });
    }, 120_000);
    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
    });

    async function compare() {
      const m = monitoringDb(store);
      const [ids, corrections] = await Promise.all([loadIdentifications(m), loadCorrections(m)]);
      expect(ids.length).toBeGreaterThan(300);
      for (const bucket of ['day', 'hour'] as const) {
        const report = await metricsReport(m, { bucket });
        expectSameMetrics(report.series, aggregateMetrics(ids, corrections, bucket), ids, bucket);
      }
      // A part of a day: the weights are those of the events in range.
      const part = { from: '2026-10-02T06:00:00.000Z', to: '2026-10-03T13:00:00.000Z' };
      const inPart = (h: string) => h >= part.from && h < part.to;
      const partReport = await metricsReport(m, { ...part, bucket: 'day' });
      expectSameMetrics(
        partReport.series,
        aggregateMetrics(
          ids.filter((e) => inPart(e.hour)),
          corrections.filter((c) => inPart(c.hour)),
          'day',
        ),
        ids.filter((e) => inPart(e.hour)),
        'day',
      );

      // The most-corrected pairs, grouped in SQL, as core/metrics.ts counts them from the raw rows.
      const byId = new Map(ids.map((e) => [e.eventId, e]));
      const want = correctedPairs(
        corrections,
        (id) => {
          const e = byId.get(id);
          return e ? (e.abstain ? '(abstain)' : e.top1) : undefined;
        },
        10_000,
      );
      const got = await correctedPairCounts(m, {}, 10_000);
      const key = (p: { modelVersion: string; predicted: string; corrected: string; count: number }) => `${p.modelVersion} ${p.predicted} ${p.corrected} ${p.count}`;
      expect(got.map(key).sort()).toEqual(want.map(key).sort());
      expect(want.some((p) => p.predicted === '(unknown)')).toBe(true);

      const opts = { minEvents: 20, referenceDays: 2 };
      const [fast, full] = await Promise.all([computeDrift(m, opts), computeDriftFromEvents(m, opts)]);
      expect(fast.references).toEqual(full.references);
      expect(fast.points.map((p) => [p.modelVersion, p.day, p.n, p.inReference, p.level])).toEqual(full.points.map((p) => [p.modelVersion, p.day, p.n, p.inReference, p.level]));
      expect(full.points.length).toBeGreaterThan(4);
      fast.points.forEach((p, i) => {
        for (const metric of ['prediction', 'confidence'] as const) {
          expect(p[metric].psi).toBeCloseTo(full.points[i][metric].psi, 9);
          expect(p[metric].js).toBeCloseTo(full.points[i][metric].js, 9);
        }
      });
      await expectSameShadow(store);
    }

    it('holds every metric per day and per hour, and every drift point, as the raw events give them', async () => {
      // The data really has installs past the cap, and corrections of each kind.
      const m = monitoringDb(store);
      const heavy = await m.selectFrom('rollup_install_days').select('install_id').where('n', '>', 50).execute();
      expect(heavy.length).toBeGreaterThanOrEqual(3);
      const kinds = await m.selectFrom('corrections').select(['grounding', 'counted']).distinct().execute();
      expect(kinds.length).toBeGreaterThanOrEqual(3);
      await compare();
    }, 120_000);

    it('still does after an ordinary and a flooding install delete their data', async () => {
      await store.installs.deleteData(data.installs[3]);
      await store.installs.deleteData(data.installs[40]);
      const m = monitoringDb(store);
      expect(await m.selectFrom('rollup_install_days').select('install_id').where('install_id', 'in', [data.installs[3], data.installs[40]]).execute()).toEqual([]);
      expect(await m.selectFrom('rollup_shadow').select('install_id').where('install_id', 'in', [data.installs[3], data.installs[40]]).execute()).toEqual([]);
      await compare();
    }, 120_000);

    it('backfills the shadow rollup from the stored events (migration 0008)', async () => {
      const db = rolloutDb(store);
      const migration = shadowRollup(storeFlavor(store))['0008_shadow_rollup'];
      await migration.down!(db);
      await migration.up(db);
      expect((await db.selectFrom('rollup_shadow').select('install_id').execute()).length).toBeGreaterThan(20);
      await expectSameShadow(store);
    }, 120_000);

    it('sums the day rows of the heavy installs from their hours (migration 0014)', async () => {
      const db = rolloutDb(store);
      const migration = heavyDays(storeFlavor(store))['0014_heavy_days'];
      const before = await db.selectFrom('rollup_heavy_days').selectAll().orderBy(['install_id', 'model_version', 'day', 'dim', 'key']).execute();
      expect(before.length).toBeGreaterThan(10);
      await migration.down!(db);
      await migration.up(db);
      const after = await db.selectFrom('rollup_heavy_days').selectAll().orderBy(['install_id', 'model_version', 'day', 'dim', 'key']).execute();
      expect(after.map((r) => ({ ...r, n: Number(r.n) }))).toEqual(before.map((r) => ({ ...r, n: Number(r.n) })));
      await compare();
    }, 120_000);
  });
});

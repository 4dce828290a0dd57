/**
 * Reading the species-pack rollups (pack-rollup-rows.ts) back: per (pack,
 * version, day) the plain counts and the installs past the cap, weighed by
 * core/pack-metrics.ts into the dashboard's figures and drift's day
 * profiles. Two grouped queries whose rows follow pack versions x days x
 * labels, never events.
 */
import type { Kysely } from 'kysely';
import { EVENTS_PER_INSTALL_CAP } from '../../core/install-weight.ts';
import { countKey, packDayProfile, packReport, weightedCounts, type PackTally } from '../../core/pack-metrics.ts';
import { driftOfDays, type DriftResult } from '../../core/drift-series.ts';
import type { PackDayMetrics, PackVersionMetrics } from '../../core/api/pack-monitoring.ts';
import { getReferences, type DriftRunOptions } from './monitoring-store.ts';
import type { Database } from './rows.ts';

type Db = Kysely<Database>;
const SEP = '\u0000';

/** Whole UTC days, both ends included (YYYY-MM-DD); absent: unbounded. */
export interface PackDayRange {
  fromDay?: string;
  toDay?: string;
}

/** Per (pack, version, day) in range: plain counts and each install past the cap with its own counts. */
export async function packTallies(db: Db, r: PackDayRange = {}, cap = EVENTS_PER_INSTALL_CAP): Promise<PackTally[]> {
  const out = new Map<string, PackTally>();
  const at = (packId: string, packVersion: string, day: string) => {
    const k = [packId, packVersion, day].join(SEP);
    let t = out.get(k);
    if (!t) out.set(k, (t = { packId, packVersion, day, counts: new Map(), heavy: [] }));
    return t;
  };
  let q = db.selectFrom('rollup_pack_day_counts').select(['pack_id', 'pack_version', 'day', 'dim', 'key', 'n']);
  if (r.fromDay) q = q.where('day', '>=', r.fromDay);
  if (r.toDay) q = q.where('day', '<=', r.toDay);
  for (const row of await q.execute()) at(row.pack_id, row.pack_version, row.day).counts.set(countKey(row.dim, row.key), Number(row.n));

  let h = db
    .selectFrom('rollup_pack_heavy as h')
    .innerJoin('rollup_pack_install_days as d', (j) =>
      j.onRef('d.pack_id', '=', 'h.pack_id').onRef('d.pack_version', '=', 'h.pack_version').onRef('d.day', '=', 'h.day').onRef('d.install_id', '=', 'h.install_id'),
    )
    .select(['h.install_id', 'h.pack_id', 'h.pack_version', 'h.day', 'h.dim', 'h.key', 'h.n', 'd.n as total'])
    .where('d.n', '>', cap);
  if (r.fromDay) h = h.where('h.day', '>=', r.fromDay);
  if (r.toDay) h = h.where('h.day', '<=', r.toDay);
  const heavy = new Map<string, { n: number; counts: Map<string, number> }>();
  for (const row of await h.execute()) {
    const k = [row.pack_id, row.pack_version, row.day, row.install_id].join(SEP);
    let one = heavy.get(k);
    if (!one) {
      heavy.set(k, (one = { n: Number(row.total), counts: new Map() }));
      at(row.pack_id, row.pack_version, row.day).heavy.push(one);
    }
    one.counts.set(countKey(row.dim, row.key), Number(row.n));
  }
  // Verdicts count on their run's day, so a day with counts has runs; after a deletion its zero rows are gone.
  return [...out.values()].filter((t) => (t.counts.get(countKey('runs', '')) ?? 0) > 0);
}

/** The tallies weighed: what packReport and drift read. */
export async function packWeightedDays(db: Db, r: PackDayRange = {}, cap = EVENTS_PER_INSTALL_CAP) {
  return (await packTallies(db, r, cap)).map((t) => ({ packId: t.packId, packVersion: t.packVersion, day: t.day, runs: t.counts.get(countKey('runs', '')) ?? 0, weighted: weightedCounts(t, cap) }));
}

/** GET /v1/admin/monitoring/packs: per pack version and day, and per version over the range. */
export async function packMetricsReport(db: Db, r: Required<PackDayRange>): Promise<{ series: PackDayMetrics[]; versions: PackVersionMetrics[] }> {
  return packReport(await packWeightedDays(db, r));
}

/**
 * Drift of every pack version's top-1 mix and confidence, as computeDrift
 * scores a base version: each against its reference window (one stored in
 * drift_references under its packDriftKey, else its first days).
 */
export async function computePackDrift(db: Db, opts: DriftRunOptions = {}): Promise<DriftResult> {
  const [chosen, days] = await Promise.all([getReferences(db), packWeightedDays(db)]);
  const result = driftOfDays(days.map(packDayProfile), { ...opts, reference: (key) => chosen.get(key) });
  if (opts.fromDay) result.points = result.points.filter((p) => p.day >= opts.fromDay!);
  return result;
}

/**
 * Reading the rollups (rollup-rows.ts) back as per-bucket tallies
 * (core/metrics.ts BucketTally) and drift's day profiles: what monitoring,
 * drift and the dashboard read instead of raw events. A handful of grouped
 * queries whose rows follow versions x hours x labels, not events.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { EVENTS_PER_INSTALL_CAP } from '../../core/install-weight.ts';
import { LATENCY_BINS } from '../../core/latency-bins.ts';
import { weighted, type BucketTally, type HeavyExcess, type HeavyTally } from '../../core/metrics.ts';
import type { DayProfile } from '../../core/drift-series.ts';
import { CONFIDENCE_BINS, type Bucket } from '../../core/telemetry-facts.ts';
import type { Database } from './rows.ts';
import { PAIR_DIM } from './rollups.ts';

type Db = Kysely<Database>;
const SEP = '\u0000';
const IN_CHUNK = 500;

/** Over the stored `hour` (ISO text): from inclusive, to exclusive; optionally one version. */
export interface HourRange {
  from?: string;
  to?: string;
  modelVersion?: string;
}

/** The bucket of an hour column, as core/telemetry-facts.ts bucketOf spells it; the same SQL on both backends. */
const bucketSql = (bucket: Bucket, column = 'hour'): RawBuilder<string> =>
  bucket === 'day' ? sql<string>`substr(${sql.ref(column)}, 1, 10)` : sql<string>`substr(${sql.ref(column)}, 1, 13) || ':00'`;

const dayAligned = (iso?: string) => !iso || iso.slice(10) === 'T00:00:00.000Z';
const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000).toISOString().slice(0, 10);

function emptyTally(modelVersion: string, bucket: string): BucketTally {
  return { modelVersion, bucket, n: 0, installs: 0, labels: new Map(), confidence: new Array<number>(CONFIDENCE_BINS).fill(0), latency: new Map(), corrected: 0, confirmed: 0, heavy: [] };
}

/** Per (version, bucket) tallies over a range of hours. */
export async function bucketTallies(db: Db, r: HourRange & { bucket: Bucket; withInstalls?: boolean; withCorrections?: boolean }, cap = EVENTS_PER_INSTALL_CAP): Promise<BucketTally[]> {
  const b = bucketSql(r.bucket);
  const out = new Map<string, BucketTally>();
  const at = (v: string, bk: string) => {
    const k = `${v}${SEP}${bk}`;
    let t = out.get(k);
    if (!t) out.set(k, (t = emptyTally(v, bk)));
    return t;
  };

  // Whole days per day: the daily table (24 times fewer rows). Otherwise the hours, grouped.
  const wholeDays = r.bucket === 'day' && dayAligned(r.from) && dayAligned(r.to);
  const rows = wholeDays
    ? (() => {
        let q = db
          .selectFrom('rollup_day_counts')
          .select(['model_version', sql<string>`day`.as('bucket'), 'dim', 'key', 'n'])
          .where('dim', '<>', PAIR_DIM);
        if (r.from) q = q.where('day', '>=', r.from.slice(0, 10));
        if (r.to) q = q.where('day', '<', r.to.slice(0, 10));
        if (r.modelVersion) q = q.where('model_version', '=', r.modelVersion);
        return q.execute();
      })()
    : (() => {
        let q = db
          .selectFrom('rollup_counts')
          .select(['model_version', b.as('bucket'), 'dim', 'key', (eb) => eb.fn.sum<number>('n').as('n')])
          .where('dim', '<>', PAIR_DIM);
        if (r.from) q = q.where('hour', '>=', r.from);
        if (r.to) q = q.where('hour', '<', r.to);
        if (r.modelVersion) q = q.where('model_version', '=', r.modelVersion);
        return q.groupBy(['model_version', b, 'dim', 'key']).execute();
      })();
  // Distinct installs of an hour (or a whole day) are counted at ingest; those of a part of a day are not the sum of its hours.
  const installsCounted = wholeDays || r.bucket === 'hour';
  for (const row of await rows) {
    // The corrected pairs (most of the rows: one per predicted x corrected label) are read on their own, and left out above.
    if (!(row.dim === 'label' || row.dim === 'conf' || row.dim === 'installs' || row.dim.startsWith('lat:'))) continue;
    const t = at(row.model_version, row.bucket);
    const n = Number(row.n);
    if (row.dim === 'label') {
      t.labels.set(row.key, n);
      t.n += n;
    } else if (row.dim === 'conf') t.confidence[Number(row.key)] = n;
    else if (row.dim === 'installs') {
      if (installsCounted) t.installs = n;
    } else if (row.dim.startsWith('lat:')) {
      const be = row.dim.slice(4);
      let bins = t.latency.get(be);
      if (!bins) t.latency.set(be, (bins = new Array<number>(LATENCY_BINS).fill(0)));
      bins[Number(row.key)] = n;
    }
  }
  if (!installsCounted && r.withInstalls !== false) {
    let q = db.selectFrom('rollup_install_hours').select(['model_version', b.as('bucket'), (eb) => eb.fn.count<number>('install_id').distinct().as('n')]);
    if (r.from) q = q.where('hour', '>=', r.from);
    if (r.to) q = q.where('hour', '<', r.to);
    if (r.modelVersion) q = q.where('model_version', '=', r.modelVersion);
    for (const row of await q.groupBy(['model_version', b]).execute()) at(row.model_version, row.bucket).installs = Number(row.n);
  }

  if (r.withCorrections !== false) {
    let corr = db.selectFrom('rollup_corrections').select(['model_version', b.as('bucket'), 'verdict', (eb) => eb.fn.sum<number>('n').as('n')]);
    if (r.from) corr = corr.where('hour', '>=', r.from);
    if (r.to) corr = corr.where('hour', '<', r.to);
    if (r.modelVersion) corr = corr.where('model_version', '=', r.modelVersion);
    for (const row of await corr.groupBy(['model_version', b, 'verdict']).execute()) {
      const t = at(row.model_version, row.bucket);
      if (row.verdict === 'corrected') t.corrected += Number(row.n);
      else t.confirmed += Number(row.n);
    }
  }

  if (wholeDays) {
    for (const [k, x] of await heavyExcessByDay(db, r, cap)) {
      const [v, bk] = k.split(SEP);
      at(v, bk).heavyExcess = x;
    }
  } else {
    for (const [k, h] of await heavyTallies(db, r, cap)) {
      const [v, bk] = k.split(SEP);
      at(v, bk).heavy.push(...h);
    }
  }
  return sorted(out);
}

const sorted = (m: Map<string, BucketTally>) => [...m.values()].sort((a, c) => a.modelVersion.localeCompare(c.modelVersion) || a.bucket.localeCompare(c.bucket));

/** The counts of these installs within the range, per day and bucket, summed from their hours. */
function heavyRows(db: Db, r: HourRange & { bucket: Bucket }, installIds: string[]) {
  const b = bucketSql(r.bucket);
  let q = db
    .selectFrom('rollup_heavy')
    .select(['install_id', 'model_version', sql<string>`substr(hour, 1, 10)`.as('day'), b.as('bucket'), 'dim', 'key', (eb) => eb.fn.sum<number>('n').as('n')])
    .where('install_id', 'in', installIds);
  if (r.from) q = q.where('hour', '>=', r.from);
  if (r.to) q = q.where('hour', '<', r.to);
  if (r.modelVersion) q = q.where('model_version', '=', r.modelVersion);
  return q.groupBy(['install_id', 'model_version', sql`substr(hour, 1, 10)`, b, 'dim', 'key']).execute();
}

/**
 * Whole days: what the installs past the cap take off each (version, day),
 * summed in SQL from rollup_heavy_days (weighted()'s per-install step, (1 -
 * cap/n) of each count, done where the rows are), so a month of flooding
 * installs comes back as a row per (version, day, label or bin), not one per
 * install as well: at 10 million events that was 45,000 rows a query.
 * Every install-day in that table passed the cap over the whole day (it is
 * filled from the day's raw events the moment it does).
 */
async function heavyExcessByDay(db: Db, r: HourRange & { withCorrections?: boolean }, cap: number): Promise<Map<string, HeavyExcess>> {
  const dayRange = (col: string) =>
    sql.join(
      [
        sql`1 = 1`,
        ...(r.from ? [sql`${sql.ref(col)} >= ${r.from.slice(0, 10)}`] : []),
        ...(r.to ? [sql`${sql.ref(col)} < ${r.to.slice(0, 10)}`] : []),
        ...(r.modelVersion ? [sql`model_version = ${r.modelVersion}`] : []),
      ],
      sql` and `,
    );
  const hourRange = sql.join(
    [sql`1 = 1`, ...(r.from ? [sql`c.hour >= ${r.from}`] : []), ...(r.to ? [sql`c.hour < ${r.to}`] : []), ...(r.modelVersion ? [sql`c.model_version = ${r.modelVersion}`] : [])],
    sql` and `,
  );
  // Per heavy install-day, the share of its counts that comes off, f = 1 - cap/n (floating point: SQLite
  // would divide integers). Its counts join on one key (on three columns PostgreSQL guesses one row and
  // sorts them on disk); its corrections are found by install (indexed), not by scanning them all.
  const key = (install: string, version: string, day: RawBuilder<string>) => sql`${sql.ref(install)} || '|' || ${sql.ref(version)} || '|' || ${day}`;
  const { rows } = await sql<{ model_version: string; day: string; dim: string; key: string; n: number | string }>`
    with t as (
      select install_id || '|' || model_version || '|' || day as k, install_id, model_version, day, sum(n) as tot, 1 - cast(${cap} as double precision) / sum(n) as f
        from rollup_heavy_days
       where dim = 'label' and ${dayRange('day')}
       group by install_id, model_version, day having sum(n) > ${cap}
    )
    select h.model_version, h.day, h.dim, h.key, sum(h.n * t.f) as n
      from rollup_heavy_days h join t on t.k = ${key('h.install_id', 'h.model_version', sql`h.day`)}
     group by h.model_version, h.day, h.dim, h.key
    union all
    select model_version, day, 'weight', '', sum(tot - ${cap}) from t group by model_version, day
    union all
    select c.model_version, substr(c.hour, 1, 10), 'verdict', c.verdict, sum(c.n * t.f)
      from t join rollup_corrections c on c.install_id = t.install_id and c.model_version = t.model_version and substr(c.hour, 1, 10) = t.day
     where ${hourRange}
     group by c.model_version, substr(c.hour, 1, 10), c.verdict`.execute(db);
  const out = new Map<string, HeavyExcess>();
  for (const row of rows) {
    const k = `${row.model_version}${SEP}${row.day}`;
    let x = out.get(k);
    if (!x) out.set(k, (x = { weight: 0, labels: new Map(), confidence: new Array<number>(CONFIDENCE_BINS).fill(0), corrected: 0, confirmed: 0 }));
    const n = Number(row.n);
    if (row.dim === 'label') x.labels.set(row.key, n);
    else if (row.dim === 'conf') x.confidence[Number(row.key)] = n;
    else if (row.dim === 'weight') x.weight = n;
    else if (row.dim === 'verdict' && r.withCorrections !== false) {
      if (row.key === 'corrected') x.corrected = n;
      else x.confirmed = n;
    }
  }
  return out;
}

/**
 * The installs past the cap per (version, bucket), with their own counts.
 * Only an install past the cap over its whole day can be past it in a part
 * of the day, so the candidates come from the (small) set of install-days
 * over the cap, and their counts within the range from rollup_heavy.
 */
async function heavyTallies(db: Db, r: HourRange & { bucket: Bucket }, cap: number): Promise<Map<string, HeavyTally[]>> {
  let cand = db.selectFrom('rollup_install_days').select(['model_version', 'day', 'install_id']).where('n', '>', cap);
  if (r.from) cand = cand.where('day', '>=', r.from.slice(0, 10));
  if (r.to) cand = cand.where('day', '<', dayAligned(r.to) ? r.to.slice(0, 10) : nextDay(r.to.slice(0, 10)));
  if (r.modelVersion) cand = cand.where('model_version', '=', r.modelVersion);
  const candidates = await cand.execute();
  const out = new Map<string, HeavyTally[]>();
  if (!candidates.length) return out;
  const isCandidate = new Set(candidates.map((c) => [c.model_version, c.day, c.install_id].join(SEP)));
  const installIds = [...new Set(candidates.map((c) => c.install_id))];
  const b = bucketSql(r.bucket);
  const per = new Map<string, HeavyTally & { modelVersion: string; bucket: string }>();
  const tally = (v: string, bk: string, install: string) => {
    const k = [v, bk, install].join(SEP);
    let h = per.get(k);
    if (!h) per.set(k, (h = { modelVersion: v, bucket: bk, n: 0, labels: new Map(), confidence: new Array<number>(CONFIDENCE_BINS).fill(0), corrected: 0, confirmed: 0 }));
    return h;
  };
  for (let i = 0; i < installIds.length; i += IN_CHUNK) {
    const part = installIds.slice(i, i + IN_CHUNK);
    for (const row of await heavyRows(db, r, part)) {
      if (!isCandidate.has([row.model_version, row.day, row.install_id].join(SEP))) continue;
      const h = tally(row.model_version, row.bucket, row.install_id);
      const n = Number(row.n);
      if (row.dim === 'label') {
        h.labels.set(row.key, (h.labels.get(row.key) ?? 0) + n);
        h.n += n;
      } else h.confidence[Number(row.key)] += n;
    }
    let c = db
      .selectFrom('rollup_corrections')
      .select(['install_id', 'model_version', b.as('bucket'), 'verdict', (eb) => eb.fn.sum<number>('n').as('n')])
      .where('install_id', 'in', part);
    if (r.from) c = c.where('hour', '>=', r.from);
    if (r.to) c = c.where('hour', '<', r.to);
    if (r.modelVersion) c = c.where('model_version', '=', r.modelVersion);
    for (const row of await c.groupBy(['install_id', 'model_version', b, 'verdict']).execute()) {
      const h = per.get([row.model_version, row.bucket, row.install_id].join(SEP));
      if (!h) continue;
      if (row.verdict === 'corrected') h.corrected += Number(row.n);
      else h.confirmed += Number(row.n);
    }
  }
  for (const h of per.values()) {
    // Past the cap within this bucket of the range; under it, every event weighs 1 and the plain counts are right.
    if (h.n <= cap) continue;
    const k = `${h.modelVersion}${SEP}${h.bucket}`;
    out.set(k, [...(out.get(k) ?? []), h]);
  }
  return out;
}

/** Drift's day profiles (core/drift-series.ts) from the rollups: the weighted mix and histogram per version and day. */
export async function dayProfilesFromRollups(db: Db, r: HourRange = {}, cap = EVENTS_PER_INSTALL_CAP): Promise<DayProfile[]> {
  // Drift reads neither installs nor corrections; the counts and who passed the cap are enough.
  const days = await bucketTallies(db, { ...r, bucket: 'day', withInstalls: false, withCorrections: false }, cap);
  return days
    .filter((t) => t.n > 0)
    .map((t) => {
      const w = weighted(t, cap);
      return { modelVersion: t.modelVersion, day: t.bucket, n: t.n, labels: w.labels, confidence: w.confidence };
    });
}

/** The first day each version has identifications in. */
export async function firstDays(db: Db): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('rollup_day_counts')
    .select(['model_version', (eb) => eb.fn.min<string>('day').as('first')])
    .where('dim', '=', 'label')
    .groupBy('model_version')
    .execute();
  return new Map(rows.filter((row) => row.first).map((row) => [row.model_version, String(row.first)]));
}

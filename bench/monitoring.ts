/**
 * npm run bench:monitoring — monitoring on a big PostgreSQL store (issue #17).
 *
 * Seeds --events identification events (default 10 million) over --days
 * days in a fresh schema, in SQL (INSERT ... SELECT over generate_series,
 * a million rows a statement), with their rollups built by the same
 * grouping rollups.ts does at ingest (the bulk load skips the per-event
 * path, as a restore would); 1% of the events come from 10
 * installs that flood (past the per-install cap every day), and 0.5% get a
 * correction. Then, on that database, with the server's own code:
 * - one drift tick (what the monitoring job does: score drift from the
 *   rollups and store the alert levels), median of --repeat;
 * - one guard tick's reads: armInstalls of both arms over a 24 h window
 *   (whole hours from the guard's tally, the edge hours from raw events),
 *   against the same window read from raw events alone, median of --repeat;
 * - each dashboard query (metrics per day over 30 days and per hour over the
 *   last day, drift, alerts, quality, the review queue's first page), median
 *   of --repeat;
 * - ingest throughput (insertBatch of 50-event batches dated within the
 *   seeded days, so the rollup upserts meet existing rows) on this database
 *   against an empty one, in the same run;
 * - the database size per million events (tables and indexes), raw events
 *   and rollups apart.
 * Prints a table and one JSON line; writes bench/results/monitoring.json.
 * PostgreSQL from BENCH_DATABASE_URL, TEST_DATABASE_URL or DATABASE_URL.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { availableParallelism } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import pg from 'pg';
import { openStore } from '../server/storage/open.ts';
import { computeDrift, correctedPairCounts, listAlerts, metricsReport, monitoringDb, qualityDays, reviewQueue, storeAlerts } from '../server/storage/monitoring-store.ts';
import type { FeedbackStore } from '../server/storage/types.ts';
import { armInstalls, keepSources } from '../server/storage/rollout-store.ts';
import { installCounts, rawArmCounts } from '../server/storage/guard-rollups.ts';
import { loadTaxonomy } from '../node/registry.ts';
import { REPO_ROOT } from '../node/paths.ts';
import { EVENTS_PER_INSTALL_CAP } from '../core/install-weight.ts';
import { median } from '../core/stats.ts';
import type { IdentificationEvent } from '../core/telemetry.ts';

const program = new Command()
  .name('bench:monitoring')
  .option('--events <n>', 'identification events to seed', '10000000')
  .option('--days <n>', 'days they span (ending today)', '30')
  .option('--installs <n>', 'ordinary installs', '50000')
  .option('--repeat <n>', 'runs of each timed query (the median is reported)', '5')
  .option('--ingest-batches <n>', 'batches of 50 events for the ingest comparison', '200')
  .option('--jobs <n>', 'connections that seed side by side (a day each at a time)', String(Math.min(8, Math.max(2, availableParallelism()))))
  .option('--seed-only', 'seed, check the counts, print the seeding rate, and stop')
  .option('--keep', 'keep the seeded schema (its name is printed)')
  .option('--reuse <schema>', 'time the queries on a schema an earlier --keep run seeded (same --events and --days), without seeding again; it is kept')
  .parse();
const opts = program.opts<{ events: string; days: string; installs: string; repeat: string; ingestBatches: string; jobs: string; seedOnly?: boolean; keep?: boolean; reuse?: string }>();
const N = Math.floor(Number(opts.events));
const DAYS = Math.floor(Number(opts.days));
const INSTALLS = Math.floor(Number(opts.installs));
const REPEAT = Math.max(1, Math.floor(Number(opts.repeat)));
const INGEST_BATCHES = Math.max(1, Math.floor(Number(opts.ingestBatches)));
const JOBS = Math.floor(Number(opts.jobs));
for (const [name, v] of Object.entries({ events: N, days: DAYS, installs: INSTALLS, jobs: JOBS })) {
  if (!(v > 0)) throw new Error(`--${name} must be a positive whole number`);
}
const URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
if (!URL) throw new Error('bench:monitoring needs PostgreSQL: set BENCH_DATABASE_URL, TEST_DATABASE_URL or DATABASE_URL');

const taxa = loadTaxonomy().taxa.map((t) => t.id);
const TAXA_ARRAY = `array[${taxa.map((t) => `'${t}'`).join(',')}]`;
const VERSIONS = ['0.9.0', '1.0.0'];
/** The seeded days end today, or, on a reused schema, on the day its last event is from (a seed kept overnight stays whole). */
async function lastDay(): Promise<string> {
  if (!opts.reuse) return new Date().toISOString().slice(0, 10);
  const c = new pg.Client({ connectionString: URL });
  await c.connect();
  try {
    const r = await c.query<{ h: string | null }>(`select max(hour) as h from "${opts.reuse}".events`);
    if (!r.rows[0].h) throw new Error(`--reuse ${opts.reuse}: no events there`);
    return r.rows[0].h.slice(0, 10);
  } finally {
    await c.end();
  }
}
const today = await lastDay();
const start = new Date(Date.parse(`${today}T00:00:00.000Z`) - (DAYS - 1) * 86_400_000);

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

async function medianMs(fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm: plans and caches, as a running server has them
  const times: number[] = [];
  for (let i = 0; i < REPEAT; i++) times.push((await timed(fn))[0]);
  return Math.round(median(times) * 10) / 10;
}

/** Two ways to the same answer, warmed, then timed in turns (so neither gets the machine's quieter moments): their medians. */
async function pairedMedianMs(a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number, number]> {
  await a();
  await b();
  const times: [number[], number[]] = [[], []];
  // Each goes first on every other run.
  for (let i = 0; i < REPEAT; i++) {
    if (i % 2 === 0) {
      times[0].push((await timed(a))[0]);
      times[1].push((await timed(b))[0]);
    } else {
      times[1].push((await timed(b))[0]);
      times[0].push((await timed(a))[0]);
    }
  }
  return [Math.round(median(times[0]) * 10) / 10, Math.round(median(times[1]) * 10) / 10];
}

/**
 * The seed rows, in SQL: every column a pure function of g (a hash of it),
 * so a run is reproducible. Hours run through the days in order, as events arrive.
 */
function seedSelect(table: string, from: number, to: number) {
  return `
    with s as (
      select g, ('x' || substr(md5(g::text), 1, 8))::bit(32)::bigint as h from generate_series(${from}, ${to}) g
    ), r as (
      select g, h,
        md5('e' || g)::uuid::text as event_id,
        case when g % 100 = 0 then md5('flood' || (g / 100 % 10))::uuid::text else md5('i' || (h % ${INSTALLS}))::uuid::text end as install_id,
        case when h % 10 < 3 then '0.9.0' else '1.0.0' end as model_version,
        to_char(timestamp '${start.toISOString().slice(0, 19).replace('T', ' ')}' + ((g - 1) * ${DAYS * 24}::bigint / ${N}) * interval '1 hour', 'YYYY-MM-DD"T"HH24:00:00.000"Z"') as hour,
        (${TAXA_ARRAY})[1 + (h / 7) % ${taxa.length}] as top1,
        (h / 13) % 20 = 0 as abstain,
        ((h / 17) % 1000) / 1000.0 as p,
        case when (h / 19) % 3 = 0 then 'webgpu' else 'wasm' end as backend,
        round((20 + ((h / 23) % 400) + ((h / 29) % 7) * ((h / 31) % 300))::numeric, 1) as ms
      from s
    )
    insert into ${table} select * from r`;
}

/** The g range of day d: hour = floor((g - 1) * DAYS * 24 / N), so day = floor((g - 1) * DAYS / N). */
function dayRange(d: number): [number, number] {
  const first = (k: number) => Math.ceil((k * N) / DAYS) + 1;
  return [first(d), first(d + 1) - 1];
}

/** The first hour of seeded day d, as the hour column spells it. */
const dayIso = (d: number) => new Date(start.getTime() + d * 86_400_000).toISOString();

type Q = (text: string) => Promise<unknown>;

/**
 * One day of events, everything it needs, from one connection: the day's
 * seed rows, its events and corrections, and its rollups. Every rollup is
 * grouped by hour or by day (and the corrections share their
 * identification's hour), so a day's rows are exactly its own and days load
 * side by side without touching each other's.
 */
async function seedDay(q: Q, schema: string, d: number) {
  const [from, to] = dayRange(d);
  if (from > to) return 0;
  const t = (name: string) => `"${schema}"."${name}_${d}"`;
  const T = (name: string) => `"${schema}".${name}`;
  const label = `case when abstain then '(abstain)' else top1 end`;
  const fixTaxon = `(${TAXA_ARRAY})[1 + (h / 37) % ${taxa.length}]`;
  const verdict = `case when h % 4 = 0 then 'confirmed' else 'corrected' end`;
  // 0.5% of the identifications get a correction, by their own install: grounded, counted, pending review.
  const fixed = `g % 200 = 7`;
  await q(`create unlogged table ${t('seed')} (g bigint, h bigint, event_id text, install_id text, model_version text, hour text, top1 text, abstain boolean, p numeric, backend text, ms numeric)`);
  await q(seedSelect(t('seed'), from, to));
  await q(`insert into ${T('events')} (event_id, type, install_id, model_version, hour, received_at, payload)
    select event_id, 'identification', install_id, model_version, hour, replace(hour, ':00:00.000Z', ':10:00.000Z'),
      json_build_object('type', 'identification', 'eventId', event_id, 'installId', install_id, 'modelVersion', model_version, 'backend', backend,
        'timings', json_build_object('decodeMs', 4, 'preprocessMs', 6, 'inferenceMs', ms - 10, 'totalMs', ms),
        'top5', json_build_array(json_build_object('taxonId', top1, 'p', p)), 'otherProbability', 0.05, 'abstain', abstain,
        'appVersion', 'bench', 'hour', hour)::text
    from ${t('seed')}`);
  await q(`insert into ${T('events')} (event_id, type, install_id, model_version, hour, received_at, payload)
    select md5('c' || g)::uuid::text, 'correction', install_id, model_version, hour, replace(hour, ':00:00.000Z', ':20:00.000Z'), '{}' from ${t('seed')} where ${fixed}`);
  await q(`insert into ${T('corrections')} (event_id, corrects_event_id, taxon_id, proposed_name, verdict, embedding, embedding_dim, model_version, install_id, status,
      has_photo, cell_lat, cell_lon, hour, received_at, grounding, counted, decided_by, predicted)
    select md5('c' || g)::uuid::text, event_id, ${fixTaxon}, null, ${verdict}, '\\x00000000'::bytea, 1, model_version, install_id, 'pending',
      0, null, null, hour, replace(hour, ':00:00.000Z', ':20:00.000Z'), 'grounded', 1, null, ${label}
    from ${t('seed')} where ${fixed}`);
  // The rollups, grouped as rollups.ts keeps them (core/latency-bins.ts: 10 bins a decade from 1 ms),
  // with the corrected pairs (rollups.ts PAIR_DIM: key is JSON.stringify([predicted, corrected])).
  await q(`create unlogged table ${t('rc')} as
    select model_version, hour, 'label'::text as dim, ${label} as key, count(*) as n from ${t('seed')} group by 1, 2, 3, 4
    union all select model_version, hour, 'conf', least(9, floor(p * 10))::int::text, count(*) from ${t('seed')} group by 1, 2, 3, 4
    union all select model_version, hour, 'lat:' || backend, (case when ms < 1 then 0 else least(51, floor(log(ms) * 10) + 1) end)::int::text, count(*) from ${t('seed')} group by 1, 2, 3, 4
    union all select model_version, hour, 'pair', format('["%s","%s"]', ${label}, ${fixTaxon}), count(*) from ${t('seed')} where ${fixed} and h % 4 <> 0 group by 1, 2, 3, 4`);
  await q(`create unlogged table ${t('ih')} as select model_version, hour, install_id, count(*) as n from ${t('seed')} group by 1, 2, 3`);
  await q(`create unlogged table ${t('id')} as select model_version, substr(hour, 1, 10) as day, install_id, count(*) as n from ${t('seed')} group by 1, 2, 3`);
  await q(`insert into ${T('rollup_counts')} (model_version, hour, dim, key, n) select * from ${t('rc')}
    union all select model_version, hour, 'installs', '', count(*) from ${t('ih')} group by 1, 2`);
  await q(`insert into ${T('rollup_day_counts')} (model_version, day, dim, key, n)
    select model_version, substr(hour, 1, 10), dim, key, sum(n) from ${t('rc')} group by 1, 2, 3, 4
    union all select model_version, day, 'installs', '', count(*) from ${t('id')} group by 1, 2`);
  await q(`insert into ${T('rollup_install_hours')} select * from ${t('ih')}`);
  await q(`insert into ${T('rollup_install_days')} select * from ${t('id')}`);
  // What installs past the per-install cap that day said, kept apart (rollups.ts: heavy).
  await q(`insert into ${T('rollup_heavy')} (install_id, model_version, hour, dim, key, n)
    select s.install_id, s.model_version, s.hour, v.dim, v.key, count(*)
      from ${t('seed')} s join ${t('id')} d on d.install_id = s.install_id and d.model_version = s.model_version and d.day = substr(s.hour, 1, 10) and d.n > ${EVENTS_PER_INSTALL_CAP}
      cross join lateral (values ('label', case when s.abstain then '(abstain)' else s.top1 end), ('conf', least(9, floor(s.p * 10))::int::text)) v(dim, key)
      group by 1, 2, 3, 4, 5`);
  await q(`insert into ${T('rollup_heavy_days')} (install_id, model_version, day, dim, key, n)
    select install_id, model_version, substr(hour, 1, 10), dim, key, sum(n) from ${T('rollup_heavy')} where hour >= '${dayIso(d)}' and hour < '${dayIso(d + 1)}' group by 1, 2, 3, 4, 5`);
  await q(`insert into ${T('rollup_corrections')} select model_version, hour, install_id, ${verdict}, count(*) from ${t('seed')} where ${fixed} group by 1, 2, 3, 4`);
  // The rollout guard's tally (guard-rollups.ts): per arm (the version: no pack here), arrival hour and install; each corrected identification once.
  await q(`insert into ${T('rollup_guard')} (arm, hour, install_id, identifications, abstains, errors, latency_sum, latency_n, corrected, status_reports, failures)
    select model_version, hour, install_id, count(*), count(*) filter (where abstain), 0, sum(ms), count(*), count(*) filter (where ${fixed} and h % 4 <> 0), 0, 0
    from ${t('seed')} group by 1, 2, 3`);
  // Every event is stored on its hour's day (received 10 or 20 minutes into the hour).
  await q(`insert into ${T('quality_counts')} select substr(hour, 1, 10), 'stored', count(*) + count(*) filter (where ${fixed}) from ${t('seed')} group by 1`);
  for (const name of ['seed', 'rc', 'ih', 'id']) await q(`drop table ${t(name)}`);
  return to - from + 1;
}

/** The tables the seed writes, whose keys and indexes are dropped while it loads and rebuilt after (as a restore does). */
const LOADED = [
  'events',
  'corrections',
  'rollup_counts',
  'rollup_day_counts',
  'rollup_install_hours',
  'rollup_install_days',
  'rollup_heavy',
  'rollup_heavy_days',
  'rollup_corrections',
  'rollup_guard',
  'quality_counts',
];

async function seed(client: pg.Client, schema: string) {
  const stageMs: Record<string, number> = {};
  // --jobs connections, each a server process: days load side by side.
  const conns = await Promise.all(
    Array.from({ length: JOBS }, async () => {
      const c = new pg.Client({ connectionString: URL });
      await c.connect();
      // Bulk-load settings for these sessions only: group-bys in memory, no wait on the log per statement.
      await c.query(`set work_mem = '128MB'`);
      await c.query(`set synchronous_commit = off`);
      await c.query(`set maintenance_work_mem = '256MB'`);
      return c;
    }),
  );
  const qOn =
    (c: pg.Client): Q =>
    async (text: string) => {
      const t0 = performance.now();
      const r = await c.query(text);
      const k = text
        .trim()
        .replace(/"[^"]*"\./g, '')
        .split(/\s+/)
        .slice(0, 3)
        .join(' ')
        .replace(/_\d+/g, '');
      stageMs[k] = (stageMs[k] ?? 0) + performance.now() - t0;
      return r;
    };
  /** Runs each task on the first free connection. */
  const pool = async <T>(items: T[], fn: (q: Q, item: T) => Promise<void>) => {
    let next = 0;
    await Promise.all(
      conns.map(async (c) => {
        while (next < items.length) await fn(qOn(c), items[next++]);
      }),
    );
  };
  const bar = new cliProgress.SingleBar({ format: 'seeding {bar} {value}/{total} {stage}', hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(N, 0, { stage: `events (${JOBS} connections)` });
  try {
    // Keys (and the foreign keys that lean on them) and indexes go while bulk-loading, as a restore would.
    const constraints = (
      await client.query<{ conname: string; relname: string; contype: string; def: string }>(
        `select c.conname, r.relname, c.contype, pg_get_constraintdef(c.oid) as def
         from pg_constraint c join pg_class r on r.oid = c.conrelid join pg_namespace n on n.oid = r.relnamespace
        where n.nspname = $1 and c.contype in ('p', 'u', 'f')
          and (r.relname = any($2) or c.confrelid in (select oid from pg_class where relnamespace = n.oid and relname = any($2)))`,
        [schema, LOADED],
      )
    ).rows;
    const indexes = (
      await client.query<{ indexdef: string; indexname: string }>(`select indexname, indexdef from pg_indexes where schemaname = $1 and tablename = any($2) and indexname <> all($3)`, [
        schema,
        LOADED,
        constraints.map((c) => c.conname),
      ])
    ).rows;
    const q = qOn(client);
    const keys = constraints.filter((c) => c.contype !== 'f');
    const foreign = constraints.filter((c) => c.contype === 'f');
    for (const c of foreign) await q(`alter table "${schema}"."${c.relname}" drop constraint "${c.conname}"`);
    for (const c of keys) await q(`alter table "${schema}"."${c.relname}" drop constraint "${c.conname}"`);
    for (const i of indexes) await q(`drop index "${schema}"."${i.indexname}"`);

    let done = 0;
    await pool([...Array(DAYS).keys()], async (qc, d) => {
      done += await seedDay(qc, schema, d);
      bar.update(done);
    });

    // Keys first (they check the load made no duplicate), then indexes, side by side; foreign keys last.
    bar.update(N, { stage: 'keys and indexes' });
    await pool([...keys.map((c) => `alter table "${schema}"."${c.relname}" add constraint "${c.conname}" ${c.def}`), ...indexes.map((i) => i.indexdef)], (qc, text) => qc(text).then(() => {}));
    for (const c of foreign) await q(`alter table "${schema}"."${c.relname}" add constraint "${c.conname}" ${c.def}`);
    bar.update(N, { stage: 'analyze' });
    await pool(LOADED, (qc, table) => qc(`analyze "${schema}".${table}`).then(() => {}));
  } finally {
    bar.stop();
    await Promise.all(conns.map((c) => c.end().catch(() => {})));
  }
  if (process.env.BENCH_VERBOSE) process.stderr.write(`${JSON.stringify(Object.fromEntries(Object.entries(stageMs).map(([k, v]) => [k, Math.round(v)])))}\n`);
}

/** Batches of 50 identifications (1 in 25 from a flooding install) dated within the seeded days. */
function ingestBatches(): IdentificationEvent[][] {
  const out: IdentificationEvent[][] = [];
  for (let b = 0; b < INGEST_BATCHES; b++) {
    const installId = b % 25 === 0 ? 'flood-ingest' : randomUUID();
    const hour = new Date(start.getTime() + Math.floor(((b * 7919) % (DAYS * 24)) * 3_600_000)).toISOString();
    out.push(
      Array.from({ length: 50 }, (_, i) => ({
        type: 'identification' as const,
        eventId: randomUUID(),
        installId,
        modelVersion: VERSIONS[i % 2],
        backend: 'wasm' as const,
        timings: { decodeMs: 4, preprocessMs: 6, inferenceMs: 40 + i, totalMs: 50 + i },
        top5: [{ taxonId: taxa[(b + i) % taxa.length], p: (i % 10) / 10 + 0.05 }],
        otherProbability: 0.05,
        abstain: i % 17 === 0,
        appVersion: 'bench',
        hour,
      })),
    );
  }
  return out;
}

async function ingestRate(store: FeedbackStore, batches: IdentificationEvent[][]): Promise<number> {
  const [ms] = await timed(async () => {
    for (const b of batches) await store.insertBatch(b);
  });
  return Math.round((batches.length * 50) / (ms / 1000));
}

async function sizes(client: pg.Client, schema: string) {
  const rows = (
    await client.query<{ relname: string; bytes: string }>(
      `select c.relname, pg_total_relation_size(c.oid) as bytes from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relkind = 'r'`,
      [schema],
    )
  ).rows;
  const total = rows.reduce((a, r) => a + Number(r.bytes), 0);
  const rollups = rows.filter((r) => r.relname.startsWith('rollup_')).reduce((a, r) => a + Number(r.bytes), 0);
  const events = rows.filter((r) => r.relname === 'events').reduce((a, r) => a + Number(r.bytes), 0);
  const guard = rows.filter((r) => r.relname === 'rollup_guard').reduce((a, r) => a + Number(r.bytes), 0);
  return { total, rollups, events, guard };
}

async function main() {
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  const id = `${process.pid}_${Date.now().toString(36)}`;
  const big = opts.reuse ?? `bench_mon_${id}`;
  const keep = opts.keep || !!opts.reuse;
  const empty = `bench_mon_empty_${id}`;
  const stores: FeedbackStore[] = [];
  try {
    const bigStore = await openStore({ databaseUrl: URL, databaseSchema: big, dataDir: '/nonexistent' });
    stores.push(bigStore);
    await bigStore.migrate();
    // A reused schema was seeded (and checked) by an earlier run; its seeding time is that run's.
    const [seedMs] = opts.reuse ? [Number.NaN] : await timed(() => seed(client, big));
    const db = monitoringDb(bigStore);
    const stored = Number((await client.query(`select count(*) as n from "${big}".events where type = 'identification'`)).rows[0].n);
    const rolled = Number((await client.query(`select sum(n) as n from "${big}".rollup_counts where dim = 'label'`)).rows[0].n);
    const tallied = Number((await client.query(`select sum(identifications) as n from "${big}".rollup_guard`)).rows[0].n);
    // A reused schema also holds the ingest comparison's events of earlier runs: at least N, and rollups that match.
    if (opts.reuse ? stored < N || rolled !== stored : stored !== N || rolled !== N) throw new Error(`seeded ${stored} events and ${rolled} in the rollups, expected ${N}`);
    if (tallied !== stored) throw new Error(`${stored} identification events stored but ${tallied} in the guard's tally`);
    const size = await sizes(client, big);
    const seedEventsPerS = Math.round(N / (seedMs / 1000));
    if (!opts.reuse) process.stderr.write(`seeded ${N.toLocaleString('en')} events in ${(seedMs / 1000).toFixed(1)} s: ${seedEventsPerS} events/s with ${JOBS} connections\n`);
    if (opts.seedOnly) {
      console.log(
        JSON.stringify({ events: N, days: DAYS, jobs: JOBS, seedS: Math.round(seedMs / 100) / 10, seedEventsPerS, sizeMiB: Math.round(size.total / 1048576), schema: keep ? big : undefined }),
      );
      return;
    }

    process.stderr.write('timing the drift tick and the dashboard queries\n');
    const from = `${start.toISOString().slice(0, 10)}T00:00:00.000Z`;
    const to = `${new Date(Date.parse(`${today}T00:00:00.000Z`) + 86_400_000).toISOString().slice(0, 10)}T00:00:00.000Z`;
    const lastDay = `${today}T00:00:00.000Z`;
    const driftTick = await medianMs(async () => {
      const r = await computeDrift(db, {});
      await storeAlerts(db, r.points, r.references);
    });
    const drift = await computeDrift(db, {});
    // The guard's arm reads (canary and control) over the last 24 h of the seed, edges off the hour as a step's start and a tick are.
    const until = `${today}T23:15:00.500Z`;
    const guardWindow = { since: new Date(Date.parse(until) - 86_400_000 + 1234).toISOString(), until };
    const arms = VERSIONS.map((version) => ({ version }));
    // Against the same window read from raw events alone, as armInstalls did before the tally, with the same source rule; interleaved.
    const [guardTick, guardTickRaw] = await pairedMedianMs(
      () => Promise.all(arms.map((arm) => armInstalls(db, 'postgres', arm, guardWindow))),
      () => Promise.all(arms.map(async (arm) => keepSources(db, installCounts(await rawArmCounts(db, 'postgres', arm, guardWindow.since, until, until)), guardWindow.since))),
    );
    const queries = {
      metricsDay30: await medianMs(() => metricsReport(db, { from, to, bucket: 'day' })),
      metricsHourLastDay: await medianMs(() => metricsReport(db, { from: lastDay, to, bucket: 'hour' })),
      // The part of both metrics queries that reads corrections, not rollups.
      correctedPairs: await medianMs(() => correctedPairCounts(db, { from, to })),
      drift: await medianMs(() => computeDrift(db, { fromDay: from.slice(0, 10) })),
      alerts: await medianMs(() => listAlerts(db, {})),
      quality: await medianMs(() => qualityDays(db, { fromDay: from.slice(0, 10), toDay: today })),
      reviewQueue: await medianMs(() => reviewQueue(db, { limit: 50 })),
    };

    process.stderr.write('ingest: the seeded database against an empty one\n');
    const emptyStore = await openStore({ databaseUrl: URL, databaseSchema: empty, dataDir: '/nonexistent' });
    stores.push(emptyStore);
    await emptyStore.migrate();
    // One untimed batch each (connections, plans, caches), then four quarters with the order
    // swapped every quarter, so neither side always goes first or gets the machine's quieter moment.
    const fresh = (b: IdentificationEvent[][]) => b.map((x) => x.map((e) => ({ ...e, eventId: randomUUID() })));
    const [warm, ...batches] = ingestBatches();
    await ingestRate(emptyStore, fresh([warm]));
    await ingestRate(bigStore, fresh([warm]));
    const quarter = Math.ceil(batches.length / 4);
    const rates = { empty: [] as number[], seeded: [] as number[] };
    for (let q = 0; q < 4; q++) {
      const part = batches.slice(q * quarter, (q + 1) * quarter);
      if (!part.length) continue;
      const empty = async () => rates.empty.push(await ingestRate(emptyStore, fresh(part)));
      const seeded = async () => rates.seeded.push(await ingestRate(bigStore, part));
      if (q % 2 === 0) await seeded().then(empty);
      else await empty().then(seeded);
    }
    const ingest = { emptyEventsPerS: Math.round(median(rates.empty)), seededEventsPerS: Math.round(median(rates.seeded)) };

    const perMillion = (bytes: number) => Math.round(bytes / (N / 1e6) / 1048576);
    const result = {
      events: N,
      days: DAYS,
      installs: INSTALLS,
      jobs: JOBS,
      seedS: Math.round(seedMs / 1000),
      seedEventsPerS,
      repeat: REPEAT,
      driftTickMs: driftTick,
      driftPoints: drift.points.length,
      guardTickMs: guardTick,
      guardTickRawMs: guardTickRaw,
      queriesMs: queries,
      ingest: { ...ingest, ratio: Math.round((ingest.seededEventsPerS / ingest.emptyEventsPerS) * 100) / 100 },
      sizeMiBPerMillion: { total: perMillion(size.total), rawEvents: perMillion(size.events), rollups: perMillion(size.rollups), guardTally: perMillion(size.guard) },
      sizeMiB: Math.round(size.total / 1048576),
      schema: keep ? big : undefined,
    };
    console.log(`\nmonitoring on PostgreSQL with ${N.toLocaleString('en')} identification events over ${DAYS} days (medians of ${REPEAT})`);
    console.log(`| what | figure |\n|---|---|`);
    console.log(opts.reuse ? `| seeding | reused schema ${big} |` : `| seeding (${JOBS} connections) | ${seedEventsPerS} events/s |`);
    console.log(`| drift tick (score from rollups + store alerts) | ${driftTick} ms |`);
    console.log(`| guard tick (canary and control arms, 24 h window: tally + edge hours) | ${guardTick} ms (raw read of the window: ${guardTickRaw} ms) |`);
    for (const [k, v] of Object.entries(queries)) console.log(`| dashboard: ${k} | ${v} ms |`);
    console.log(`| ingest, empty database | ${ingest.emptyEventsPerS} events/s |`);
    console.log(`| ingest, seeded database | ${ingest.seededEventsPerS} events/s (${result.ingest.ratio}x) |`);
    console.log(
      `| size per million events | ${result.sizeMiBPerMillion.total} MiB (raw events ${result.sizeMiBPerMillion.rawEvents}, rollups ${result.sizeMiBPerMillion.rollups}, of which the guard's tally ${result.sizeMiBPerMillion.guardTally}) |`,
    );
    console.log(JSON.stringify(result));
    const dir = path.join(REPO_ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'monitoring.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const s of stores) await s.close().catch(() => {});
    if (!keep) await client.query(`drop schema if exists "${big}" cascade`).catch(() => {});
    await client.query(`drop schema if exists "${empty}" cascade`).catch(() => {});
    await client.end();
  }
}

await main();

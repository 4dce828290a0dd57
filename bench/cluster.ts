/**
 * npm run bench:cluster — sustained ingestion through nginx into one
 * instance and into three, in the same run, on one PostgreSQL
 * (scripts/cluster.sh for each; a fresh schema each). Both clusters are up
 * together and measured in turns (1, 3, 1, 3, ...: --rounds of each), so a
 * busy moment on a shared machine falls on both; the table gives each
 * setup's median round. autocannon posts batches of fresh events with
 * install credentials for a fixed time; the stored rows are counted with
 * the plain driver, and a run that stored fewer events than were
 * acknowledged fails.
 *
 * Also one instance without nginx, so the proxy's own cost shows.
 * Prints a table and one JSON line (every round), writes bench/results/cluster-*.json.
 * PostgreSQL from BENCH_DATABASE_URL, TEST_DATABASE_URL or DATABASE_URL.
 *
 * Load generator, nginx, N servers and PostgreSQL share this machine's
 * CPUs: with few cores, three instances cannot give three times one.
 */
import './built.ts';
import os, { cpus } from 'node:os';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import pg from 'pg';
import { Command } from 'commander';
import { startCluster, type Cluster } from '../node/cluster.ts';
import { issueInstalls } from '../node/event-load.ts';
import { readManifest, loadTaxonomy } from '../node/registry.ts';
import { truncateToHour } from '../core/telemetry.ts';
import { saveRunReport } from './results-file.ts';

const program = new Command()
  .name('bench:cluster')
  .option('--duration <s>', 'seconds of load per setup and round', '10')
  .option('--rounds <n>', 'measurements of each setup, in turns', '3')
  .option('--warmup <s>', 'seconds of load before measuring, per setup', '3')
  .option('--connections <n>', 'concurrent connections', '24')
  .option('--batch <n>', 'events per request', '20')
  .option('--corrections <n>', 'of which corrections (with a full embedding)', '2')
  .option('--instances <list>', 'instance counts behind nginx', '1,3')
  .option('--nginx-workers <n>', 'nginx worker processes', '1')
  .parse();
const opts = program.opts<{ rounds: string; duration: string; warmup: string; connections: string; batch: string; corrections: string; instances: string; nginxWorkers: string }>();
const DURATION = Number(opts.duration);
const ROUNDS = Number(opts.rounds);
const WARMUP = Number(opts.warmup);
const CONNECTIONS = Number(opts.connections);
const BATCH = Number(opts.batch);
const CORRECTIONS = Math.min(Number(opts.corrections), BATCH);
const COUNTS = opts.instances.split(',').map(Number);
if (COUNTS.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--instances must be whole numbers, got "${opts.instances}"`);

const url = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
if (!url) {
  console.error('bench:cluster needs PostgreSQL: set BENCH_DATABASE_URL or TEST_DATABASE_URL (`bash scripts/pg-test-setup.sh` prints one)');
  process.exit(1);
}

const manifest = readManifest()!;
const active = manifest.versions.find((v) => v.version === manifest.active)!;
const taxa = loadTaxonomy().taxa.map((t) => t.id);
// Pre-serialized parts: the load generator shares the CPUs, so it should spend them sending.
const embeddingJson = JSON.stringify(Array.from({ length: active.outputs.embeddingSize }, (_, i) => Math.sin(i) * 2));
const hour = truncateToHour(Date.now());
const body = (installId: string) => {
  const events = [];
  for (let i = 0; i < BATCH; i++) {
    const id = randomUUID();
    events.push(
      i < CORRECTIONS
        ? `{"type":"correction","eventId":"${id}","installId":"${installId}","correctsEventId":"${randomUUID()}","verdict":"corrected","taxonId":"${taxa[3]}","modelVersion":"${active.version}","embedding":${embeddingJson},"appVersion":"bench","hour":"${hour}"}`
        : `{"type":"identification","eventId":"${id}","installId":"${installId}","modelVersion":"${active.version}","backend":"wasm","timings":{"decodeMs":4.1,"preprocessMs":6.3,"inferenceMs":51.2,"totalMs":63.9},"top5":[{"taxonId":"${taxa[0]}","p":0.61},{"taxonId":"${taxa[1]}","p":0.2},{"taxonId":"${taxa[2]}","p":0.07}],"otherProbability":0.09,"abstain":false,"appVersion":"bench","hour":"${hour}"}`,
    );
  }
  return `{"events":[${events.join(',')}]}`;
};

interface Row {
  setup: string;
  round: number;
  instances: number;
  via: 'nginx' | 'direct';
  seconds: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  events_per_s: number;
  req_per_s: number;
  p50_ms: number;
  p99_ms: number;
  acknowledged_events: number;
  stored_during_measure: number;
}

async function countEvents(schema: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query(`select count(*) as n from "${schema}".events`)).rows[0].n);
  } finally {
    await c.end();
  }
}

async function load(target: string, seconds: number, installs: Array<{ installId: string; token: string }>) {
  let next = 0;
  return autocannon({
    url: target,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/v1/events',
        setupRequest: (req) => {
          // Installs in turn, as many devices would send.
          const cred = installs[next++ % installs.length];
          return { ...req, headers: { 'content-type': 'application/json', authorization: `Install ${cred.token}` }, body: body(cred.installId) };
        },
      },
    ],
  });
}

type Installs = Array<{ installId: string; token: string }>;

async function measure(cluster: Cluster, installs: Installs, target: string, setup: string, via: Row['via'], round: number): Promise<Row> {
  if (WARMUP > 0) await load(target, WARMUP, installs);
  const before = await countEvents(cluster.schema);
  const r = await load(target, DURATION, installs);
  const stored = (await countEvents(cluster.schema)) - before;
  return {
    setup,
    round,
    instances: cluster.n,
    via,
    seconds: Math.round(r.duration * 10) / 10,
    requests: r.requests.total,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    events_per_s: Math.round((r['2xx'] * BATCH) / r.duration),
    req_per_s: Math.round(r['2xx'] / r.duration),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    acknowledged_events: r['2xx'] * BATCH,
    stored_during_measure: stored,
  };
}

console.error(
  `bench:cluster: ${ROUNDS} rounds of ${DURATION} s per setup, each after ${WARMUP} s warm-up, ${CONNECTIONS} connections, ${BATCH} events per request (${CORRECTIONS} corrections), nginx workers ${opts.nginxWorkers}, ${cpus().length} CPUs shared by everything`,
);
const clusters: Array<{ cluster: Cluster; installs: Installs }> = [];
const rows: Row[] = [];
try {
  for (const n of COUNTS) {
    console.error(`bench:cluster: starting ${n} instance(s) behind nginx…`);
    const cluster = await startCluster(n, url, {
      CLUSTER_RATE_LIMIT: '100000000',
      INSTALLS_PER_HOUR: '10000',
      CLUSTER_NGINX_WORKERS: opts.nginxWorkers,
      LOG_LEVEL: 'error',
    });
    clusters.push({ cluster, installs: await issueInstalls(cluster.url, 16) });
  }
  for (let round = 1; round <= ROUNDS; round++) {
    // Every other round runs the setups in reverse, so none always goes first (or last).
    const turn = clusters.flatMap(({ cluster, installs }) => [
      ...(cluster.n === 1 ? [() => measure(cluster, installs, cluster.instanceUrl(1), 'one instance, no proxy', 'direct', round)] : []),
      () => measure(cluster, installs, cluster.url, `${cluster.n} behind nginx`, 'nginx', round),
    ]);
    if (round % 2 === 0) turn.reverse();
    console.error(`bench:cluster: round ${round}/${ROUNDS}${round % 2 === 0 ? ' (reversed)' : ''}…`);
    for (const run of turn) rows.push(await run());
  }
} finally {
  for (const { cluster } of clusters) await cluster.stop();
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const setups = [...new Set(rows.map((r) => r.setup))];
const summary = setups.map((setup) => {
  const rs = rows.filter((r) => r.setup === setup);
  return {
    setup,
    instances: rs[0].instances,
    via: rs[0].via,
    events_per_s: median(rs.map((r) => r.events_per_s)),
    p50_ms: median(rs.map((r) => r.p50_ms)),
    p99_ms: median(rs.map((r) => r.p99_ms)),
    rounds_events_per_s: rs.map((r) => r.events_per_s),
  };
});
const base = summary.find((r) => r.via === 'nginx' && r.instances === 1);
// Ratio per round (same moment on the machine), then the median of those.
const ratioPerRound = (n: number) =>
  Array.from({ length: ROUNDS }, (_, i) => {
    const one = rows.find((r) => r.round === i + 1 && r.via === 'nginx' && r.instances === 1);
    const many = rows.find((r) => r.round === i + 1 && r.via === 'nginx' && r.instances === n);
    return one && many ? many.events_per_s / one.events_per_s : NaN;
  });
console.table(
  summary.map((r) => ({
    setup: r.setup,
    'events/s (median)': r.events_per_s,
    'x one behind nginx (median of rounds)': base && r.via === 'nginx' ? Math.round(median(ratioPerRound(r.instances)) * 100) / 100 : null,
    'p50 ms': r.p50_ms,
    'p99 ms': r.p99_ms,
    'events/s by round': r.rounds_events_per_s.join(' / '),
  })),
);
const report = {
  bench: 'cluster',
  at: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  load_average: os.loadavg().map((l) => Math.round(l * 10) / 10),
  rounds: ROUNDS,
  duration_s: DURATION,
  warmup_s: WARMUP,
  connections: CONNECTIONS,
  batch: BATCH,
  corrections_per_batch: CORRECTIONS,
  nginx_workers: Number(opts.nginxWorkers),
  summary,
  speedup_vs_one: Object.fromEntries(COUNTS.filter((n) => n > 1).map((n) => [n, Math.round(median(ratioPerRound(n)) * 100) / 100])),
  results: rows,
};
saveRunReport('cluster', report);

// Every acknowledged event must be stored; a bench that loses data measured nothing.
const lost = rows.filter((r) => r.stored_during_measure < r.acknowledged_events || r.non2xx > 0);
if (lost.length) {
  console.error(`bench:cluster: FAILED for ${lost.map((r) => `${r.setup} (round ${r.round})`).join(', ')} (non-2xx answers or fewer stored events than acknowledged)`);
  process.exit(1);
}

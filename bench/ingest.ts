/**
 * npm run bench:ingest — sustained ingestion into the real server, on SQLite
 * and on PostgreSQL: autocannon posts batches (unique event ids in every
 * request) for a fixed time, then the stored rows are counted with the plain
 * driver to check that every acknowledged event is there.
 *
 * --pack-share 0,0.6 runs each backend once per share of identifications
 * that ran a species pack (their pack rollups, server/storage/pack-rollups.ts,
 * are kept at ingest too), one after the other in the same run.
 *
 * Prints a table and one JSON line, and writes bench/results/ingest-*.json.
 * PostgreSQL comes from BENCH_DATABASE_URL, TEST_DATABASE_URL or
 * DATABASE_URL (each run in a fresh schema, dropped after); without one only
 * SQLite runs.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Command } from 'commander';
import { startServerProcess } from '../node/server-process.ts';
import { readManifest, loadTaxonomy } from '../node/registry.ts';
import { truncateToHour } from '../core/telemetry.ts';
import { ensureModels } from '../node/ensure-built.ts';
import { saveRunReport } from './results-file.ts';

const program = new Command()
  .name('bench:ingest')
  .option('--duration <s>', 'seconds of load per backend', '15')
  .option('--connections <n>', 'concurrent connections', '10')
  .option('--batch <n>', 'events per request', '20')
  .option('--corrections <n>', 'of which corrections (with a full embedding)', '2')
  .option('--backends <list>', 'comma-separated: sqlite,postgres', 'sqlite,postgres')
  .option('--pack-share <list>', 'comma-separated shares (0 to 1) of identifications that ran a species pack; a run per share and backend', '0')
  .parse();
const opts = program.opts<{ duration: string; connections: string; batch: string; corrections: string; backends: string; packShare: string }>();
ensureModels('the benchmark');
const DURATION = Number(opts.duration);
const CONNECTIONS = Number(opts.connections);
const BATCH = Number(opts.batch);
const CORRECTIONS = Math.min(Number(opts.corrections), BATCH);
const PACK_SHARES = opts.packShare.split(',').map(Number);
if (PACK_SHARES.some((x) => !(x >= 0 && x <= 1))) throw new Error(`--pack-share takes shares from 0 to 1 (got "${opts.packShare}")`);

const manifest = readManifest();
if (!manifest) throw new Error('no models/registry/manifest.json');
const active = manifest.versions.find((v) => v.version === manifest.active)!;
const taxa = loadTaxonomy().taxa.map((t) => t.id);

// Bodies are built from pre-serialized parts so the load generator, which
// shares the CPU with the server, spends its time sending rather than
// serializing 1280-number embeddings.
const embeddingJson = JSON.stringify(Array.from({ length: active.outputs.embeddingSize }, (_, i) => Math.sin(i) * 2));
// Issued by each server run (POST /v1/installs), as the app gets it.
let installId = '';
const hour = truncateToHour(Date.now());
// The share of this run's identifications that carry a pack answer.
let packShare = 0;
const packJson = () => (Math.random() < packShare ? `,"pack":{"id":"inat-birds","version":"1.0.0","routedBy":"rollup","top5":[{"taxonId":"${taxa[4]}","p":0.7}]}` : '');
const identificationJson = (id: string) =>
  `{"type":"identification","eventId":"${id}","installId":"${installId}","modelVersion":"${active.version}","backend":"wasm",` +
  `"timings":{"decodeMs":4.1,"preprocessMs":6.3,"inferenceMs":51.2,"totalMs":63.9},` +
  `"top5":[{"taxonId":"${taxa[0]}","p":0.61},{"taxonId":"${taxa[1]}","p":0.2},{"taxonId":"${taxa[2]}","p":0.07}],` +
  `"otherProbability":0.09,"abstain":false,"appVersion":"bench","hour":"${hour}"${packJson()}}`;
const correctionJson = (id: string) =>
  `{"type":"correction","eventId":"${id}","installId":"${installId}","correctsEventId":"${randomUUID()}","verdict":"corrected",` +
  `"taxonId":"${taxa[3]}","modelVersion":"${active.version}","embedding":${embeddingJson},"appVersion":"bench","hour":"${hour}"}`;
const batchBody = () => {
  const events = [];
  for (let i = 0; i < BATCH; i++) events.push(i < CORRECTIONS ? correctionJson(randomUUID()) : identificationJson(randomUUID()));
  return `{"events":[${events.join(',')}]}`;
};

interface Backend {
  name: 'sqlite' | 'postgres';
  env: Record<string, string>;
  countEvents(): Promise<number>;
  cleanup(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(path.join(tmpdir(), 'wildsight-bench-'));
  return {
    name: 'sqlite',
    env: { DATA_DIR: dir, DATABASE_URL: '' },
    async countEvents() {
      const db = new BetterSqlite3(path.join(dir, 'wildsight.db'), { readonly: true });
      try {
        return Number(db.prepare('select count(*) from events').pluck().get());
      } finally {
        db.close();
      }
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(url: string): Backend {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const withClient = async <T>(fn: (c: pg.Client) => Promise<T>) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  return {
    name: 'postgres',
    env: { DATABASE_URL: url, DATABASE_SCHEMA: schema },
    countEvents: () => withClient(async (c) => Number((await c.query(`select count(*) as n from "${schema}".events`)).rows[0].n)),
    cleanup: () =>
      withClient(async (c) => {
        await c.query(`drop schema if exists "${schema}" cascade`);
      }),
  };
}

interface Row {
  backend: string;
  pack_share: number;
  seconds: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  events_per_s: number;
  req_per_s: number;
  p50_ms: number;
  p99_ms: number;
  stored: number;
  acknowledged_events: number;
}

async function run(backend: Backend): Promise<Row> {
  const server = await startServerProcess({ ...backend.env, RATE_LIMIT_MAX: '100000000', LOG_LEVEL: 'error' });
  try {
    const issued = await fetch(`${server.url}/v1/installs`, { method: 'POST' });
    if (issued.status !== 201) throw new Error(`POST /v1/installs answered ${issued.status}`);
    const credential = (await issued.json()) as { installId: string; token: string };
    installId = credential.installId;
    const result = await autocannon({
      url: server.url,
      connections: CONNECTIONS,
      duration: DURATION,
      requests: [
        {
          method: 'POST',
          path: '/v1/events',
          headers: { 'content-type': 'application/json', authorization: `Install ${credential.token}` },
          setupRequest: (req) => ({ ...req, body: batchBody() }),
        },
      ],
    });
    const ok = result['2xx'];
    const stored = await backend.countEvents();
    return {
      backend: backend.name,
      pack_share: packShare,
      seconds: Math.round(result.duration * 10) / 10,
      requests: result.requests.total,
      ok,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      events_per_s: Math.round((ok * BATCH) / result.duration),
      req_per_s: Math.round(ok / result.duration),
      p50_ms: result.latency.p50,
      p99_ms: result.latency.p99,
      stored,
      acknowledged_events: ok * BATCH,
    };
  } finally {
    await server.stop('SIGTERM');
    await backend.cleanup();
  }
}

const wanted = opts.backends.split(',').map((s) => s.trim());
const pgUrl = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
// A fresh store for every run.
const backends: Array<() => Backend> = [];
if (wanted.includes('sqlite')) backends.push(sqliteBackend);
if (wanted.includes('postgres')) {
  if (pgUrl) backends.push(() => postgresBackend(pgUrl));
  else console.error('bench:ingest: no BENCH_DATABASE_URL / TEST_DATABASE_URL / DATABASE_URL; skipping PostgreSQL (run `bash scripts/pg-test-setup.sh`)');
}

console.error(
  `bench:ingest: ${DURATION} s per backend, ${CONNECTIONS} connections, ${BATCH} events per request (${CORRECTIONS} corrections with ${active.outputs.embeddingSize}-value embeddings), ${cpus().length} CPUs shared by client and server`,
);
const rows: Row[] = [];
for (const make of backends) {
  for (const share of PACK_SHARES) {
    const b = make();
    packShare = share;
    console.error(`bench:ingest: ${b.name}${share ? `, ${share * 100}% of identifications with a pack` : ''}…`);
    rows.push(await run(b));
  }
}

console.table(
  rows.map((r) => ({
    backend: r.backend,
    'pack share': r.pack_share,
    'events/s': r.events_per_s,
    'requests/s': r.req_per_s,
    'p50 ms': r.p50_ms,
    'p99 ms': r.p99_ms,
    '2xx': r.ok,
    'non-2xx': r.non2xx,
    errors: r.errors,
    stored: r.stored,
  })),
);
const report = {
  bench: 'ingest',
  at: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  duration_s: DURATION,
  connections: CONNECTIONS,
  batch: BATCH,
  corrections_per_batch: CORRECTIONS,
  results: rows,
};
saveRunReport('ingest', report);

// Every acknowledged event must be stored; a bench that loses data measured nothing.
const lost = rows.filter((r) => r.stored < r.acknowledged_events || r.non2xx > 0);
if (lost.length) {
  console.error(`bench:ingest: FAILED on ${lost.map((r) => r.backend).join(', ')} (non-2xx answers or fewer stored events than acknowledged)`);
  process.exit(1);
}

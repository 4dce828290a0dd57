/**
 * The retrain watch as an optional server job (RETRAIN_WATCH_THRESHOLD; off
 * by default): the same check as `npm run pipeline -- watch`
 * (pipeline/watch.ts), on the job scheduler under the same `retrain-watch`
 * lease, tick rows and state in the database, so server instances and watch
 * processes together take turns and never retrain one tick twice.
 *
 * The retrain itself runs as a child process (`pipeline retrain` on this
 * server's store and registry), not in the server: it takes minutes of CPU
 * and main-thread work that would stall requests, and a crash of it must not
 * take the server down. The scheduler renews the lease while it runs; the
 * count is recorded only if this instance still holds the lease at the end.
 *
 * Settings: RETRAIN_WATCH_THRESHOLD (new accepted corrections that start a
 * retrain; unset or 0: off), RETRAIN_WATCH_INTERVAL_MS (tick, default
 * 60,000), JOB_LEASE_MS (default twice the tick, at least 120 s).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { jobLeaseMsFromEnv, scheduleJob } from './scheduler.ts';
import { checkAndRetrain, countAccepted, databaseState, RETRAIN_WATCH_JOB } from '../../pipeline/watch.ts';
import { REPO_ROOT } from '../../node/paths.ts';

export interface RetrainWatchConfig {
  /** New accepted corrections that start a retrain; null: the job is off. */
  threshold: number | null;
  intervalMs: number;
  leaseMs?: number;
}

export function retrainWatchConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RetrainWatchConfig {
  const t = env.RETRAIN_WATCH_THRESHOLD?.trim();
  const threshold = !t || t === '0' ? null : Number(t);
  if (threshold !== null && (!Number.isInteger(threshold) || threshold < 1)) throw new Error(`RETRAIN_WATCH_THRESHOLD must be a whole number of corrections, at least 1, or 0 for off (got "${t}")`);
  const i = env.RETRAIN_WATCH_INTERVAL_MS?.trim();
  const intervalMs = i ? Number(i) : 60_000;
  if (!Number.isInteger(intervalMs) || intervalMs < 1000) throw new Error(`RETRAIN_WATCH_INTERVAL_MS must be a whole number of milliseconds, at least 1000 (got "${i}")`);
  return { threshold, intervalMs };
}

/** Where the child's retrain reads and writes: this server's store and registry. */
export interface RetrainTarget {
  dataDir: string;
  databaseUrl?: string;
  databaseSchema?: string;
  registryDir: string;
}

/** `pipeline retrain` in a child process; its last stdout line is the run's JSON summary. The database URL goes by environment, not argv (ps shows argv). */
export function retrainInChild(target: RetrainTarget, log: (line: string) => void, signal?: AbortSignal): Promise<{ runId: string | null; registered: boolean }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: target.dataDir };
  if (target.databaseUrl) env.DATABASE_URL = target.databaseUrl;
  else delete env.DATABASE_URL;
  if (target.databaseSchema) env.DATABASE_SCHEMA = target.databaseSchema;
  else delete env.DATABASE_SCHEMA;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'pipeline', 'cli.ts'), 'retrain', '--registry', target.registryDir], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    signal,
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    for (const line of d.split('\n')) if (line.trim()) log(line);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code !== 0) return reject(new Error(`pipeline retrain exited with ${signal ?? `code ${code}`}`));
      try {
        const last = JSON.parse(out.trim().split('\n').at(-1) ?? '') as { run?: string | null; registered?: boolean };
        resolve({ runId: last.run ?? null, registered: last.registered === true });
      } catch {
        reject(new Error('pipeline retrain printed no JSON summary'));
      }
    });
  });
}

export default fp(
  async (
    app: FastifyInstance,
    opts: {
      config?: Partial<RetrainWatchConfig>;
      target: RetrainTarget;
      /** Tests: the retrain step instead of the child process, and the count instead of the store's accepted corrections. */
      retrain?: () => Promise<{ runId: string | null; registered: boolean }>;
      countAccepted?: () => Promise<number>;
    },
  ) => {
    const config: RetrainWatchConfig = { ...retrainWatchConfigFromEnv(), ...opts.config };
    const threshold = config.threshold;
    if (threshold === null) return;
    const log = app.log.child({ job: RETRAIN_WATCH_JOB });
    // A server that closes stops its retrain (SIGTERM) rather than waiting minutes for it; the count is not recorded, so the next holder retrains.
    const closing = new AbortController();
    app.addHook('preClose', async () => closing.abort());
    const retrain = opts.retrain ?? (() => retrainInChild(opts.target, (line) => log.info({ retrain: line }, 'retrain output'), closing.signal));
    scheduleJob(app, {
      name: RETRAIN_WATCH_JOB,
      intervalMs: config.intervalMs,
      leaseMs: config.leaseMs ?? jobLeaseMsFromEnv() ?? Math.max(120_000, 2 * config.intervalMs),
      run: async (_tick, lease) => {
        try {
          const r = await checkAndRetrain(
            { threshold, state: databaseState(app.store), countAccepted: opts.countAccepted ?? (() => countAccepted(app.store)), runRetrain: retrain, log: (line) => log.info(line) },
            lease.held,
          );
          if (r.status === 'ran') log.info(r, 'retrain watch ran a retrain');
        } catch (err) {
          log.warn({ err }, 'retrain watch tick failed');
        }
      },
    });
  },
  { name: 'retrain-watch', dependencies: ['storage'] },
);

/**
 * scripts/cluster.sh driven from TypeScript, for the cluster kill test and
 * bench:cluster: a cluster in its own temporary folder, PostgreSQL schema
 * and loopback ports, started, inspected and stopped with the script
 * itself (so what is tested is the script an operator runs).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { REPO_ROOT } from './paths.ts';

const run = promisify(execFile);

export interface Cluster {
  /** nginx: http://127.0.0.1:PORT */
  url: string;
  dir: string;
  schema: string;
  databaseUrl: string;
  n: number;
  /** Instance i's own address (1-based), bypassing nginx. */
  instanceUrl(i: number): string;
  /** Instance i's server pid now (null when not running). */
  pid(i: number): number | null;
  logFile(i: number): string;
  kill(i: number, signal?: string): Promise<void>;
  startInstance(i: number): Promise<void>;
  /** Stops nginx and the instances; drops the schema unless keep. */
  stop(opts?: { keep?: boolean }): Promise<void>;
}

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

/** n + 1 consecutive free loopback ports (nginx's, then one per instance). */
export async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found on 127.0.0.1`);
}

async function script(dir: string, args: string[], env: Record<string, string> = {}, timeoutMs = 180_000) {
  try {
    return await run('bash', [path.join(REPO_ROOT, 'scripts/cluster.sh'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, CLUSTER_DIR: dir },
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    // The message holds the script's stderr.
    throw new Error(`scripts/cluster.sh ${args.join(' ')} failed: ${e.message}`, { cause: err });
  }
}

/**
 * Starts n instances and nginx on fresh loopback ports, on a fresh schema
 * of databaseUrl. env reaches the instances (job intervals, limits, ...).
 */
export async function startCluster(n: number, databaseUrl: string, env: Record<string, string> = {}): Promise<Cluster> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wildsight-cluster-'));
  const schema = `cluster_${process.pid}_${randomBytes(4).toString('hex')}`;
  const port = await freePortRun(n + 1);
  const clusterEnv = { CLUSTER_PORT: String(port), CLUSTER_DATABASE_URL: databaseUrl, CLUSTER_SCHEMA: schema, ...env };
  const pidFile = (i: number) => path.join(dir, `instance-${i}.pid`);
  const cluster: Cluster = {
    url: `http://127.0.0.1:${port}`,
    dir,
    schema,
    databaseUrl,
    n,
    instanceUrl: (i) => `http://127.0.0.1:${port + i}`,
    pid(i) {
      if (!existsSync(pidFile(i))) return null;
      const pid = Number(readFileSync(pidFile(i), 'utf8').trim());
      try {
        process.kill(pid, 0);
        return pid;
      } catch {
        return null;
      }
    },
    logFile: (i) => path.join(dir, `instance-${i}.log`),
    async kill(i, signal = 'KILL') {
      await script(dir, ['kill-instance', String(i), signal]);
    },
    async startInstance(i) {
      await script(dir, ['start-instance', String(i)]);
    },
    async stop(opts = {}) {
      await script(dir, ['stop']).catch((err) => console.error(String(err)));
      if (!opts.keep) {
        const c = new pg.Client({ connectionString: databaseUrl });
        await c.connect();
        try {
          await c.query(`drop schema if exists "${schema}" cascade`);
        } finally {
          await c.end();
        }
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    await script(dir, ['start', String(n)], clusterEnv);
  } catch (err) {
    await cluster.stop().catch(() => {});
    throw err;
  }
  return cluster;
}

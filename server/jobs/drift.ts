/**
 * The monitoring job, as an app plugin:
 * - every DRIFT_INTERVAL_MS (default 10 minutes; 0 turns the timer off) it
 *   scores drift per model version and day against the reference window
 *   (from the rollups: its cost follows days and labels, not events),
 *   stores warn/alert levels in drift_alerts, and applies the two-installs
 *   rule to pending corrections;
 * - after each POST /v1/events it counts duplicates and refused events by
 *   reason per day (quality_counts: the only place they exist after the
 *   request) and applies the two-installs rule when corrections came in
 *   (a second later, one pass per burst);
 * - /metrics gets gauges: wildsight_drift_psi and wildsight_drift_js
 *   {model_version, metric} for the latest scored day, wildsight_drift_level
 *   {model_version} (0 ok, 1 warn, 2 alert) and wildsight_drift_alerts
 *   {model_version, level} (stored alert rows).
 *
 * Thresholds and reference from the environment: DRIFT_PSI_WARN (0.1),
 * DRIFT_PSI_ALERT (0.25), DRIFT_JS_WARN (0.1), DRIFT_JS_ALERT (0.2),
 * DRIFT_REFERENCE_DAYS (7, the version's first days unless a window was
 * chosen through the admin API), DRIFT_MIN_EVENTS (200 per day).
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import { DEFAULT_DRIFT_THRESHOLDS, type DriftThresholds } from '../../core/drift.ts';
import { DEFAULT_MIN_DRIFT_EVENTS } from '../../core/drift-series.ts';
import { autoAccept, computeDrift, listAlerts, monitoringDb, recordQuality, storeAlerts } from '../storage/monitoring-store.ts';
import { scheduleJob } from './scheduler.ts';
import { computePackDrift } from '../storage/pack-rollup-reads.ts';

/**
 * The periodic jobs' names (lease and tick rows): with several server
 * instances on one database, one of them runs each tick of each.
 */
export const DRIFT_JOB = 'drift';
export const AUTO_ACCEPT_JOB = 'auto-accept';

export interface MonitoringConfig {
  thresholds: DriftThresholds;
  referenceDays: number;
  minEvents: number;
  intervalMs: number;
  /**
   * How long the instance that ran the last tick keeps the job: renewed at
   * each of its ticks, taken over by another instance once it lapses (the
   * holder died). Default: twice the interval, at least a minute.
   */
  leaseMs?: number;
}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || v < min) throw new Error(`${name} must be a number >= ${min} (got "${text}")`);
  return v;
}

export function monitoringConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MonitoringConfig {
  const d = DEFAULT_DRIFT_THRESHOLDS;
  return {
    thresholds: {
      psiWarn: num(env, 'DRIFT_PSI_WARN', d.psiWarn),
      psiAlert: num(env, 'DRIFT_PSI_ALERT', d.psiAlert),
      jsWarn: num(env, 'DRIFT_JS_WARN', d.jsWarn),
      jsAlert: num(env, 'DRIFT_JS_ALERT', d.jsAlert),
    },
    referenceDays: num(env, 'DRIFT_REFERENCE_DAYS', 7, 1),
    minEvents: num(env, 'DRIFT_MIN_EVENTS', DEFAULT_MIN_DRIFT_EVENTS, 1),
    intervalMs: num(env, 'DRIFT_INTERVAL_MS', 10 * 60_000),
  };
}

export interface MonitoringService {
  config: MonitoringConfig;
  /** Drift ticks this instance ran (it held the job's lease and won the tick); ticks another instance ran do not count. */
  ticksRun(): number;
  /** Scores drift now, stores alerts and updates the gauges. */
  runDrift(): Promise<Awaited<ReturnType<typeof computeDrift>>>;
  /** The two-installs rule now; the accepted event ids. */
  autoAccept(): Promise<string[]>;
}

declare module 'fastify' {
  interface FastifyInstance {
    monitoring: MonitoringService;
  }
}

const LEVEL = { ok: 0, warn: 1, alert: 2 } as const;
const AUTO_ACCEPT_DELAY_MS = 1_000;
/** How long a correction may wait for the identification it cites (the outbox sends in order, so this is generous). */
export const GROUNDING_WAIT_MS = 7 * 86_400_000;

export default fp(
  async (app: FastifyInstance, opts: { config?: Partial<MonitoringConfig> }) => {
    const config: MonitoringConfig = { ...monitoringConfigFromEnv(), ...opts.config };
    const registers = [app.metrics.registry];
    const psiGauge = new Gauge({ name: 'wildsight_drift_psi', help: 'PSI of the latest scored day against the reference window', labelNames: ['model_version', 'metric'] as const, registers });
    const jsGauge = new Gauge({
      name: 'wildsight_drift_js',
      help: 'Jensen-Shannon distance of the latest scored day against the reference window',
      labelNames: ['model_version', 'metric'] as const,
      registers,
    });
    const levelGauge = new Gauge({ name: 'wildsight_drift_level', help: 'Drift level of the latest scored day: 0 ok, 1 warn, 2 alert', labelNames: ['model_version'] as const, registers });
    const alertsGauge = new Gauge({ name: 'wildsight_drift_alerts', help: 'Stored drift alerts (days x metrics) by level', labelNames: ['model_version', 'level'] as const, registers });

    const db = () => monitoringDb(app.store);
    const running = new Set<Promise<unknown>>();
    let closing = false;
    const track = <T>(p: Promise<T>): Promise<T> => {
      running.add(p);
      p.finally(() => running.delete(p)).catch(() => {});
      return p;
    };

    async function runDrift() {
      const opts = { thresholds: config.thresholds, referenceDays: config.referenceDays, minEvents: config.minEvents };
      const result = await computeDrift(db(), opts);
      await storeAlerts(db(), result.points, result.references);
      // Each species-pack version's top-1 mix and confidence too, its alerts keyed pack:<id>@<version> (core/pack-metrics.ts packDriftKey).
      const packs = await computePackDrift(db(), opts);
      await storeAlerts(db(), packs.points, packs.references);
      psiGauge.reset();
      jsGauge.reset();
      levelGauge.reset();
      alertsGauge.reset();
      const latest = new Map<string, (typeof result.points)[number]>();
      for (const p of [...result.points, ...packs.points]) latest.set(p.modelVersion, p);
      for (const [v, p] of latest) {
        for (const metric of ['prediction', 'confidence'] as const) {
          psiGauge.set({ model_version: v, metric }, p[metric].psi);
          jsGauge.set({ model_version: v, metric }, p[metric].js);
        }
        levelGauge.set({ model_version: v }, LEVEL[p.level]);
      }
      for (const a of await listAlerts(db(), { limit: 100_000 })) alertsGauge.inc({ model_version: a.modelVersion, level: a.level });
      return result;
    }

    async function runAutoAccept() {
      // A correction whose identification never came is not evidence of anything.
      const expired = await app.store.expireWaiting(new Date(Date.now() - GROUNDING_WAIT_MS));
      if (expired) app.log.info({ count: expired }, 'corrections whose identification never arrived marked unverified');
      const ids = await autoAccept(db());
      if (ids.length) {
        app.taxa?.invalidate();
        app.log.info({ count: ids.length }, 'corrections accepted by the independent-installs rule');
      }
      return ids;
    }

    app.decorate('monitoring', {
      config,
      ticksRun: () => driftJob.ticksRun(),
      runDrift: () => track(runDrift()),
      autoAccept: () => track(runAutoAccept()),
    } satisfies MonitoringService);

    // What only the ingest request knows: duplicates and refusals, per day.
    app.addHook('preSerialization', async (req, reply, payload) => {
      if (req.routeOptions.url !== '/v1/events' || req.method !== 'POST' || (reply.statusCode !== 200 && reply.statusCode !== 422)) return payload;
      const body = payload as { duplicates?: number; rejected?: Array<{ reason: string }>; accepted?: number };
      if (!Array.isArray(body?.rejected)) return payload;
      const counts: Record<string, number> = { duplicate: body.duplicates ?? 0 };
      for (const r of body.rejected) counts[`rejected:${r.reason}`] = (counts[`rejected:${r.reason}`] ?? 0) + 1;
      const hasCorrections = (body.accepted ?? 0) > 0 && ((req.body as { events?: Array<{ type?: unknown }> })?.events ?? []).some((e) => e?.type === 'correction');
      try {
        await recordQuality(db(), new Date().toISOString().slice(0, 10), counts);
      } catch (err) {
        req.log.warn({ err }, 'could not record data-quality counts');
      }
      if (hasCorrections) scheduleAutoAccept();
      return payload;
    });

    // After the answer, so the client never waits on it, and at most once a
    // second however many batches arrive: a burst is one pass.
    let autoTimer: NodeJS.Timeout | null = null;
    function scheduleAutoAccept() {
      if (closing || autoTimer) return;
      autoTimer = setTimeout(() => {
        autoTimer = null;
        if (!closing) track(runAutoAccept()).catch((err) => app.log.warn({ err }, 'independent-installs rule failed'));
      }, AUTO_ACCEPT_DELAY_MS);
      autoTimer.unref();
    }

    // Two periodic jobs, each taking turns across instances (server/jobs/scheduler.ts).
    const leaseMs = config.leaseMs;
    // First runs soon after start (not during it), then at each tick boundary.
    scheduleJob(app, { name: AUTO_ACCEPT_JOB, intervalMs: config.intervalMs, leaseMs, firstRunAfterMs: 2_000, run: () => track(runAutoAccept()) });
    // Auto-accept first: drift then scores what it accepted.
    const driftJob = scheduleJob(app, { name: DRIFT_JOB, intervalMs: config.intervalMs, leaseMs, firstRunAfterMs: 2_100, run: () => track(runDrift()) });
    app.addHook('preClose', async () => {
      closing = true;
      if (autoTimer) clearTimeout(autoTimer);
      await Promise.allSettled([...running]);
    });
  },
  { name: 'monitoring', dependencies: ['metrics', 'storage'] },
);

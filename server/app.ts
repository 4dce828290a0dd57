/** Builds the Fastify app: plugins first, then routes. */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import security from './plugins/external/security.ts';
import openapi from './plugins/external/openapi.ts';
import errors from './plugins/app/errors.ts';
import validator from './plugins/app/validator.ts';
import metrics from './plugins/app/metrics.ts';
import registry from './plugins/app/registry.ts';
import storage from './plugins/app/storage.ts';
import taxa from './plugins/app/taxa.ts';
import installCredentials from './plugins/app/install-credentials.ts';
import rolloutGuard, { type RolloutGuardOptions } from './jobs/rollout-guard.ts';
import monitoringJob, { type MonitoringConfig } from './jobs/drift.ts';
import retentionJob, { type RetentionConfig } from './jobs/retention.ts';
import retrainWatchJob, { type RetrainWatchConfig } from './jobs/retrain-watch.ts';
import health from './routes/health.ts';
import metricsRoute from './routes/metrics.ts';
import api from './routes/api/index.ts';
import staticFiles from './routes/static.ts';
import { configFromEnv } from './config.ts';
import type { FeedbackStore } from './storage/types.ts';
import { DIST_DIR, REGISTRY_DIR, TAXONOMY_FILE } from '../node/paths.ts';

export interface AppOptions {
  distDir?: string;
  registryDir?: string;
  taxonomyFile?: string;
  logger?: FastifyServerOptions['logger'];
  /** An open feedback store (the caller closes it). Otherwise one is opened from the options below or the environment. */
  store?: FeedbackStore;
  /** SQLite file folder when no database URL is given (env DATA_DIR, default ./data). */
  dataDir?: string;
  /** PostgreSQL URL (env DATABASE_URL); SQLite when unset. */
  databaseUrl?: string;
  /** PostgreSQL schema for the tables (env DATABASE_SCHEMA), created if missing. */
  databaseSchema?: string;
  /** Bearer token for /v1/admin/ (env ADMIN_TOKEN); null turns the admin API off. */
  adminToken?: string | null;
  /** API requests per minute per client (env RATE_LIMIT_MAX, default 600). */
  rateLimitMax?: number;
  /** HMAC key for install tokens (env INSTALL_SECRET); otherwise generated once and kept in the store. */
  installSecret?: string | null;
  /** New install credentials per client address per hour (env INSTALLS_PER_HOUR, default 20). */
  installsPerHour?: number;
  /** Corrections per install per UTC day that count (env CORRECTIONS_PER_INSTALL_DAY, default 50). */
  dailyCorrectionCap?: number;
  /** Proxies whose X-Forwarded-For gives the client's address (env TRUST_PROXY); false: none. */
  trustProxy?: string | false;
  /** The monitoring job (drift, automatic acceptance); env DRIFT_* otherwise. intervalMs 0 turns its timer off. */
  monitoring?: Partial<MonitoringConfig>;
  /** Raw-event and photo retention (env RETENTION_DAYS, PHOTO_RETENTION_DAYS, RETENTION_INTERVAL_MS); off unless given (past hours of install_issues go whenever its interval is not 0). */
  retention?: Partial<RetentionConfig>;
  /** The retrain watch job (env RETRAIN_WATCH_THRESHOLD, RETRAIN_WATCH_INTERVAL_MS); off unless a threshold is set. */
  retrainWatch?: Partial<RetrainWatchConfig>;
  /** The rollout guard job (env ROLLOUT_GUARD_INTERVAL_S, ROLLOUT_MIN_EVENTS); intervalMs 0 turns it off. */
  rolloutGuard?: RolloutGuardOptions;
  /** Tests only: runs on the bare instance before any plugin or route, to add hooks (onRoute, reply checks). */
  beforePlugins?: (app: FastifyInstance) => void;
}

export async function buildApp(opts: AppOptions = {}) {
  const env = configFromEnv();
  const distDir = opts.distDir ?? DIST_DIR;
  const registryDir = opts.registryDir ?? REGISTRY_DIR;
  const app = Fastify({
    logger: opts.logger ?? {
      level: process.env.LOG_LEVEL ?? 'info',
      // Client addresses stay out of the logs: the store keeps only a salted hash of the network.
      serializers: { req: (req) => ({ method: req.method, url: req.url }) },
    },
    bodyLimit: 1024 * 1024,
    trustProxy: opts.trustProxy ?? env.trustProxy,
  });
  try {
    opts.beforePlugins?.(app);
    await app.register(errors);
    await app.register(validator);
    await app.register(metrics);
    await app.register(openapi);
    await app.register(security);
    await app.register(registry, { registryDir });
    const storeConfig = {
      // An explicit dataDir means SQLite there, whatever DATABASE_URL says.
      databaseUrl: opts.databaseUrl ?? (opts.dataDir ? undefined : env.databaseUrl),
      databaseSchema: opts.databaseSchema ?? env.databaseSchema,
      dataDir: opts.dataDir ?? env.dataDir,
    };
    await app.register(storage, { store: opts.store, config: storeConfig });
    await app.register(taxa, { taxonomyFile: opts.taxonomyFile ?? TAXONOMY_FILE });
    await app.register(installCredentials, { secret: opts.installSecret === undefined ? env.installSecret : opts.installSecret });
    await app.register(rolloutGuard, opts.rolloutGuard ?? {});
    await app.register(monitoringJob, { config: opts.monitoring });
    await app.register(retentionJob, { config: opts.retention });
    await app.register(retrainWatchJob, { config: opts.retrainWatch, target: { ...storeConfig, registryDir } });
    await app.register(health, { distDir });
    await app.register(metricsRoute);
    await app.register(api, {
      rateLimitMax: opts.rateLimitMax ?? env.rateLimitMax,
      adminToken: opts.adminToken === undefined ? env.adminToken : opts.adminToken,
      installsPerHour: opts.installsPerHour ?? env.installsPerHour,
      dailyCorrectionCap: opts.dailyCorrectionCap ?? env.dailyCorrectionCap,
    });
    await app.register(staticFiles, { distDir, registryDir, taxonomyFile: opts.taxonomyFile ?? TAXONOMY_FILE });
    await app.ready();
  } catch (err) {
    // Whatever opened (a database pool) is closed again before the error goes up.
    await app.close().catch(() => {});
    throw err;
  }
  return app;
}

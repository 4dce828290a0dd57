/** Builds the Fastify app: plugins first, then routes. */
import Fastify, { type FastifyServerOptions } from 'fastify';
import security from './plugins/external/security.ts';
import registry from './plugins/app/registry.ts';
import health from './routes/health.ts';
import models from './routes/api/models.ts';
import staticFiles from './routes/static.ts';
import { DIST_DIR, REGISTRY_DIR, TAXONOMY_FILE } from '../node/paths.ts';

export interface AppOptions {
  distDir?: string;
  registryDir?: string;
  taxonomyFile?: string;
  logger?: FastifyServerOptions['logger'];
}

export async function buildApp(opts: AppOptions = {}) {
  const distDir = opts.distDir ?? DIST_DIR;
  const registryDir = opts.registryDir ?? REGISTRY_DIR;
  const app = Fastify({ logger: opts.logger ?? { level: process.env.LOG_LEVEL ?? 'info' }, bodyLimit: 1024 * 1024 });
  await app.register(security);
  await app.register(registry, { registryDir });
  await app.register(health, { distDir });
  await app.register(models);
  await app.register(staticFiles, { distDir, registryDir, taxonomyFile: opts.taxonomyFile ?? TAXONOMY_FILE });
  return app;
}

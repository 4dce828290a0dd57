/**
 * Server settings from the environment, checked once at start so a typo
 * fails loudly instead of running with a silent default.
 */
import path from 'node:path';
import { REPO_ROOT } from '../node/paths.ts';

export interface ServerConfig {
  /** Where the SQLite file lives when DATABASE_URL is unset. */
  dataDir: string;
  databaseUrl?: string;
  databaseSchema?: string;
  /** null: the admin API answers 503. */
  adminToken: string | null;
  /** Requests per minute per client address on /v1/. */
  rateLimitMax: number;
}

export const DEFAULT_RATE_LIMIT_MAX = 600;
/** A bearer token shorter than this is guessable. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const rateText = env.RATE_LIMIT_MAX?.trim();
  const rateLimitMax = rateText ? Number(rateText) : DEFAULT_RATE_LIMIT_MAX;
  if (!Number.isInteger(rateLimitMax) || rateLimitMax < 1) {
    throw new Error(`RATE_LIMIT_MAX must be a whole number of requests per minute, at least 1 (got "${env.RATE_LIMIT_MAX}")`);
  }
  const adminToken = env.ADMIN_TOKEN?.trim() || null;
  if (adminToken !== null && adminToken.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new Error(`ADMIN_TOKEN is ${adminToken.length} characters; use at least ${MIN_ADMIN_TOKEN_LENGTH} (e.g. \`openssl rand -hex 32\`)`);
  }
  return {
    // Relative DATA_DIR is taken from where the server was started, as usual
    // for paths in the environment; the default sits in the repo (ignored by git).
    dataDir: env.DATA_DIR ? path.resolve(env.DATA_DIR) : path.join(REPO_ROOT, 'data'),
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    databaseSchema: env.DATABASE_SCHEMA?.trim() || undefined,
    adminToken,
    rateLimitMax,
  };
}

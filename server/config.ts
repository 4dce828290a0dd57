/**
 * Server settings from the environment, checked once at start so a typo
 * fails loudly instead of running with a silent default.
 */
import path from 'node:path';
import { REPO_ROOT } from '../node/paths.ts';
import { DEFAULT_DAILY_CORRECTION_CAP } from './storage/types.ts';

export interface ServerConfig {
  /** Where the SQLite file lives when DATABASE_URL is unset. */
  dataDir: string;
  databaseUrl?: string;
  databaseSchema?: string;
  /** null: the admin API answers 503. */
  adminToken: string | null;
  /** Requests per minute per client address on /v1/. */
  rateLimitMax: number;
  /** HMAC key for install tokens; null: one generated once and kept in the store. */
  installSecret: string | null;
  /** New install credentials per client address per hour (POST /v1/installs). */
  installsPerHour: number;
  /** Corrections per install per UTC day that count for anything. */
  dailyCorrectionCap: number;
  /**
   * Proxies whose X-Forwarded-For is believed (Fastify's trustProxy: addresses
   * or CIDRs, comma-separated); false: the socket's address is the client's.
   * Only ever the proxies in front of this server: a client can write any
   * X-Forwarded-For it likes.
   */
  trustProxy: string | false;
}

export const DEFAULT_RATE_LIMIT_MAX = 600;
export const DEFAULT_INSTALLS_PER_HOUR = 20;
/** An HMAC key shorter than this is guessable. */
export const MIN_INSTALL_SECRET_LENGTH = 32;

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number, what: string): number {
  const text = env[name]?.trim();
  const n = text ? Number(text) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of ${what}, at least 1 (got "${env[name]}")`);
  return n;
}
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
  const installSecret = env.INSTALL_SECRET?.trim() || null;
  if (installSecret !== null && installSecret.length < MIN_INSTALL_SECRET_LENGTH) {
    throw new Error(
      `INSTALL_SECRET is ${installSecret.length} characters; use at least ${MIN_INSTALL_SECRET_LENGTH} (e.g. \`openssl rand -hex 32\`), or leave it unset to have one generated and kept in the store`,
    );
  }
  return {
    // Relative DATA_DIR is taken from where the server was started, as usual
    // for paths in the environment; the default sits in the repo (ignored by git).
    dataDir: env.DATA_DIR ? path.resolve(env.DATA_DIR) : path.join(REPO_ROOT, 'data'),
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    databaseSchema: env.DATABASE_SCHEMA?.trim() || undefined,
    adminToken,
    rateLimitMax,
    installSecret,
    installsPerHour: positiveInt(env, 'INSTALLS_PER_HOUR', DEFAULT_INSTALLS_PER_HOUR, 'new installs per client address per hour'),
    dailyCorrectionCap: positiveInt(env, 'CORRECTIONS_PER_INSTALL_DAY', DEFAULT_DAILY_CORRECTION_CAP, 'corrections per install per day'),
    trustProxy: trustProxyFrom(env.TRUST_PROXY),
  };
}

/** TRUST_PROXY: the proxies' addresses or CIDRs; "true" is refused, since it would believe any client. */
function trustProxyFrom(text: string | undefined): string | false {
  const value = text?.trim();
  if (!value) return false;
  if (/^(true|\*|0\.0\.0\.0\/0|::\/0)$/i.test(value)) {
    throw new Error(`TRUST_PROXY=${value} would believe any client's X-Forwarded-For (and so its rate limits and network); list the proxies' addresses, e.g. TRUST_PROXY=127.0.0.1`);
  }
  return value;
}

/**
 * Install credentials: the server issues each install a random id and a
 * token signed with HMAC-SHA256, and only takes events from a valid,
 * unrevoked token. So an install id can no longer be made up by a client,
 * and each one costs a request that is limited per client address.
 *
 * The key is INSTALL_SECRET when set (every instance of a deployment must
 * share it), otherwise one generated once and kept in the store, which all
 * instances on one database share too. Client networks are kept only as a
 * salted hash of the address prefix (/24 for IPv4, /48 for IPv6): enough to
 * tell "50 installs from one network" from 50 people, never the address.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { INSTALL_AUTH_SCHEME, type InstallAuthError, type InstallCredential } from '../../../core/api/installs.ts';
import { HttpError } from './errors.ts';

export const TOKEN_KEY_SECRET = 'install-token-key';
export const NETWORK_SALT_SECRET = 'network-salt';

/** The network part of an address: IPv4 /24, IPv6 /48 (IPv4-mapped IPv6 as IPv4). */
export function addressPrefix(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? mapped[1] : address;
  if (isIPv4(ip)) return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIPv6(ip)) return `${ipv6Groups(ip).slice(0, 3).join(':')}::/48`;
  return `other:${ip}`;
}

/** The eight groups of an IPv6 address, "::" expanded, leading zeros dropped. */
function ipv6Groups(ip: string): string[] {
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  return [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t].map((g) => g.replace(/^0+(?=.)/, ''));
}

/** What per-address limits count by: an IPv4 address, or an IPv6 /64 (IPv4-mapped IPv6 as IPv4). */
export function rateLimitKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? mapped[1] : address;
  return isIPv6(ip) ? `${ipv6Groups(ip).slice(0, 4).join(':')}::/64` : ip;
}

export interface VerifiedInstall {
  installId: string;
  issuedAt: string;
  revoked: boolean;
}

export interface InstallCredentials {
  /** A new install for a client at `address`. */
  issue(address: string, now?: Date): Promise<InstallCredential>;
  /** The install behind an Authorization header; throws a 401 HttpError when it is missing, forged, unknown or (unless allowRevoked) revoked. */
  verify(authorization: string | undefined, opts?: { allowRevoked?: boolean }): Promise<VerifiedInstall>;
  /** Salted hash of an address's network prefix. */
  networkHash(address: string): string;
  /** Salted hash of what per-address limits count by (rateLimitKey): how install_issues names a client without its address. */
  addressKey(address: string): string;
  /** A signed token for an install id (used by issue; exposed for tests of forged tokens). */
  sign(installId: string, issuedAt: Date): string;
}

declare module 'fastify' {
  interface FastifyInstance {
    installCredentials: InstallCredentials;
  }
  interface FastifyRequest {
    install?: VerifiedInstall;
  }
}

const deny = (label: InstallAuthError, message: string) => new HttpError(401, label, message);

export default fp(
  async (app: FastifyInstance, opts: { secret?: string | null }) => {
    const key = opts.secret || (await app.store.installs.secret(TOKEN_KEY_SECRET, () => randomBytes(32).toString('base64url')));
    const salt = await app.store.installs.secret(NETWORK_SALT_SECRET, () => randomBytes(32).toString('base64url'));

    const mac = (installId: string, issuedAtSec: number) => createHmac('sha256', key).update(`v1|${installId}|${issuedAtSec}`).digest();
    const sign = (installId: string, issuedAt: Date) => {
      const sec = Math.floor(issuedAt.getTime() / 1000);
      return `v1.${installId}.${sec}.${mac(installId, sec).toString('base64url')}`;
    };
    const salted = (text: string) => createHash('sha256').update(`${salt}|${text}`).digest('hex').slice(0, 32);
    const networkHash = (address: string) => salted(addressPrefix(address));
    // A prefix of its own, so an address key never equals a network hash.
    const addressKey = (address: string) => salted(`address|${rateLimitKey(address)}`);

    const service: InstallCredentials = {
      sign,
      networkHash,
      addressKey,
      async issue(address, now = new Date()) {
        const installId = randomUUID();
        await app.store.installs.issue({ installId, issuedAt: now, networkHash: networkHash(address) });
        return { installId, token: sign(installId, now), issuedAt: now.toISOString() };
      },
      async verify(authorization, o = {}) {
        const match = authorization ? new RegExp(`^${INSTALL_AUTH_SCHEME}\\s+(\\S+)\\s*$`, 'i').exec(authorization) : null;
        if (!match) {
          throw deny('install token required', `send the install token as "Authorization: ${INSTALL_AUTH_SCHEME} <token>"; get one from POST /v1/installs`);
        }
        const parts = match[1].split('.');
        const sec = Number(parts[2]);
        // Compared as text: base64url has several spellings of the same bytes, and only ours is a token.
        const given = parts.length === 4 && parts[0] === 'v1' ? Buffer.from(parts[3]) : null;
        const want = given && Number.isInteger(sec) ? Buffer.from(mac(parts[1], sec).toString('base64url')) : null;
        if (!given || !want || given.length !== want.length || !timingSafeEqual(given, want)) {
          throw deny('install token invalid', 'the install token is not one this server issued; get a new one from POST /v1/installs');
        }
        let row;
        try {
          row = await app.store.installs.get(parts[1]);
        } catch (err) {
          app.log.error({ err }, 'could not read an install credential');
          throw new HttpError(503, 'storage unavailable', 'the feedback store could not check this install; nothing was stored, send it again later');
        }
        if (!row) throw deny('install unknown', 'this install is not known here (its data may have been deleted); get a new one from POST /v1/installs');
        if (row.revoked_at !== null && !o.allowRevoked) {
          throw deny('install revoked', `this install was revoked (${row.revoked_reason ?? 'no reason given'}); its reports are no longer accepted`);
        }
        return { installId: row.install_id, issuedAt: row.issued_at, revoked: row.revoked_at !== null };
      },
    };
    app.decorate('installCredentials', service);
  },
  { name: 'install-credentials', dependencies: ['storage'] },
);

/** preHandler for routes that need an install token: sets req.install. */
export function requireInstall(app: FastifyInstance, opts: { allowRevoked?: boolean } = {}) {
  return async (req: FastifyRequest) => {
    req.install = await app.installCredentials.verify(req.headers.authorization, opts);
  };
}

/**
 * A token for `installId`, issuing the install (as of `issuedAt`, from
 * `address`) when the store does not know it yet. For tests and scenario
 * scripts that choose their own install ids and ages, which
 * POST /v1/installs never lets a client do.
 */
export async function installToken(app: FastifyInstance, installId: string, o: { issuedAt?: Date; address?: string } = {}): Promise<string> {
  const id = installId.toLowerCase();
  const known = await app.store.installs.get(id);
  const issuedAt = known ? new Date(known.issued_at) : (o.issuedAt ?? new Date());
  if (!known) await app.store.installs.issue({ installId: id, issuedAt, networkHash: app.installCredentials.networkHash(o.address ?? '127.0.0.1') });
  return app.installCredentials.sign(id, issuedAt);
}

/**
 * Privacy settings and the install credential, kept in IndexedDB.
 *
 * Anonymous reports are off until the user answers the first-run question
 * ('unasked' sends nothing). The install id and its token are issued by the
 * server (POST /v1/installs) the first time something is to be sent, so a
 * device that never sends anything never asks for one; resetting the
 * install id forgets the credential, and the next send gets a new one.
 */
import type { InstallCredential } from '../../core/api/installs.ts';
import { openAppDb } from '../storage/db.ts';

export type ReportsConsent = 'unasked' | 'granted' | 'declined';

export interface PrivacySettings {
  /** Whether to send an anonymous report of each identification. */
  reports: ReportsConsent;
  /** Issued by the server the first time something was sent; null before that and after a reset. */
  credential: InstallCredential | null;
  /**
   * Random, made here and never sent: picks this device's sticky rollout
   * bucket, so a device that reports nothing still has one.
   */
  rolloutSeed: string;
  /**
   * Credentials this device used before a reset: kept (on the device only) so
   * "Delete my data" can still delete what was sent under them.
   */
  pastCredentials: InstallCredential[];
}

const KEY = 'privacy';

/**
 * Settings saved by an older version ({ installId, shareReports: true })
 * were never a user's answer, and their id was never issued by the server:
 * ask again, and get a credential when needed.
 */
function upgrade(stored: unknown): PrivacySettings | null {
  const s = stored as (Partial<PrivacySettings> & { installId?: string }) | undefined;
  if (!s) return null;
  // The old self-made install id already placed this device in rollouts: keep its bucket.
  const rolloutSeed = s.rolloutSeed ?? s.installId ?? crypto.randomUUID();
  if (s.reports !== 'unasked' && s.reports !== 'granted' && s.reports !== 'declined') return { reports: 'unasked', credential: null, rolloutSeed, pastCredentials: [] };
  return { reports: s.reports, credential: s.credential ?? null, rolloutSeed, pastCredentials: s.pastCredentials ?? [] };
}

export async function getSettings(): Promise<PrivacySettings> {
  const db = await openAppDb();
  const raw = await db.get('settings', KEY);
  const stored = upgrade(raw);
  if (stored && (raw as Partial<PrivacySettings>).rolloutSeed) return stored;
  const fresh: PrivacySettings = stored ?? { reports: 'unasked', credential: null, rolloutSeed: crypto.randomUUID(), pastCredentials: [] };
  // An older version queued reports without asking: none of them may leave before the answer.
  const tx = db.transaction(['settings', 'outbox'], 'readwrite');
  if (raw && !(raw as Partial<PrivacySettings>).reports) await tx.objectStore('outbox').clear();
  await tx.objectStore('settings').put(fresh, KEY);
  await tx.done;
  return fresh;
}

async function save(next: PrivacySettings): Promise<PrivacySettings> {
  await (await openAppDb()).put('settings', next, KEY);
  return next;
}

export async function setReportsConsent(reports: Exclude<ReportsConsent, 'unasked'>): Promise<PrivacySettings> {
  return save({ ...(await getSettings()), reports });
}

export async function setCredential(credential: InstallCredential | null): Promise<PrivacySettings> {
  return save({ ...(await getSettings()), credential });
}

/** A new install id from the next send on; the old credential is kept only so its data can still be deleted. */
export async function retireCredential(): Promise<PrivacySettings> {
  const current = await getSettings();
  const past = current.credential ? [...current.pastCredentials, current.credential] : current.pastCredentials;
  return save({ ...current, credential: null, pastCredentials: past });
}

/** After their data was deleted: forget them all. */
export async function forgetCredentials(): Promise<PrivacySettings> {
  return save({ ...(await getSettings()), credential: null, pastCredentials: [] });
}

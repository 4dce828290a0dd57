/**
 * Privacy settings and the install id, kept in IndexedDB. The install id is
 * random (never derived from the device) and the user can reset it; sharing
 * anonymous identification reports can be switched off.
 */
import { openAppDb } from '../storage/db.ts';

export interface PrivacySettings {
  installId: string;
  shareReports: boolean;
}

const KEY = 'privacy';

export async function getSettings(): Promise<PrivacySettings> {
  const db = await openAppDb();
  const stored = (await db.get('settings', KEY)) as PrivacySettings | undefined;
  if (stored) return stored;
  const fresh: PrivacySettings = { installId: crypto.randomUUID(), shareReports: true };
  await db.put('settings', fresh, KEY);
  return fresh;
}

export async function updateSettings(change: Partial<Omit<PrivacySettings, 'installId'>>): Promise<PrivacySettings> {
  const next = { ...(await getSettings()), ...change };
  await (await openAppDb()).put('settings', next, KEY);
  return next;
}

/** A new random install id: later reports cannot be linked to earlier ones. */
export async function resetInstallId(): Promise<PrivacySettings> {
  const next = { ...(await getSettings()), installId: crypto.randomUUID() };
  await (await openAppDb()).put('settings', next, KEY);
  return next;
}

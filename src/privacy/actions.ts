/** What the privacy switches do: consent, a new install id, deleting this install's data on the server. */
import type { DeleteInstallResult } from '../../core/api/installs.ts';
import { authorization } from '../telemetry/credential.ts';
import { clearOutbox } from '../telemetry/outbox.ts';
import { getSettings, setCredential, setReportsConsent } from '../telemetry/settings.ts';

/** The user's answer; "no" also drops whatever was waiting to be sent. */
export async function answerReports(choice: 'granted' | 'declined'): Promise<void> {
  await setReportsConsent(choice);
  if (choice === 'declined') await clearOutbox();
}

/** Forgets the install credential and what was queued under it: later reports cannot be linked to earlier ones. */
export async function resetInstall(): Promise<void> {
  await setCredential(null);
  await clearOutbox();
}

/**
 * Deletes everything this install sent from the server, then starts afresh
 * here. null: this device never sent anything, so there is nothing there.
 */
export async function deleteMyData(): Promise<DeleteInstallResult['deleted'] | null> {
  const { credential } = await getSettings();
  if (!credential) {
    await clearOutbox();
    return null;
  }
  let res: Response;
  try {
    res = await fetch('/v1/installs/me', { method: 'DELETE', headers: { Authorization: authorization(credential) } });
  } catch {
    throw new Error('the server could not be reached; nothing was deleted. Try again when online.');
  }
  // 401: the server does not know this install any more (already deleted): nothing of it is there.
  if (res.status === 401) {
    await resetInstall();
    return { events: 0, corrections: 0, photos: 0 };
  }
  if (!res.ok) throw new Error(`the server answered ${res.status}; nothing was deleted. Try again later.`);
  const body = await res.json() as DeleteInstallResult;
  await resetInstall();
  return body.deleted;
}

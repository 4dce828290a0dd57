/** What the privacy switches do: consent, a new install id, deleting this device's data on the server. */
import { Value } from '@sinclair/typebox/value';
import { DeleteInstallResultSchema, type DeleteInstallResult, type InstallCredential } from '../../core/api/installs.ts';
import { authorization } from '../telemetry/credential.ts';
import { clearOutbox } from '../telemetry/outbox.ts';
import { forgetCredentials, getSettings, retireCredential, setReportsConsent } from '../telemetry/settings.ts';

/** The user's answer; "no" also drops whatever was waiting to be sent. */
export async function answerReports(choice: 'granted' | 'declined'): Promise<void> {
  await setReportsConsent(choice);
  if (choice === 'declined') await clearOutbox();
}

/**
 * Later reports cannot be linked to earlier ones: the next send gets a new
 * install id, and what was queued under the old one is dropped. The old
 * credential stays on the device so "Delete my data" can still reach it.
 */
export async function resetInstall(): Promise<void> {
  await clearOutbox();
  await retireCredential();
}

type Counts = DeleteInstallResult['deleted'];

async function deleteOne(c: InstallCredential): Promise<Counts> {
  let res: Response;
  try {
    res = await fetch('/v1/installs/me', { method: 'DELETE', headers: { Authorization: authorization(c) } });
  } catch {
    throw new Error('the server could not be reached; nothing was deleted. Try again when online.');
  }
  if (res.status === 401) {
    const label = ((await res.json().catch(() => null)) as { error?: string } | null)?.error;
    // Only "unknown" means there is nothing of it there (deleted before); any other refusal leaves the data in place.
    if (label === 'install unknown') return { events: 0, corrections: 0, photos: 0 };
    throw new Error(`the server refused this device's credential (${label ?? 'unauthorized'}); nothing was deleted.`);
  }
  if (!res.ok) throw new Error(`the server answered ${res.status}; nothing was deleted. Try again later.`);
  const body: unknown = await res.json().catch(() => null);
  // The credentials are only forgotten on an answer that says what was deleted.
  if (!Value.Check(DeleteInstallResultSchema, body)) throw new Error("the server's answer did not say what it deleted; this device keeps its ids so you can try again.");
  return body.deleted;
}

/**
 * Deletes everything this device sent from the server, under its current
 * and any earlier install id. The outbox is held (Web Locks) and emptied
 * first, so no send in flight slips in under a new credential. null: this
 * device never sent anything, so there is nothing there.
 */
export async function deleteMyData(): Promise<Counts | null> {
  const run = async (): Promise<Counts | null> => {
    await clearOutbox();
    const { credential, pastCredentials } = await getSettings();
    const all = [...pastCredentials, ...(credential ? [credential] : [])];
    if (!all.length) return null;
    const total: Counts = { events: 0, corrections: 0, photos: 0 };
    for (const c of all) {
      const n = await deleteOne(c);
      total.events += n.events;
      total.corrections += n.corrections;
      total.photos += n.photos;
    }
    await forgetCredentials();
    return total;
  };
  return navigator.locks ? navigator.locks.request('wildsight-outbox', run) : run();
}

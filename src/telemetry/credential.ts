/**
 * The install credential the outbox sends with: read from the settings, or
 * asked of the server (POST /v1/installs) the first time there is something
 * to send. One request at a time per tab, so a burst of flushes asks once.
 */
import { Value } from '@sinclair/typebox/value';
import { INSTALL_AUTH_SCHEME, InstallCredentialSchema, type InstallCredential } from '../../core/api/installs.ts';
import { getSettings, setCredential } from './settings.ts';

let asking: Promise<InstallCredential | null> | null = null;

/** The credential, asking the server for one when there is none; null when the server could not be reached or said no. */
export function ensureCredential(): Promise<InstallCredential | null> {
  asking ??= (async () => {
    const current = (await getSettings()).credential;
    if (current) return current;
    try {
      const res = await fetch('/v1/installs', { method: 'POST' });
      if (res.status !== 201) return null;
      // Checked before it is kept: a reply of another shape would be refused on every send after it.
      const credential: unknown = await res.json();
      if (!Value.Check(InstallCredentialSchema, credential)) return null;
      await setCredential(credential);
      return credential;
    } catch {
      return null;
    }
  })().finally(() => {
    asking = null;
  });
  return asking;
}

export const authorization = (c: InstallCredential) => `${INSTALL_AUTH_SCHEME} ${c.token}`;

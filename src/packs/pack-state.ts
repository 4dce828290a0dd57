/**
 * The species packs on this device, as the page knows them: their registry
 * entries (kept in IndexedDB, so identification offline still knows which
 * packs it may run and how to feed them), download progress, and the
 * download / remove actions, which the worker carries out and verifies.
 */
import type { SpeciesPack } from '../../core/manifest.ts';
import { inference, MANIFEST_URL } from '../inference/client.ts';
import { openAppDb } from '../storage/db.ts';

const KEY = 'species-packs';

export interface PacksState {
  installed: SpeciesPack[];
  /** The pack being downloaded, with its progress. */
  progress: { id: string; loaded: number; total: number } | null;
  error: string | null;
  loaded: boolean;
}

let state: PacksState = { installed: [], progress: null, error: null, loaded: false };
const listeners = new Set<() => void>();
const set = (patch: Partial<PacksState>) => {
  state = { ...state, ...patch };
  listeners.forEach((l) => l());
};
export const subscribePacks = (l: () => void) => {
  listeners.add(l);
  return () => {
    listeners.delete(l);
  };
};
export const getPacks = () => state;

let loading: Promise<SpeciesPack[]> | null = null;

/** The installed packs (read once from IndexedDB). */
export function installedPacks(): Promise<SpeciesPack[]> {
  loading ??= (async () => {
    try {
      const kept = (await (await openAppDb()).get('settings', KEY)) as SpeciesPack[] | undefined;
      set({ installed: kept ?? [], loaded: true });
    } catch {
      set({ loaded: true });
    }
    return state.installed;
  })();
  return loading.then(() => state.installed);
}

async function keep(installed: SpeciesPack[]) {
  set({ installed });
  await (await openAppDb()).put('settings', installed, KEY);
}

/** Downloads a pack through the worker (sha256 verified, kept in the Cache API), then records it. */
export async function downloadPack(pack: SpeciesPack): Promise<void> {
  set({ progress: { id: pack.id, loaded: 0, total: pack.bytes }, error: null });
  try {
    const url = new URL(pack.file, new URL(MANIFEST_URL, location.href)).href;
    await inference.downloadPack(pack, url, (loaded, total) => set({ progress: { id: pack.id, loaded, total } }));
    await keep([...(await installedPacks()).filter((p) => p.id !== pack.id), pack]);
  } catch (err) {
    set({ error: `${pack.title} could not be downloaded: ${(err as Error)?.message ?? String(err)}` });
  } finally {
    set({ progress: null });
  }
}

/** Deletes a pack's bytes from the device and forgets it. */
export async function removePack(pack: SpeciesPack): Promise<void> {
  try {
    await inference.removePack(pack);
    await keep((await installedPacks()).filter((p) => p.id !== pack.id));
  } catch (err) {
    set({ error: `${pack.title} could not be removed: ${(err as Error)?.message ?? String(err)}` });
  }
}

/**
 * The species packs on this device, as the page knows them: their registry
 * entries (kept in IndexedDB, so identification offline still knows which
 * packs it may run and how to feed them), download progress, and the
 * download / remove actions, which the worker carries out and verifies.
 */
import type { SpeciesPack } from '../../core/manifest.ts';
import type { ServedPack } from '../../core/api/models.ts';
import { inference, MANIFEST_URL } from '../inference/client.ts';
import { whenIdle } from '../model/engine-sync.ts';
import { openAppDb } from '../storage/db.ts';

const KEY = 'species-packs';

export interface PacksState {
  installed: SpeciesPack[];
  /** The pack being downloaded, with its progress. */
  progress: { id: string; loaded: number; total: number } | null;
  error: string | null;
  loaded: boolean;
  /** Per pack id, the version this device should run (pack-updates.ts), as last heard from the server. */
  chosen: Record<string, ServedPack>;
}

let state: PacksState = { installed: [], progress: null, error: null, loaded: false, chosen: {} };
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
export const setChosenPacks = (chosen: Record<string, ServedPack>) => set({ chosen });

/**
 * The entry the device keeps for a pack it holds. The server's status (a
 * canary too) says which version to run, which pack-updates.ts decides; on
 * the device the version it holds is the one it runs.
 */
export function onDevice(p: ServedPack | SpeciesPack): SpeciesPack {
  return { ...p, status: 'active' };
}

const urlOf = (pack: SpeciesPack) => new URL(pack.file, new URL(MANIFEST_URL, location.href)).href;

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
export async function downloadPack(served: ServedPack | SpeciesPack): Promise<void> {
  const pack = onDevice(served);
  set({ progress: { id: pack.id, loaded: 0, total: pack.bytes }, error: null });
  try {
    await inference.downloadPack(pack, urlOf(pack), (loaded, total) => set({ progress: { id: pack.id, loaded, total } }));
    await keep([...(await installedPacks()).filter((p) => p.id !== pack.id), pack]);
  } catch (err) {
    set({ error: `${pack.title} could not be downloaded: ${(err as Error)?.message ?? String(err)}` });
  } finally {
    set({ progress: null });
  }
}

/**
 * Moves a pack the device holds to another version: downloads and verifies
 * it in the background while the old one keeps answering, switches between
 * identifications (the next identification reads the new entry), and only
 * then deletes the old bytes. On any failure the old version stays.
 */
export async function updatePack(old: SpeciesPack, served: ServedPack): Promise<boolean> {
  const next = onDevice(served);
  try {
    await inference.downloadPack(next, urlOf(next), (loaded, total) => set({ progress: { id: next.id, loaded, total } }));
    await whenIdle();
    await keep([...(await installedPacks()).filter((p) => p.id !== old.id), next]);
  } catch (err) {
    set({ error: `${old.title} ${next.version} could not be downloaded; ${old.version} stays: ${(err as Error)?.message ?? String(err)}` });
    return false;
  } finally {
    set({ progress: null });
  }
  if (old.sha256 !== next.sha256) await inference.removePack(old).catch(() => false);
  return true;
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

/**
 * Model updates on the device, the one entry the page uses. When online the
 * app reads GET /v1/models, works out which version this device should run
 * (the sticky rollout bucket of its install id and the rollout id,
 * core/rollout.ts), downloads that version in the background and verifies
 * it (download.ts), keeps the previous version for offline rollback and
 * switches only between identifications (switch.ts); then follows the
 * shadow candidate (shadow.ts) and each downloaded species pack's rollout
 * (../packs/pack-updates.ts). Each step runs after the one before
 * (serial), so two reads of /v1/models never race.
 *
 * The pieces: update-state.ts (what is kept and shown), boot.ts (the
 * start-up decision), engine-sync.ts (busy and loaded, from the engine).
 */
import { getSettings } from '../telemetry/settings.ts';
import { loadedEngine } from './engine-sync.ts';
import { boot } from './boot.ts';
import { fetchVersion } from './download.ts';
import { switchTo } from './switch.ts';
import { syncShadow } from './shadow.ts';
import { syncPacks } from '../packs/pack-updates.ts';
import { assign, entryOf, getState, persist, set, type ServedModels } from './update-state.ts';

export { BUCKETS } from '../../core/rollout.ts';
export { assign, entryOf, getState, subscribe } from './update-state.ts';
export type { Assignment, ModelStatus, Progress, Refusal, ServedModels, ServedVersion, ShadowStats, UpdaterState } from './update-state.ts';
export { boot, fetchModels, MODELS_KEY, MODELS_URL, takeBootServed } from './boot.ts';
export { engineLoaded, setBusy } from './engine-sync.ts';
export { INTEGRITY_RETRY_MS } from './download.ts';
export { recordShadow } from './shadow.ts';

let queue: Promise<unknown> = Promise.resolve();
const serial = <T>(work: () => Promise<T>): Promise<T> => {
  const next = queue.then(work, work);
  queue = next.catch(() => undefined);
  return next;
};

/** A fresh read of /v1/models: assign, download, verify, switch; and the shadow candidate. */
export function onServed(served: ServedModels): Promise<void> {
  return serial(async () => {
    await boot();
    if (getState().pinnedByUrl) return;
    const info = await loadedEngine();
    const { rolloutSeed } = await getSettings();
    const assignment = assign(served, rolloutSeed);
    let pin = getState().pin;
    if (pin && !(pin.fromVersion === assignment.version && pin.rolloutId === assignment.rolloutId)) pin = null;
    set({ served, assignment, pin });
    // A first start ran whatever the boot chose; remember it as the current version.
    if (!getState().current) {
      const running = served.versions.find((v) => v.version === info.version);
      if (running) set({ current: entryOf(running) });
    }
    await persist();

    const wantedVersion = pin ? pin.version : assignment.version;
    const wanted = served.versions.find((v) => v.version === wantedVersion);
    const current = getState().current;
    if (wanted && !(current?.version === wanted.version && current.sha256 === wanted.sha256)) {
      const entry = entryOf(wanted);
      if (await fetchVersion(entry, 'update')) await switchTo(entry);
    }
    await syncShadow(served);
    // Species packs on the device follow their own rollouts, with the same seed (failures stay on the packs' list).
    await syncPacks(served, rolloutSeed);
  });
}

/** The user's (or an operator's) offline rollback: run the previous version kept on the device. */
export function rollBackOnDevice(): Promise<boolean> {
  return serial(async () => {
    const { previous: prev, current: cur } = getState();
    if (!prev || !cur) return false;
    if (!(await switchTo(prev))) return false;
    set({ pin: { version: prev.version, fromVersion: cur.version, rolloutId: getState().assignment?.rolloutId ?? null } });
    await persist();
    return true;
  });
}

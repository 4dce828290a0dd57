/**
 * Species packs follow their rollouts like the base model: on each read of
 * GET /v1/models, every pack this device holds is moved to the version its
 * sticky bucket picks (core/pack-rollout.ts: the canary or the control while
 * the pack has a running canary, else the active version), downloaded and
 * verified in the background and switched between identifications
 * (pack-state.ts updatePack). Packs the device does not hold are only
 * offered, at the version it would get.
 */
import { choosePackVersion } from '../../core/pack-rollout.ts';
import type { ModelsView, ServedPack } from '../../core/api/models.ts';
import { installedPacks, setChosenPacks, updatePack } from './pack-state.ts';

export async function syncPacks(served: ModelsView, installId: string): Promise<void> {
  const offered = served.packs ?? [];
  const chosen: Record<string, ServedPack> = {};
  for (const id of new Set(offered.map((p) => p.id))) {
    const choice = choosePackVersion(id, offered, served.packRollouts?.[id], installId);
    if (choice) chosen[id] = choice.pack;
  }
  setChosenPacks(chosen);
  for (const have of await installedPacks()) {
    const want = chosen[have.id];
    if (want && !(want.version === have.version && want.sha256 === have.sha256)) await updatePack(have, want);
  }
}

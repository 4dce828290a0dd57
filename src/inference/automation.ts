/**
 * window.__wildsight: a small hook for the eval CLI and benchmarks to drive
 * the real app's worker from Playwright, with the same options the page uses.
 */
import { inference } from './client.ts';
import { boot } from '../model/updater.ts';
import { downloadPack, getPacks, installedPacks } from '../packs/pack-state.ts';
import type { ModelsView } from '../../core/api/models.ts';
// The hook's type and its place on Window live apart, so the harness can see them without the app.
export type { AutomationHook } from './automation-hook.ts';

export function installAutomationHook() {
  window.__wildsight = {
    // The same options the page runs with (the device's assigned version, or ?model=), so both share one engine.
    init: async () => inference.init(await boot()),
    classifyBytes: async (bytes, name, opts) => (await inference.identify(new Blob([bytes as BlobPart]), name, opts)).item,
    downloadPack: async (id) => {
      const served = (await (await fetch('/v1/models')).json()) as ModelsView;
      // The version this device would get (its rollout arm, once the updater heard the server), else the active one.
      const pack = getPacks().chosen[id] ?? served.packs?.find((p) => p.id === id && p.status === 'active');
      if (!pack) throw new Error(`the server offers no species pack ${id}`);
      await downloadPack(pack);
      const kept = (await installedPacks()).find((p) => p.id === id);
      if (!kept) throw new Error(getPacks().error ?? `species pack ${id} was not kept`);
      return kept;
    },
    classifyBatchBytes: async (photos, batchSize, opts) =>
      (
        await inference.classifyBatch(
          photos.map((p) => ({ blob: new Blob([p.bytes as BlobPart]), name: p.name })),
          { ...opts, batchSize },
        )
      ).items,
    classifyBatchAbortable: (photos, batchSize, signal) =>
      inference.classifyBatch(
        photos.map((p) => ({ blob: new Blob([p.bytes as BlobPart]), name: p.name })),
        { batchSize, signal },
      ),
    release: () => inference.release(),
    stats: () => inference.stats(),
  };
}

/**
 * window.__wildsight: a small hook for the eval CLI and benchmarks to drive
 * the real app's worker from Playwright, with the same options the page uses.
 */
import { inference } from './client.ts';
import type { BridgeStats } from './bridge.ts';
import { boot } from '../model/updater.ts';
import type { BatchItem, BatchOutcome, ClassifyOptions, ClassifyResult, EngineInfo, PhotoFailure } from '../../workers/inference/types.ts';

export interface AutomationHook {
  init(): Promise<EngineInfo>;
  classifyBytes(bytes: Uint8Array, name: string): Promise<ClassifyResult | PhotoFailure>;
  classifyBatchBytes(photos: Array<{ bytes: Uint8Array; name: string }>, batchSize: number, opts?: ClassifyOptions): Promise<BatchItem[]>;
  /** The same, stopped by the signal: what the worker finished, and whether it was cancelled. */
  classifyBatchAbortable(photos: Array<{ bytes: Uint8Array; name: string }>, batchSize: number, signal: AbortSignal): Promise<BatchOutcome>;
  /** Lets the worker go as an idle period would; stats() says what the next call's restart cost. */
  release(): void;
  stats(): BridgeStats;
}

declare global {
  interface Window { __wildsight?: AutomationHook }
}

export function installAutomationHook() {
  window.__wildsight = {
    // The same options the page runs with (the device's assigned version, or ?model=), so both share one engine.
    init: async () => inference.init(await boot()),
    classifyBytes: async (bytes, name) => (await inference.identify(new Blob([bytes as BlobPart]), name)).item,
    classifyBatchBytes: async (photos, batchSize, opts) =>
      (await inference.classifyBatch(photos.map((p) => ({ blob: new Blob([p.bytes as BlobPart]), name: p.name })), { ...opts, batchSize })).items,
    classifyBatchAbortable: (photos, batchSize, signal) =>
      inference.classifyBatch(photos.map((p) => ({ blob: new Blob([p.bytes as BlobPart]), name: p.name })), { batchSize, signal }),
    release: () => inference.release(),
    stats: () => inference.stats(),
  };
}

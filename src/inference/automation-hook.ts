/**
 * The type of window.__wildsight (installed by ./automation.ts). Kept in a
 * file of its own that imports only types, so the Playwright harness
 * (tsconfig.harness.json: e2e, bench, eval) can type its page.evaluate
 * callbacks without checking the whole app under Node's types.
 */
import type { BatchItem, BatchOutcome, ClassifyOptions, ClassifyResult, EngineInfo, PhotoFailure } from '../../workers/inference/types.ts';
import type { BridgeStats } from './bridge.ts';
import type { SpeciesPack } from '../../core/manifest.ts';

export interface AutomationHook {
  init(): Promise<EngineInfo>;
  /** opts as the page passes them: packs on the device (the base answer routes to one), or the pack to run whatever it says. */
  classifyBytes(bytes: Uint8Array, name: string, opts?: ClassifyOptions): Promise<ClassifyResult | PhotoFailure>;
  /** Downloads a species pack offered by /v1/models as the Model page does; its registry entry. */
  downloadPack(id: string): Promise<SpeciesPack>;
  classifyBatchBytes(photos: Array<{ bytes: Uint8Array; name: string }>, batchSize: number, opts?: ClassifyOptions): Promise<BatchItem[]>;
  /** The same, stopped by the signal: what the worker finished, and whether it was cancelled. */
  classifyBatchAbortable(photos: Array<{ bytes: Uint8Array; name: string }>, batchSize: number, signal: AbortSignal): Promise<BatchOutcome>;
  /** Lets the worker go as an idle period would; stats() says what the next call's restart cost. */
  release(): void;
  stats(): BridgeStats;
}

declare global {
  interface Window {
    __wildsight?: AutomationHook;
  }
}

/**
 * The type of window.__wildsight (installed by ./automation.ts). Kept in a
 * file of its own that imports only types, so the Playwright harness
 * (tsconfig.harness.json: e2e, bench, eval) can type its page.evaluate
 * callbacks without checking the whole app under Node's types.
 */
import type { BatchItem, BatchOutcome, ClassifyOptions, ClassifyResult, EngineInfo, PhotoFailure } from '../../workers/inference/types.ts';
import type { BridgeStats } from './bridge.ts';

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

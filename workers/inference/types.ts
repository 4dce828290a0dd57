/** What the inference worker offers the page (through comlink). */
import type { Prediction } from '../../core/postprocess.ts';

export type Backend = 'webgpu' | 'wasm';
export type BackendChoice = Backend | 'auto';

export interface EngineOptions {
  /** Where the registry manifest is served; model files are resolved against it. */
  manifestUrl: string;
  version?: string;
  backend?: BackendChoice;
  /** WASM threads; defaults to what cross-origin isolation and the cores allow. */
  threads?: number;
  /** Run one inference on a blank input so the first photo is not the slow one. */
  warmUp?: boolean;
}

export interface EngineInfo {
  version: string;
  backend: Backend;
  /** Why the first choice was not used, when it was not. */
  fallbackReason: string | null;
  threads: number;
  crossOriginIsolated: boolean;
  loadMs: number;
  warmUpMs: number | null;
  /** Where the model bytes came from this time. */
  modelSource: 'device' | 'network';
  /** Things the user should be told (a damaged copy replaced, storage full, an older version used). */
  notices: string[];
  labels: number;
  embeddingSize: number;
  maxBatch: number | null;
}

export interface Timings {
  decodeMs: number;
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
  totalMs: number;
}

export interface ClassifyResult extends Prediction {
  version: string;
  backend: Backend;
  embedding: Float32Array;
  timings: Timings;
  width: number;
  height: number;
  /** A small JPEG for history, when asked for. */
  thumbnail?: Blob;
}

export interface ClassifyOptions {
  thumbnails?: boolean;
}

export interface PhotoFailure {
  error: { code: string; message: string };
}

export type BatchItem = ClassifyResult | PhotoFailure;

export const isFailure = (x: BatchItem): x is PhotoFailure => 'error' in x;

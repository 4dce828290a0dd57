/** What the inference worker offers the page (through comlink). */
import type { Prediction } from '../../core/postprocess.ts';
import type { ModelVersion } from '../../core/manifest.ts';
import type { ShadowResult } from '../../core/telemetry.ts';
import type { SpeciesPack } from '../../core/manifest.ts';
import type { PackRun } from './packs.ts';

export type { PackRun };

export type { ShadowResult };

export type Backend = 'webgpu' | 'wasm';
export type BackendChoice = Backend | 'auto';

export interface EngineOptions {
  /** Where the registry manifest is served; model files are resolved against it. */
  manifestUrl: string;
  version?: string;
  /**
   * The exact version to run (its manifest entry, as assigned by the rollout):
   * the manifest is then not fetched, so this works offline from the device's copy.
   */
  model?: ModelVersion;
  /** Versions kept on the device to fall back to when `model` cannot be loaded. */
  fallbacks?: ModelVersion[];
  backend?: BackendChoice;
  /** WASM threads; defaults to what cross-origin isolation and the cores allow. */
  threads?: number;
  /** Run one inference on a blank input so the first photo is not the slow one. */
  warmUp?: boolean;
  /**
   * How the WASM runtime is compiled: 'bytes' hands onnxruntime-web the
   * verified bytes (WebAssembly.instantiate, compiled afresh on every start);
   * 'streaming' lets it instantiateStreaming the stored copy's URL, which the
   * service worker answers from the Cache API, so V8 may reuse the code it
   * cached for that response. bench:pwa compares the two.
   */
  runtimeCompile?: 'bytes' | 'streaming';
}

export interface EngineInfo {
  version: string;
  backend: Backend;
  /** Why the first choice was not used, when it was not. */
  fallbackReason: string | null;
  threads: number;
  crossOriginIsolated: boolean;
  loadMs: number;
  /** When each part of the load had finished, in ms since it began (they overlap: all but the session run in parallel). */
  loadPhases: LoadPhases;
  warmUpMs: number | null;
  /** Where the model bytes came from this time. */
  modelSource: 'device' | 'network';
  /** Things the user should be told (a damaged copy replaced, storage full, an older version used). */
  notices: string[];
  labels: number;
  embeddingSize: number;
  maxBatch: number | null;
}

export interface LoadPhases {
  taxonomyMs: number;
  /** The model's bytes, from the device's cache or the network, sha256 verified. */
  modelMs: number;
  /** The backend picked and onnxruntime-web's JavaScript imported. */
  runtimeMs: number;
  /** The session created: the WASM runtime fetched, compiled and started (its threads too), then the graph optimized. */
  sessionMs: number;
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
  /** The model's logits over its labels (what an observation of several photos fuses). */
  logits?: Float32Array;
  timings: Timings;
  width: number;
  height: number;
  /** How a photo far bigger than the model needs was decoded small: by the JPEG decoder's own DCT scaling, or by resizing. */
  decodedBy?: 'jpeg-dct' | 'resize';
  /** A small JPEG for history, when asked for. */
  thumbnail?: Blob;
  /** The species pack's answer, when one ran on the photo (the base answer above stays as it was). */
  pack?: PackRun;
  /** Why the pack chosen for the photo could not answer (the base answer stands). */
  packError?: string;
}

export interface ClassifyOptions {
  thumbnails?: boolean;
  /** Species packs on the device: the base answer's roll-up picks one of them (single photos only). */
  packs?: SpeciesPack[];
  /** Run this pack whatever the base answer (the user said "It's a bird"). */
  pack?: string;
}

export interface PhotoFailure {
  /** A PhotoError's code for a bad photo; 'run-error' when the model itself failed; 'internal' otherwise. */
  error: { code: string; message: string };
  /** The version whose run failed (run-error only). */
  version?: string;
}

export type BatchItem = ClassifyResult | PhotoFailure;

/** A batch as far as it went: every photo the worker worked on, in order; cancelled when it stopped early. */
export interface BatchOutcome {
  items: BatchItem[];
  cancelled: boolean;
}

/** One photo's answer, and whether the shadow candidate was sampled on it. */
export interface Identification {
  item: ClassifyResult | PhotoFailure;
  shadowSampled: boolean;
}

export const isFailure = (x: BatchItem): x is PhotoFailure => 'error' in x;

/** The shadow candidate the worker holds, if any. */
export interface ShadowInfo {
  version: string;
  sampleRate: number;
}

/** One live preview frame's answer (workers/inference/live-frame.ts). */
export interface LiveFrame {
  top5: Array<{ taxonId: string; commonName: string; probability: number }>;
  otherProbability: number;
  version: string;
  /** Variance of the Laplacian at live-frame.ts's SHARPNESS_SIDE. */
  sharpness: number;
  /** The frame as a JPEG, only when it was sharper than the caller's keepAbove. */
  photo?: Blob;
  width: number;
  height: number;
  /** Worker time spent on the frame, by step; totalMs is what a frame costs the device. */
  timings: { preprocessMs: number; inferenceMs: number; sharpnessMs: number; photoMs: number; totalMs: number };
}

/**
 * The inference worker: everything heavy (decoding, resampling, the model)
 * happens here so the page never freezes. Exposed to the page with comlink.
 */
import * as Comlink from 'comlink';
import { interpret } from '../../core/postprocess.ts';
import { PhotoError } from '../../core/photo-check.ts';
import { Engine } from './engine.ts';
import { bitmapToTensor, decodePhoto, shareableJpeg, thumbnailOf } from './photo-tensor.ts';
import { downloadModel, isStored } from './model-store.ts';
import type { ModelVersion } from '../../core/manifest.ts';
import { MAX_TIMING_MS } from '../../core/telemetry.ts';
import { shadowKey, type BatchItem, type ClassifyOptions, type ClassifyResult, type EngineInfo, type EngineOptions, type PhotoFailure, type ShadowInfo, type ShadowResult } from './types.ts';

let engine: Engine | null = null;
let engineKey = '';
/** The engine being loaded or loaded last, with the options it was asked for. */
let loading: { key: string; promise: Promise<Engine> } | null = null;

function failure(err: unknown): PhotoFailure {
  if (err instanceof PhotoError) return { error: { code: err.code, message: err.message } };
  return { error: { code: 'internal', message: `Identification failed: ${(err as Error)?.message ?? String(err)}` } };
}

function ready(): Engine {
  if (!engine) throw new Error('the model is not loaded yet');
  return engine;
}

export interface NamedPhoto { blob: Blob | ImageBitmap; name?: string }

/**
 * Shadow evaluation: a candidate version, loaded beside the answering one,
 * runs on a sample of single-photo identifications in idle time, on the very
 * tensor the answering model saw. Its answer is never shown; only agreement
 * and latency are kept, until the page takes them for the telemetry event.
 */
let shadow: { engine: Engine; sampleRate: number; credit: number; key: string } | null = null;
let shadowLoading: Promise<unknown> = Promise.resolve();
const shadowResults = new Map<string, Promise<ShadowResult | null>>();
const MAX_PENDING_SHADOWS = 20;
/** Identifications that failed inside the model, per version, until the next report takes them. */
const failures = new Map<string, number>();

const sameInput = (a: ModelVersion['input'], b: ModelVersion['input']) =>
  a.size === b.size && a.resizeShorter === b.resizeShorter && a.scale === b.scale && a.layout === b.layout && a.channels === b.channels
  && a.mean.every((m, i) => m === b.mean[i]) && a.std.every((m, i) => m === b.std[i]);

const idle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function runShadow(tensor: Float32Array, primary: ClassifyResult): Promise<ShadowResult | null> {
  const sh = shadow;
  if (!sh) return null;
  await idle();
  const model = sh.engine.model;
  const t0 = performance.now();
  try {
    const out = await sh.engine.run(tensor, 1);
    const prediction = interpret(out.logits.subarray(0, model.labels.length), model.labels, sh.engine.taxa, { abstainThreshold: model.abstainThreshold });
    const mine = new Set(primary.top5.map((x) => x.taxonId));
    return {
      modelVersion: model.version,
      top1Agree: prediction.top5[0]?.taxonId === primary.top5[0]?.taxonId,
      top5Overlap: Math.min(5, prediction.top5.filter((x) => mine.has(x.taxonId)).length),
      inferenceMs: Math.min(MAX_TIMING_MS, out.ms),
      failed: false,
    };
  } catch {
    return { modelVersion: model.version, top1Agree: false, top5Overlap: 0, inferenceMs: Math.min(MAX_TIMING_MS, performance.now() - t0), failed: true };
  }
}

const api = {
  /**
   * Loads a model version. Asking again with the same options returns the
   * same engine (the page and automation may both ask); other options load a
   * new engine after the current load ends, then release the old one.
   */
  async init(opts: EngineOptions): Promise<EngineInfo> {
    const key = JSON.stringify(opts);
    if (loading?.key === key) return (await loading.promise).info;
    if (engine && engineKey === key) return engine.info;
    const before = loading?.promise.catch(() => null) ?? Promise.resolve(null);
    const promise = before.then(async () => {
      const next = await Engine.create(opts);
      const previous = engine;
      engine = next;
      engineKey = key;
      await previous?.release();
      return next;
    });
    loading = { key, promise };
    try {
      return (await promise).info;
    } finally {
      if (loading?.promise === promise) loading = null;
    }
  },

  /** The photo re-encoded without metadata and at most 1024 px, for an opt-in share. */
  shareablePhoto(blob: Blob): Promise<{ dataBase64: string; width: number; height: number }> {
    return shareableJpeg(blob);
  },

  info(): EngineInfo | null {
    return engine?.info ?? null;
  },

  /** Identifies one photo; a bad photo comes back as { error } with a message for people. */
  async classify(blob: Blob | ImageBitmap, name?: string, opts: ClassifyOptions = {}): Promise<ClassifyResult | PhotoFailure> {
    let kept: Float32Array | null = null;
    const [item] = await classifyPhotos([{ blob, name }], 1, undefined, opts, (tensor) => { kept = tensor; });
    const sh = shadow;
    if (sh && kept && !('error' in item) && sameInput(sh.engine.model.input, (engine ?? ready()).model.input)) {
      sh.credit += sh.sampleRate;
      if (sh.credit >= 1) {
        sh.credit -= 1;
        shadowResults.set(shadowKey(item), runShadow(kept, item));
        while (shadowResults.size > MAX_PENDING_SHADOWS) shadowResults.delete(shadowResults.keys().next().value!);
      }
    }
    return item;
  },

  /** Downloads (or finds on the device) a version, verifies it and keeps it; progress through a comlink proxy. */
  async download(model: ModelVersion, url: string, onProgress?: (loaded: number, total: number) => void): Promise<'device' | 'network'> {
    return downloadModel(model, url, onProgress);
  },

  isStored(model: ModelVersion): Promise<boolean> {
    return isStored(model);
  },

  /** Loads (or replaces, or with null drops) the shadow candidate. */
  async setShadow(opts: EngineOptions | null, sampleRate = 0): Promise<ShadowInfo | null> {
    const key = opts ? JSON.stringify(opts) : '';
    const work = shadowLoading.then(async () => {
      if (shadow && shadow.key === key) {
        shadow.sampleRate = sampleRate;
        return;
      }
      const old = shadow;
      shadow = null;
      await old?.engine.release().catch(() => {});
      if (!opts) return;
      // One thread and no warm-up: the shadow must not slow the answering model down.
      const eng = await Engine.create({ ...opts, threads: 1, warmUp: false, backend: 'wasm' });
      if (eng.model.version !== opts.model?.version) {
        await eng.release();
        throw new Error(`shadow candidate ${opts.model?.version} is not on this device`);
      }
      shadow = { engine: eng, sampleRate, credit: 1, key };
    });
    shadowLoading = work.catch(() => undefined);
    await work;
    return shadow ? { version: shadow.engine.model.version, sampleRate: shadow.sampleRate } : null;
  },

  /** The shadow result of one identification (waits for it), once; null when it was not sampled. */
  async takeShadow(key: string): Promise<ShadowResult | null> {
    const pending = shadowResults.get(key);
    if (!pending) return null;
    shadowResults.delete(key);
    return pending;
  },

  /** Failed identifications of this version since the last call. */
  takeErrors(version: string): number {
    const n = failures.get(version) ?? 0;
    failures.delete(version);
    return n;
  },

  /**
   * Identifies many photos, batchSize at a time in one tensor. Each photo
   * that cannot be read reports its own error; the others go on. onProgress
   * (a comlink proxy) hears after each batch; returning false cancels the rest.
   */
  async classifyBatch(photos: NamedPhoto[], batchSize = 8, onProgress?: (done: number, total: number) => boolean | void | Promise<boolean | void>, opts: ClassifyOptions = {}): Promise<BatchItem[]> {
    return classifyPhotos(photos, batchSize, onProgress, opts);
  },
};

/** classifyBatch, with a hook that sees each batch's input tensor (the shadow reuses it). */
async function classifyPhotos(photos: NamedPhoto[], batchSize: number, onProgress: ((done: number, total: number) => boolean | void | Promise<boolean | void>) | undefined, opts: ClassifyOptions, onTensor?: (tensor: Float32Array) => void): Promise<BatchItem[]> {
    const eng = loading ? await loading.promise : ready();
    const { model } = eng;
    const s = model.input.size;
    const per = 3 * s * s;
    const size = Math.max(1, Math.min(batchSize, model.input.maxBatch ?? batchSize));
    const results: BatchItem[] = [];
    for (let start = 0; start < photos.length; start += size) {
      const chunk = photos.slice(start, start + size);
      const tensor = new Float32Array(per * chunk.length);
      const slots: Array<{ at: number; decodeMs: number; preprocessMs: number; width: number; height: number; decodedBy?: ClassifyResult['decodedBy']; thumbnail?: Blob } | PhotoFailure> = [];
      let filled = 0;
      for (const photo of chunk) {
        try {
          const { bitmap, ms: decodeMs, width, height, decodedBy } = await decodePhoto(photo.blob, photo.name, model.input);
          const preprocessMs = bitmapToTensor(bitmap, model.input, tensor, filled * per);
          const thumbnail = opts.thumbnails ? await thumbnailOf(bitmap) : undefined;
          slots.push({ at: filled++, decodeMs, preprocessMs, width, height, decodedBy, thumbnail });
          if (!(photo.blob instanceof ImageBitmap)) bitmap.close();
        } catch (err) {
          slots.push(failure(err));
        }
      }
      let out: Awaited<ReturnType<Engine['run']>> | null = null;
      let runError: PhotoFailure | null = null;
      if (filled) {
        try {
          const input = filled === chunk.length ? tensor : tensor.subarray(0, filled * per);
          out = await eng.run(input, filled);
          onTensor?.(input);
        } catch (err) {
          runError = failure(err);
          failures.set(model.version, (failures.get(model.version) ?? 0) + filled);
        }
      }
      const L = model.labels.length;
      const E = model.outputs.embeddingSize;
      for (const slot of slots) {
        if ('error' in slot) { results.push(slot); continue; }
        if (!out) { results.push(runError!); continue; }
        const p0 = performance.now();
        const prediction = interpret(out.logits.subarray(slot.at * L, (slot.at + 1) * L), model.labels, eng.taxa, { abstainThreshold: model.abstainThreshold });
        const postprocessMs = performance.now() - p0;
        const inferenceMs = out.ms / filled;
        results.push({
          ...prediction,
          version: model.version,
          backend: eng.info.backend,
          embedding: out.embeddings.slice(slot.at * E, (slot.at + 1) * E),
          width: slot.width,
          height: slot.height,
          ...(slot.decodedBy ? { decodedBy: slot.decodedBy } : {}),
          thumbnail: slot.thumbnail,
          timings: {
            decodeMs: slot.decodeMs,
            preprocessMs: slot.preprocessMs,
            inferenceMs,
            postprocessMs,
            totalMs: slot.decodeMs + slot.preprocessMs + inferenceMs + postprocessMs,
          },
        });
      }
      if (onProgress && (await onProgress(results.length, photos.length)) === false) break;
    }
    return results;
}

export type InferenceApi = typeof api;

Comlink.expose(api);
